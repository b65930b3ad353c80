import { ClusterSpec } from "../../config";

/** A valid three-host cluster; tests change one thing at a time. */
export function clusterSpec(overrides: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    name: "main",
    leader: "pg1",
    hosts: [
      { name: "pg1", address: "10.77.0.11", sshPort: 22 },
      { name: "pg2", address: "10.77.0.12", sshPort: 22 },
      { name: "pg3", address: "10.77.0.13", sshPort: 22 },
    ],
    port: 5432,
    sslmode: "require",
    ssh: { user: "deploy", privateKeyPath: "/keys/id", knownHostsPath: "/keys/known_hosts" },
    adminAddresses: ["10.77.0.254/32"],
    clients: [{ database: "appdb", user: "app", address: "10.77.0.0/24" }],
    settings: {},
    tuning: {},
    ...overrides,
  };
}

/** The raw config object `pulumi config` would hand the program for clusterSpec(). */
export function rawCluster(): Record<string, unknown> {
  return {
    name: "main",
    leader: "pg1",
    hosts: [
      { name: "pg1", address: "10.77.0.11" },
      { name: "pg2", address: "10.77.0.12" },
    ],
    ssh: { user: "deploy", privateKeyPath: "/keys/id", knownHostsPath: "/keys/known_hosts" },
    adminAddresses: ["10.77.0.254/32"],
    clients: [{ database: "appdb", user: "app", address: "10.77.0.0/24" }],
  };
}
