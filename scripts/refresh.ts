// make refresh FROM=production TO=staging [AT='2026-12-02 10:15:00+00'] [CLUSTER=main]: TO's cluster
// gets FROM's data out of FROM's backups, masked, and never touches FROM's hosts:
// 1. refuses a production TO, a TO that is not healthy, an AT outside FROM's recovery window;
// 2. stops TO's standbys (nothing unmasked streams to them);
// 3. on TO's leader (host/refresh.sh): only the admin's lines open, FROM's backup restored in place
//    through TO's read-only account on FROM's repository host, TO's passwords, masking, reopened;
// 4. clears TO's standbys and runs `pulumi up` on TO, which copies the masked leader to them;
// 5. prints what each part took and what was masked.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { ClusterSpec } from "../config";
import { isProductionStackName } from "../lib/stackNames";
import { readerAccount } from "../names";
import { parseInfo, sshRun } from "../observe/backups";
import { findHostKey } from "../observe/knownHosts";
import { healthOf } from "../promote/health";
import { knownLine } from "../render/backupScripts";
import { shellQuote } from "../render/quote";
import { readBackupAccess } from "./backupAccess";
import { Refused, ownRoles, readClusterConfig, replaceClusterData } from "./clusterData";
import { parseRestoreTarget } from "./restoreTarget";

const ROOT = process.env.PGR_PROJECT_DIR ?? path.resolve(__dirname, "..");
const say = (line: string) => process.stdout.write(`refresh: ${line}\n`);
const env = (k: string) => process.env[k]?.trim() || undefined;

async function refresh(fromName: string, toName: string): Promise<void> {
  if (isProductionStackName(toName))
    throw new Refused(`${toName} is a production stack: a refresh replaces its data, and is refused there`);
  if (fromName === toName) throw new Refused("FROM and TO are the same stack");
  const at = env("AT");
  const target = at ? parseRestoreTarget({ at }) : undefined;
  const to = await LocalWorkspace.selectStack({ stackName: toName, workDir: ROOT });
  const { spec, secrets } = await readClusterConfig(
    to,
    (c) => !!c.refresh,
    "a refresh section (clusters[].refresh: from, keyPath, masking)",
    env("CLUSTER"),
  );
  const r = spec.refresh!;
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

  await replaceClusterData(to, spec, {
    times,
    source: {
      stanza: access.stanza,
      reader: {
        address: access.repository.address,
        sshPort: access.repository.sshPort,
        account,
        path: access.repository.path,
        known: knownLine({ address: access.repository.address, sshPort: access.repository.sshPort, hostKey }),
        privateKey,
      },
    },
    target: target ? { type: "time", value: target.value } : { type: "default" },
    roles: { ...ownRoles(spec, secrets), othersLoseLogin: true },
    masking: r.masking,
    // the fakes' key: TO's own secret, so the same value masks the same way on every refresh of TO
    maskingKey: createHash("sha256")
      .update(`pg-replication masking\0${secrets.adminPassword ?? ""}`)
      .digest("hex"),
    describe: `refreshed from ${fromName} (${target ? target.value : "its latest point"})`,
  });
}

const from = env("FROM");
const toStack = env("TO");
if (!from || !toStack) {
  console.error("usage: make refresh FROM=<stack> TO=<stack> [AT='YYYY-MM-DD HH:MM:SS+00'] [CLUSTER=name]");
  process.exit(2);
}
refresh(from, toStack).catch((e) => {
  console.error(`refresh: ${e instanceof Refused ? "refused: " : ""}${(e as Error).message}`);
  process.exitCode = 1;
});
