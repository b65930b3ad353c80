// Reads the stack's configuration and wires one PostgresCluster per configured cluster.
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, NAMESPACE, SECRET_KEYS, findHostKey, parseStackConfig } from "./config";
import { PostgresCluster } from "./components/cluster";

// Internal to the SDK but stable: whether `pulumi config` holds a key as a secret.
const { isConfigSecret } = require("@pulumi/pulumi/runtime/config") as { isConfigSecret(key: string): boolean };

const config = new pulumi.Config(NAMESPACE);
const present = Object.fromEntries(SECRET_KEYS.map((k) => [k, pulumi.runtime.getConfig(`${NAMESPACE}:${k}`) !== undefined]));
const secretKeys = new Set(SECRET_KEYS.filter((k) => isConfigSecret(`${NAMESPACE}:${k}`)));
const spec = parseStackConfig({ clusters: config.getObject<unknown>("clusters") }, present, secretKeys);

function readConfiguredFile(key: string, path: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([`${NAMESPACE}:${key}: cannot read ${path}: ${(e as Error).message}`]);
  }
}

const clusters = spec.clusters.map((cluster, i) => {
  const key = `clusters[${i}].ssh`;
  const knownHosts = cluster.ssh.knownHostsPath ? readConfiguredFile(`${key}.knownHostsPath`, cluster.ssh.knownHostsPath) : undefined;
  const hostKeys = Object.fromEntries(
    cluster.hosts.map((h, hi) => {
      const hostKey = knownHosts === undefined ? undefined : findHostKey(knownHosts, h.address, h.sshPort);
      if (knownHosts !== undefined && hostKey === undefined) {
        throw new ConfigError([
          `${NAMESPACE}:clusters[${i}].hosts[${hi}].address: no host key for ${h.address} in ${cluster.ssh.knownHostsPath}`,
        ]);
      }
      return [h.name, hostKey];
    }),
  );
  return new PostgresCluster(cluster.name, {
    spec: cluster,
    sshPrivateKey: pulumi.secret(readConfiguredFile(`${key}.privateKeyPath`, cluster.ssh.privateKeyPath)),
    hostKeys,
    adminPassword: config.requireSecret("adminPassword"),
    replicationPassword: config.requireSecret("replicationPassword"),
  });
});

export const clusterState = Object.fromEntries(
  clusters.map((c, i) => [spec.clusters[i].name, { leader: c.leader, members: c.members, hosts: c.hostReports }]),
);
export const connectionStrings = Object.fromEntries(
  clusters.map((c, i) => [spec.clusters[i].name, { admin: c.adminConnectionString, replication: c.replicationConnectionString }]),
);
