// The stack configuration's shape: what the program reads from `pulumi config` once it is valid
// (config/parse.ts), and the keys it knows at the top level.

export const NAMESPACE = "pg-replication";

export type SettingValue = string | number | boolean;

/** How the program's PostgreSQL connections use TLS (libpq's sslmode; prefer and allow are not offered). */
export const SSLMODES = ["disable", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSLMODES)[number];

export interface HostSpec {
  name: string;
  address: string;
  sshPort: number;
  /** Changing this value rebuilds the host's standby once (pg_basebackup into a fresh data directory). */
  rebuild?: string;
  /** The host is down (failover): nothing is run on it, and the others do not wait for it. */
  down?: boolean;
  /**
   * With down: the person running the failover has made sure this host cannot write (powered off,
   * isolated from the network): a leader change may go on while it cannot be reached to be stopped.
   */
  fenced?: boolean;
}

export interface ClientSpec {
  database: string;
  user: string;
  address: string;
}

export interface SshSpec {
  user: string;
  /** The deploy key's file; absent: the deploy key is taken from the SSH agent (SSH_AUTH_SOCK), never stored. */
  privateKeyPath?: string;
  knownHostsPath?: string;
  /** Go without pinned host keys (refused on a production stack): anyone between can pose as a host. */
  insecureSkipHostKeyCheck?: boolean;
  /** The preview identity: a user whose key the hosts restrict to the read-only observation. */
  preview?: {
    user: string;
    publicKeyPath: string;
    /** CIDRs a preview runs from (its key and its role are admitted from these alone); absent: adminAddresses. */
    from?: string[];
  };
}

/** The pgBackRest repository host: reached over SSH by the deploy user, its files owned by `user`. */
export interface RepoHostSpec {
  name: string;
  address: string;
  sshPort: number;
  /** Who owns the repository and runs pgBackRest there (Debian's package: postgres). */
  user: string;
  path: string;
}

/** An S3-compatible object store as a second repository (pgBackRest speaks HTTPS to it, verified). */
export interface S3RepoSpec {
  endpoint: string;
  port: number;
  bucket: string;
  region: string;
  uriStyle: "path" | "host";
  /** The folder of this cluster's repository inside the bucket. */
  path: string;
  /** The CA that signed the store's certificate (a file where `pulumi` runs), when not a public one. */
  caFile?: string;
}

/** Backups of a cluster with pgBackRest: WAL archived from every member, backups taken from a standby. */
/** Another stack's read-only access to this stanza's repository (a refresh of that stack from these backups). */
export interface BackupReaderSpec {
  /** The reading stack's name: the repository host's account is pgr-read-<name>. */
  name: string;
  /** An SSH public key (one line), read where `pulumi` runs. */
  publicKeyPath: string;
}

export interface BackupSpec {
  /** pgBackRest's name for the cluster's backups (default: the cluster's name); unique on its repository host. */
  stanza: string;
  repository: RepoHostSpec;
  /** Stacks that may read (never write) this repository: their refreshes restore from it. */
  readers: BackupReaderSpec[];
  /** A second repository in an object store: WAL and backups go to both. */
  s3?: S3RepoSpec;
  /** How many full and differential backups are kept (pgBackRest expires the rest and their WAL). */
  retention: { full: number; diff: number };
  /** systemd calendar events of the repository host's timers. */
  schedule: { full: string; diff: string };
  compression: "lz4" | "zst" | "gz" | "bz2" | "none";
  processMax: number;
  /** Past this much WAL waiting for the repository, a member drops it rather than fill its disk. */
  walQueueMax: string;
  fromStandby: boolean;
  /**
   * How a standby is rebuilt: copy (pg_basebackup of the whole leader) or delta (the latest backup
   * restored with --delta over the member's own files, then the archived WAL: only what differs moves).
   */
  standbyRebuild: "copy" | "delta";
}

/** How a masked column's values are replaced: deterministic fakes (the same input, the same output), null, or one value. */
export const MASKING_RULES = ["email", "name", "phone", "text", "hash", "null"] as const;
export type MaskingRule = (typeof MASKING_RULES)[number] | { constant: string };

