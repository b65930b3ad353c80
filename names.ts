// The names the program gives what it creates inside PostgreSQL: its roles, the standbys'
// physical slots, a migration's publication, subscriptions and slots. Each is a plain SQL word
// (lower case, digits, underscores), so that it needs no quoting in a conf file or a conninfo.
// Changing one here renames a live object: the old one would be left behind.

/** What the program's own objects start with (but the replication role, named before the prefix). */
export const NAME_PREFIX = "pgr_";

/** The superuser role the postgresql provider logs in with (bootstrapped over SSH). */
export const ADMIN_ROLE = `${NAME_PREFIX}admin`;
/** The role standbys stream WAL with. */
export const REPLICATION_ROLE = "replicator";
/** The pg_monitor role the preview identity logs in with at plan time (observe/identity.ts). */
export const PREVIEW_ROLE = `${NAME_PREFIX}preview`;
/** The role the source logs in with to follow the target after a cutover (migrate/wayBack.ts). */
export const WAY_BACK_ROLE = `${NAME_PREFIX}wayback`;

/** The roles a host's plan-time observation reports on (observe/hosts.ts). */
export const OBSERVED_ROLES = [ADMIN_ROLE, REPLICATION_ROLE, PREVIEW_ROLE];

/** The repository host's account through which the stack `reader` reads (never writes) a stanza's backups. */
export const readerAccount = (reader: string) => `pgr-read-${reader}`;

/** A member's physical replication slot on the leader. */
export const slotName = (host: string) => `${NAME_PREFIX}${host.replace(/-/g, "_")}`;

export interface MigrationNames {
  /** On the source. */
  publication: string;
  /** On the target; its slot on the source has the same name. */
  subscription: string;
  /** The way back: the publication and slot on the target, the subscription on the source. */
  wayBack: string;
}

/** The names a migration of the source database `m.source.database` gives its objects. */
export function migrationNames(m: { source: { database: string } }): MigrationNames {
  const base = `${NAME_PREFIX}${m.source.database.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}`.slice(0, 50);
  return { publication: `${base}_pub`, subscription: `${base}_sub`, wayBack: `${base}_back` };
}
