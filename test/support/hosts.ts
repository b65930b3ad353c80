// What a test compares on a host before and after: the files this project could touch and when
// the server started.
import { sshOk } from "./sandbox";

export const CONF_FILES = [
  "/etc/postgresql/15/main/pg_hba.conf",
  "/etc/postgresql/15/main/conf.d/pg-replication.conf",
  "/etc/postgresql/15/main/conf.d/pg-replication-tuning.conf",
  "/etc/postgresql/15/main/conf.d/pg-replication.standby.conf",
  "/etc/postgresql/15/main/postgresql.conf",
];

/** Checksums of the configuration files and the postmaster's start (its pid file's first lines). */
export function hostFingerprint(name: string): string {
  return sshOk(
    name,
    `sudo -n sh -c 'for f in ${CONF_FILES.join(" ")}; do if [ -e "$f" ]; then md5sum "$f"; else echo "absent $f"; fi; done; head -n 3 /var/lib/postgresql/15/main/postmaster.pid 2>/dev/null || echo stopped'`,
  );
}

/** When the server on `name` last started (changes with every restart). */
export function startTime(name: string): string {
  return sshOk(name, "sudo -n sed -n 3p /var/lib/postgresql/15/main/postmaster.pid").trim();
}
