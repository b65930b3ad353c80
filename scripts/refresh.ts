// make refresh FROM=production TO=staging [AT='2026-12-02 10:15:00+00'] [CLUSTER=main]: TO's cluster
// gets FROM's data out of FROM's backups, masked, and never touches FROM's hosts:
// 1. refuses a production TO, a TO that is not healthy, an AT outside FROM's recovery window;
// 2. stops TO's standbys (nothing unmasked streams to them);
// 3. on TO's leader (host/refresh.sh): only the admin's lines open, FROM's backup restored in place
//    through TO's read-only account on FROM's repository host, TO's passwords, masking, reopened;
// 4. clears TO's standbys and runs `pulumi up` on TO, which copies the masked leader to them;
// 5. prints what each part took and what was masked.
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ClusterSpec, HostSpec, NAMESPACE, RefreshSpec, parseStackConfig } from "../config";
import { ADMIN_ROLE, PREVIEW_ROLE, REPLICATION_ROLE, readerAccount } from "../names";
import { findHostKey } from "../observe/knownHosts";
import { parseInfo, sshRun } from "../observe/backups";
import { healthOf } from "../promote/health";
import { isProductionStackName } from "../lib/stackNames";
import { knownLine } from "../render/backupScripts";
import { renderAdminOnlyHba } from "../render/pgHba";
import { renderRefreshLeaderScript, renderRefreshStandbyScript } from "../render/refresh";
import { scramVerifier } from "../render/scram";
import { RUN_SCRIPT_AS_ROOT } from "../render/sshCommands";
import { shellQuote } from "../render/quote";
import { createHash } from "node:crypto";
import { readBackupAccess } from "./backupAccess";
import { parseRestoreTarget } from "./restoreTarget";

const ROOT = process.env.PGR_PROJECT_DIR ?? path.resolve(__dirname, "..");
const say = (line: string) => process.stdout.write(`refresh: ${line}\n`);
class Refused extends Error {}
const env = (k: string) => process.env[k]?.trim() || undefined;

interface Target {
  spec: ClusterSpec & { refresh: RefreshSpec };
  secrets: Record<string, string | undefined>;
}

async function readTarget(to: Awaited<ReturnType<typeof LocalWorkspace.selectStack>>, cluster?: string): Promise<Target> {
  const all = await to.getAllConfig();
  const value = (k: string) => all[`${NAMESPACE}:${k}`];
  const json = (k: string) => (value(k) === undefined ? undefined : JSON.parse(value(k)!.value));
  const keys = Object.keys(all)
    .filter((k) => k.startsWith(`${NAMESPACE}:`))
    .map((k) => k.slice(NAMESPACE.length + 1));
  const secretNames = keys.filter((k) => value(k)!.secret);
  const stack = parseStackConfig(
    { clusters: json("clusters"), migration: json("migration"), protect: json("protect"), confirm: json("confirm"), keys },
    Object.fromEntries(keys.map((k) => [k, true])),
    new Set(secretNames),
  );
  const refreshed = stack.clusters.filter((c) => c.refresh && (!cluster || c.name === cluster));
  if (refreshed.length === 0)
    throw new Refused(
      `${to.name} has no cluster${cluster ? ` ${cluster}` : ""} with a refresh section (clusters[].refresh: from, keyPath, masking)`,
    );
  if (refreshed.length > 1) throw new Refused(`${to.name} refreshes ${refreshed.map((c) => c.name).join(", ")}: say which with CLUSTER=`);
  const secrets = Object.fromEntries(secretNames.map((k) => [k, value(k)!.value]));
  return { spec: refreshed[0] as Target["spec"], secrets };
}

const timed = async <T>(label: string, times: [string, number][], f: () => Promise<T>): Promise<T> => {
  const started = Date.now();
  const result = await f();
  times.push([label, (Date.now() - started) / 1000]);
  return result;
};

async function runScript(spec: ClusterSpec, host: HostSpec, script: string, timeoutMs: number): Promise<string> {
  const r = await sshRun(spec, host, RUN_SCRIPT_AS_ROOT, timeoutMs, script);
  process.stdout.write(r.out);
  if (r.code !== 0) throw new Error(r.err.trim().split("\n").pop() || `${host.name}: exit ${r.code}`);
  return r.out;
}