export interface MaskingTable {
  database: string;
  schema: string;
  table: string;
  /** column → rule */
  columns: Record<string, MaskingRule>;
}

/** This cluster's data comes from another stack's backups (make refresh), masked before clients connect. */
export interface RefreshSpec {
  /** The stack whose backups are restored here. */
  from: string;
  /** That stack's cluster (default: this cluster's name). */
  cluster: string;
  /** The private key (where make refresh runs) of this stack's read-only account on that stack's repository host. */
  keyPath: string;
  masking: MaskingTable[];
}

export interface ClusterSpec {
  name: string;
  leader: string;
  /** Set for the target of a migration with a way back: its leader decodes WAL for the source. */
  logicalDecoding?: boolean;
  hosts: HostSpec[];
  port: number;
  sslmode: SslMode;
  /** The CA that signed the members' certificates (a file where `pulumi` runs): verify-ca and verify-full check with it, and so do the members. */
  sslRootCert?: string;
  ssh: SshSpec;
  adminAddresses: string[];
  /**
   * The admin role's client certificate and key (files where `pulumi up` runs, never in the
   * stack): the members ask for it beside the password, so the password alone logs in nowhere.
   */
  adminCertificate?: { cert: string; key: string };
  clients: ClientSpec[];
  settings: Record<string, SettingValue>;
  /** false: no computed tuning; otherwise overrides of the computed values. */
  tuning: false | Record<string, SettingValue>;
  backup?: BackupSpec;
  refresh?: RefreshSpec;
}

export const MIGRATION_PHASES = ["sync", "cutover", "revert", "complete"] as const;
export type MigrationPhase = (typeof MIGRATION_PHASES)[number];

export interface MigrationSpec {
  source: { address: string; port: number; database: string; user: string; sslmode: SslMode };
  target: { cluster: string; database: string };
  /** "schema.table"; empty: every table of the source database. */
  tables: string[];
  /** sync: publication, schema and subscription; cutover: the switch; complete: publication dropped. */
  phase: MigrationPhase;
  /** Added to every sequence copied at cutover (and at a revert). */
  sequenceMargin: number;
  /** Keep a way back after the cutover: the source follows the target until complete (or revert). */
  wayBack: boolean;
  /**
   * in-pause: counts and checksums inside the write pause (it grows with the data); after-switch
   * (the default with a way back): both right after the switch, on snapshots of both sides pinned
   * at the switch, several tables at once (the pause does not grow with the data).
   */
  checksums: "in-pause" | "after-switch";
}

export interface StackSpec {
  clusters: ClusterSpec[];
  migration?: MigrationSpec;
  /** Pulumi's `protect` on every data-bearing resource (lib/dataBearing.ts): production sets it. */
  protect: boolean;
  /** On a protected stack, the destructive steps this update may take ("leader CLUSTER HOST", "rebuild CLUSTER HOST", "cutover CLUSTER DATABASE"). */
  confirm: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Keys that must hold Pulumi secrets (`pulumi config set --secret KEY ...`). */
export const SECRET_KEYS = ["adminPassword", "replicationPassword"] as const;
/** Required only with a migration: the source user's password. */
export const MIGRATION_SECRET_KEY = "sourcePassword";
/** Required only with an S3 repository: its access key and secret key. */
export const S3_SECRET_KEYS = ["backupS3Key", "backupS3Secret"] as const;
/** Required only with a preview identity: the password of its pg_monitor role. */
export const PREVIEW_SECRET_KEY = "previewPassword";
export const TOP_LEVEL_KEYS = [
  "clusters",
  "migration",
  "protect",
  "confirm",
  ...SECRET_KEYS,
  MIGRATION_SECRET_KEY,
  PREVIEW_SECRET_KEY,
  ...S3_SECRET_KEYS,
];

export interface RawStackConfig {
  clusters?: unknown;
  migration?: unknown;
  protect?: unknown;
  confirm?: unknown;
  /** Every key set under the `pg-replication:` namespace, to catch typos. */
  keys?: string[];
}
