// What a test compares on a host before and after: the files this project could touch and when
// the server started; and what it waits for: a member streaming from a leader.
import { INCLUDE_PATH } from "../../render/postgresqlConf";
import { DATA_DIR, HBA_PATH, POSTGRESQL_CONF_PATH } from "../../postgres15";
import { STANDBY_INCLUDE_PATH } from "../../render/hostScripts";
import { TUNING_PATH } from "../../render/tuning";
import { strict as assert } from "node:assert";
import { host, psql, sshOk } from "./sandbox";

export const CONF_FILES = [HBA_PATH, INCLUDE_PATH, TUNING_PATH, STANDBY_INCLUDE_PATH, POSTGRESQL_CONF_PATH];

/** Checksums of the configuration files and the postmaster's start (its pid file's first lines). */
export function hostFingerprint(name: string): string {
  return sshOk(
    name,
    `sudo -n sh -c 'for f in ${CONF_FILES.join(" ")}; do if [ -e "$f" ]; then md5sum "$f"; else echo "absent $f"; fi; done; head -n 3 ${DATA_DIR}/postmaster.pid 2>/dev/null || echo stopped'`,
  );
}

/** When the server on `name` last started (changes with every restart). */
export function startTime(name: string): string {
  return sshOk(name, `sudo -n sed -n 3p ${DATA_DIR}/postmaster.pid`).trim();
}

/** The data directory's inode on `name`: a rebuild puts a new directory in place (a copy inside it would not). */
export function dataDirectory(name: string): string {
  return sshOk(name, `sudo -n stat -c %i ${DATA_DIR}`).trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, looking five times a second; fails with `what` after `seconds`. */
export async function eventually(what: string, check: () => boolean, seconds = 30): Promise<void> {
  for (let i = 0; i < seconds * 5; i++) {
    if (check()) return;
    await sleep(200);
  }
  assert.fail(`not within ${seconds} s: ${what}`);
}

/** Whether `member` streams from `leader` now. */
export const streamingFrom = (member: string, leader: string) =>
  psql(member, "select status || ' ' || sender_host from pg_stat_wal_receiver") === `streaming ${host(leader).address}`;

/** Whether `member` runs as a primary (pg_is_in_recovery() false). */
export const isPrimary = (member: string) => psql(member, "select pg_is_in_recovery()") === "f";