async function refresh(fromName: string, toName: string): Promise<void> {
  if (isProductionStackName(toName))
    throw new Refused(`${toName} is a production stack: a refresh replaces its data, and is refused there`);
  if (fromName === toName) throw new Refused("FROM and TO are the same stack");
  const at = env("AT");
  const target = at ? parseRestoreTarget({ at }) : undefined;
  const to = await LocalWorkspace.selectStack({ stackName: toName, workDir: ROOT });
  const { spec, secrets } = await readTarget(to, env("CLUSTER"));
  const r = spec.refresh;
  if (r.from !== fromName)
    throw new Refused(`${toName}'s cluster ${spec.name} refreshes from ${r.from} (clusters[].refresh.from), not ${fromName}`);
  const times: [string, number][] = [];

  // FROM's repository, as FROM's last update named it; FROM's hosts are never reached
  const access = readBackupAccess(fromName, r.cluster);
  const account = readerAccount(toName);
  const knownHosts = spec.ssh.knownHostsPath ? fs.readFileSync(spec.ssh.knownHostsPath, "utf8") : "";
  const hostKey = findHostKey(knownHosts, access.repository.address, access.repository.sshPort);
  if (!hostKey)
    throw new Refused(`no host key for ${fromName}'s repository host ${access.repository.address} in ${spec.ssh.knownHostsPath}`);
  const privateKey = fs.readFileSync(r.keyPath, "utf8");
  const readerSpec: ClusterSpec = { ...spec, ssh: { ...spec.ssh, user: account, privateKeyPath: r.keyPath } };
  const repoHost = { name: access.repository.name, address: access.repository.address, sshPort: access.repository.sshPort };
  const info = await sshRun(
    readerSpec,
    repoHost,
    // its own options alone: the host's conf.d may hold other stanzas' keys, which are not its to read
    `cd / && pgbackrest --config=/dev/null --repo1-path=${shellQuote(access.repository.path)} --log-level-file=off --log-level-console=warn --stanza=${shellQuote(access.stanza)} --output=json info`,
  );
  if (info.code !== 0)
    throw new Refused(
      `${account}@${access.repository.address} could not read stanza ${access.stanza}: ${info.err.trim().split("\n").pop()} (is ${toName} among ${fromName}'s backup.readers?)`,
    );
  const window = parseInfo(info.out, access.stanza);
  if (!window.earliest) throw new Refused(`${fromName}'s stanza ${access.stanza} has no backup yet (${window.status})`);
  if (target && (target.ms! < Date.parse(window.earliest) || target.ms! > Date.now()))
    throw new Refused(`AT ${target.value} is outside ${fromName}'s recovery window: from ${window.earliest} to now`);
  say(`${fromName}'s stanza ${access.stanza}, read through ${account}@${access.repository.address}: backups from ${window.earliest}`);

  const sick = await healthOf(to);
  if (sick.length > 0) throw new Refused(`${toName} is not healthy:\n  ${sick.join("\n  ")}`);
  say(`${toName} is healthy: every standby streaming`);

  const leader = spec.hosts.find((h) => h.name === spec.leader)!;
  const standbys = spec.hosts.filter((h) => h.name !== spec.leader && !h.down);
  await timed("standbys stopped", times, () =>
    Promise.all(standbys.map((h) => runScript(spec, h, renderRefreshStandbyScript(h.name, "stop"), 300_000))),
  );

  const password = (k: string) => secrets[k] ?? "";
  const leaderOut = await timed("leader restored, masked, reopened", times, () =>
    runScript(
      spec,
      leader,
      renderRefreshLeaderScript({
        host: leader.name,
        source: {
          stanza: access.stanza,
          address: access.repository.address,
          sshPort: access.repository.sshPort,
          account,
          path: access.repository.path,
          known: knownLine({ address: access.repository.address, sshPort: access.repository.sshPort, hostKey }),
          privateKey,
        },
        target: target ? { type: "time", time: target.value } : { type: "default" },
        adminHba: renderAdminOnlyHba(spec, ADMIN_ROLE),
        roles: {
          admin: scramVerifier(ADMIN_ROLE, password("adminPassword")),
          replication: scramVerifier(REPLICATION_ROLE, password("replicationPassword")),
          ...(spec.ssh.preview ? { preview: scramVerifier(PREVIEW_ROLE, password("previewPassword")) } : {}),
        },
        masking: r.masking,
        // the fakes' key: TO's own secret, so the same value masks the same way on every refresh of TO
        maskingKey: createHash("sha256")
          .update(`pg-replication masking\0${password("adminPassword")}`)
          .digest("hex"),
      }),
      6 * 3600_000,
    ),
  );

  await timed("standbys cleared", times, () =>
    Promise.all(standbys.map((h) => runScript(spec, h, renderRefreshStandbyScript(h.name, "clear"), 300_000))),
  );
  await timed(`${toName} updated (standbys copied from the leader)`, times, async () => {
    const up = await to.up({ onOutput: (o) => process.stderr.write(o) });
    say(`${toName} updated: ${JSON.stringify(up.summary.resourceChanges)}`);
  });

  say(`report of ${toName}'s cluster ${spec.name}, refreshed from ${fromName} (${target ? target.value : "its latest point"}):`);
  for (const line of leaderOut.split("\n").filter((l) => / masked |refreshed from|restored in|recovered and|needs attention/.test(l)))
    process.stdout.write(`  ${line.replace(/^pg-replication on [^:]+: /, "")}\n`);
  for (const [label, seconds] of times) process.stdout.write(`  ${label}: ${seconds.toFixed(1)} s\n`);
}

const from = env("FROM");
const toStack = env("TO");
if (!from || !toStack) {
  console.error("usage: make refresh FROM=<stack> TO=<stack> [AT='YYYY-MM-DD HH:MM:SS+00'] [CLUSTER=name]");
  process.exit(2);
}
refresh(from, toStack).catch((e) => {
  console.error(`refresh: ${e instanceof Refused ? "refused: " : ""}${(e as Error).message}`);
  process.exit(1);
});
