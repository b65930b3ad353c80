// The scripts of the backup steps (host/backup-*.sh): each header is quoted values only.
import { hostScript } from "./hostScript";
import { isPublicKey } from "./previewAccess";
import { PGBACKREST_CONF_DIR } from "./pgbackrest";
import { fileFunction, sh } from "./sh";

/** A peer as the other side's known_hosts and authorized_keys name it. */
export interface BackupPeer {
  address: string;
  sshPort: number;
  /** "type base64", from the cluster's known_hosts. */
  hostKey: string;
}

const knownName = (p: BackupPeer) => (p.sshPort === 22 ? p.address : `[${p.address}]:${p.sshPort}`);
export const knownLine = (p: BackupPeer) => `${knownName(p)} ${p.hostKey}`;

/** The peer's pgBackRest key, allowed from its address only, with no forwarding and no terminal. */
export function authorizedFrom(publicKeyOutput: string, address: string): string {
  const line = publicKeyOutput
    .split("\n")
    .map((l) => l.trim())
    .find((l) => /^ssh-ed25519 /.test(l));
  if (!line || !isPublicKey(line)) throw new Error(`the backup key step printed no public key line: ${JSON.stringify(publicKeyOutput)}`);
  if (!/^[0-9A-Za-z.:-]+$/.test(address)) throw new Error(`not an address for from=: ${address}`);
  return `restrict,from="${address}" ${line}`;
}

export function renderBackupKeyScript(host: string, user: string): string {
  return hostScript("backup-key", host, "the SSH key pgBackRest uses", [sh`backup_user=${user}`]);
}

export interface MemberBackupScript {
  host: string;
  stanza: string;
  conf: string;
  /** The repository host's authorized line, and its known_hosts line. */
  authorized: string;
  known: string;
  /** The CA of the S3 store's certificate, when the cluster names one. */
  s3Ca?: string;
}

export function renderBackupMemberScript(s: MemberBackupScript): string {
  return hostScript("backup-member", s.host, `pgBackRest for stanza ${s.stanza}`, [
    sh`stanza=${s.stanza}`,
    sh`confd=${PGBACKREST_CONF_DIR}`,
    sh`authorized=${s.authorized}`,
    sh`known=${s.known}`,
    sh`s3_ca=${s.s3Ca ?? ""}`,
    fileFunction("pgbackrest_conf", s.conf),
  ]);
}

export interface RepositoryScript {
  host: string;
  stanza: string;
  user: string;
  path: string;
  conf: string;
  authorized: string[];
  known: string[];
  s3Ca?: string;
  /** systemd unit file name → its text. */
  units: Record<string, string>;
  /** Accounts that read the repository and nothing else, each with its one key. */
  readers: BackupReaderKey[];
}

export interface BackupReaderKey {
  account: string;
  key: string;
}

export function renderRepositoryScript(s: RepositoryScript): string {
  const names = Object.keys(s.units).sort();
  const cases = names.map((n) => `    ${sh`${n}`}) printf '%s' ${sh`${s.units[n]}`} ;;`);
  return hostScript("backup-repository", s.host, `the pgBackRest repository of stanza ${s.stanza}`, [
    sh`stanza=${s.stanza}`,
    sh`backup_user=${s.user}`,
    sh`repo_path=${s.path}`,
    sh`confd=${PGBACKREST_CONF_DIR}`,
    sh`authorized=${s.authorized.join("\n")}`,
    sh`known=${s.known.join("\n")}`,
    sh`units=(${names})`,
    sh`s3_ca=${s.s3Ca ?? ""}`,
    sh`readers=(${s.readers.map((r) => r.account)})`,
    sh`reader_keys=(${s.readers.map((r) => r.key)})`,
    fileFunction("pgbackrest_conf", s.conf),
    ["unit_file() {", "  case $1 in", ...cases, "  esac", "}"].join("\n"),
  ]);
}

/** `about` names what makes it run again (the members and the leader): a check after each change. */
export function renderStanzaScript(host: string, stanza: string, user: string, about: string): string {
  return hostScript("backup-stanza", host, `stanza ${stanza}: create and check`, [sh`stanza=${stanza}`, sh`backup_user=${user}`], about);
}
