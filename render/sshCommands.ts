// The fixed commands the host steps run over SSH; what they act on comes on stdin.
import { shellQuote } from "./quote";

/** The command every host script is sent to; the script itself is its stdin. */
export const RUN_SCRIPT_AS_ROOT = "sudo -n bash -s";

/** The command that runs the SQL given on stdin as the local postgres superuser. */
export const RUN_SQL_AS_POSTGRES = "cd / && sudo -n -u postgres psql -w -X -q -v ON_ERROR_STOP=1 -d postgres";

/**
 * psql as the local postgres superuser, in database `db`, with `options`. The name goes to libpq
 * as PGDATABASE, which it never reads as connection settings, as it would read `-d 'host=…'`.
 */
export function psqlAsPostgres(db: string, options: string): string {
  return `cd / && sudo -n -u postgres env PGDATABASE=${shellQuote(db)} psql ${options}`;
}

/** The command that runs `sql` in database `db` as the local postgres superuser, its rows unaligned. */
export function sqlAsPostgres(db: string, sql: string): string {
  return `${psqlAsPostgres(db, "-X -A -t -q -v ON_ERROR_STOP=1")} -c ${shellQuote(sql)}`;
}

/**
 * The command that writes a passfile from stdin (mode 0600, owner postgres); `note` says why it
 * runs again. It runs as postgres, whose home holds the file: root writes nothing there, so a link
 * postgres planted leads nowhere it could not write already. The text goes into a new private file
 * (mktemp) renamed into place, which replaces a link at the passfile's name instead of following it.
 */
export function passfileCommand(path: string, note?: string): string {
  const write = `umask 077 && t=$(mktemp "$1.XXXXXX") && { cat > "$t" && mv -f "$t" "$1" || { rm -f "$t"; exit 1; }; }`;
  const command = `cd / && sudo -n -u postgres sh -c ${shellQuote(write)} sh ${shellQuote(path)}`;
  return note ? `${command} # ${note.replace(/[^A-Za-z0-9 ,.:-]/g, "")}` : command;
}

/** The SSH command that removes a passfile: the step that wrote it is over, or destroyed. */
export function removeFileCommand(path: string): string {
  return `sudo -n rm -f ${shellQuote(path)}`;
}

/**
 * The SSH command that writes the CA certificate from stdin where libpq looks for it
 * (~postgres/.postgresql/root.crt), as postgres: its home is postgres's, so nothing is written
 * through a link as root.
 */
export const ROOT_CERT_COMMAND =
  "cd / && sudo -n -u postgres sh -c 'umask 077 && mkdir -p ~/.postgresql && cat > ~/.postgresql/root.crt.new && mv -f ~/.postgresql/root.crt.new ~/.postgresql/root.crt'";

/** The SSH command that writes stdin to `path` as `user` (its folder is the user's), private to it. */
export function writeAsCommand(user: string, path: string): string {
  const write = `umask 077 && t=$(mktemp "$1.XXXXXX") && { cat > "$t" && mv -f "$t" "$1" || { rm -f "$t"; exit 1; }; }`;
  return `cd / && sudo -n -u ${shellQuote(user)} sh -c ${shellQuote(write)} sh ${shellQuote(path)}`;
}
