// The resources whose delete or replace loses something a user has: roles (with their grants and
// passwords), databases, schemas, subscriptions (a new one copies every table again) and
// publications. Shared by the report, the `protect` switch and the policy pack.
export const DATA_BEARING_TYPES = [
  "postgresql:index/role:Role",
  "postgresql:index/database:Database",
  "postgresql:index/schema:Schema",
  "postgresql:index/subscription:Subscription",
  "postgresql:index/publication:Publication",
];

/** The ones `protect` covers: a publication is retained on delete instead, so a migration can let go of it. */
export const PROTECTED_TYPES = DATA_BEARING_TYPES.filter((t) => !t.endsWith(":Publication"));

export const isDataBearing = (type: string) => DATA_BEARING_TYPES.includes(type);
