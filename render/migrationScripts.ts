// Scripts the target cluster's leader receives for a migration (host/migration/, on stdin of
// `sudo -n bash -s`, like the host steps): the source's roles and schema copied into the target
// database, and the subscription created or altered in place, never dropped and re-created over
// rows it copied. The source's password stays in a passfile (mode 0600): neither argv, nor a
// setting, nor a log.
import { migrationScript } from "./hostScript";
import { POSTGRES_HOME } from "../postgres15";
import { conninfo, passfileField } from "./quote";
import { sh } from "./sh";

export const SOURCE_PASSFILE = `${POSTGRES_HOME}/.pg-replication-source.pgpass`;

export interface SourceAccess {
  host: string;
  address: string;
  port: number;
  database: string;
  user: string;
  sslmode: string;
}

/** A libpq connection string to the source that takes its password from the passfile. */
export function sourceConninfo(s: SourceAccess, applicationName: string): string {
  return conninfo({
    host: s.address,
    port: s.port,
    dbname: s.database,
    user: s.user,
    passfile: SOURCE_PASSFILE,
    // as configured: verify-ca and verify-full need the source's CA in ~postgres/.postgresql/root.crt
    // on the target leader, and the preflight from that leader says so when it is missing
    sslmode: s.sslmode,
    application_name: applicationName,
    connect_timeout: 10,
  });
}

/** The source's passfile line. */
export function renderSourcePassfile(s: SourceAccess, password: string): string {
  const f = passfileField;
  return `${f(s.address)}:${f(s.port)}:*:${f(s.user)}:${f(password)}\n`;
}

/** host/migration/schema-copy.sh: the roles the target lacks, and the schema into a database without tables. */
export function renderSchemaCopyScript(s: SourceAccess, targetDatabase: string): string {
  return migrationScript("schema-copy", s.host, [sh`src=${sourceConninfo(s, "pg-replication schema copy")}`, sh`db=${targetDatabase}`]);
}

export interface SubscriptionScript {
  source: SourceAccess;
  targetDatabase: string;
  publication: string;
  subscription: string;
  /** The tables published ("schema.table"), empty for all: a change reruns the step, which refreshes the subscription. */
  tables: string[];
  /** Published tables the subscription lacked at plan time: named, so that the step runs for them. */
  unsubscribed?: string[];
}

/** host/migration/subscription.sh: the subscription, created once and altered in place after. */
export function renderSubscriptionScript(s: SubscriptionScript): string {
  return migrationScript("subscription", s.source.host, [
    sh`db=${s.targetDatabase}`,
    sh`src=${sourceConninfo(s.source, "pg-replication subscription")}`,
    sh`conn=${sourceConninfo(s.source, s.subscription)}`,
    sh`subscription=${s.subscription}`,
    sh`publication=${s.publication}`,
    sh`published=${s.tables.length > 0 ? [...s.tables].sort().join(" ") : "all tables"}`,
    ...(s.unsubscribed?.length ? [sh`unsubscribed=${[...s.unsubscribed].sort().join(" ")}`] : []),
  ]);
}
