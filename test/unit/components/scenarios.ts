// The components as the unit tests build them: a three-host cluster, and a migration onto it in
// any phase. Addresses that refuse at once (127.0.0.1, port 1): the state reads fail fast, offline.
import * as pulumi from "@pulumi/pulumi";
import type { PostgresClusterArgs } from "../../../components/cluster";
import type { MigrationArgs } from "../../../components/migration";
import { MigrationPhase, MigrationSpec } from "../../../config";
import { clusterSpec } from "../fixtures";

export function clusterArgs(): PostgresClusterArgs {
  return {
    spec: clusterSpec(),
    sshPrivateKey: "PRIVATE KEY",
    hostKeys: { pg1: "ssh-ed25519 K1", pg2: "ssh-ed25519 K2", pg3: "ssh-ed25519 K3" },
    observations: Object.fromEntries(
      ["pg1", "pg2", "pg3"].map((h) => [
        h,
        {
          memoryMiB: 4096,
          cpus: 2,
          roles: [],
          running: true,
          standby: h !== "pg1",
          systemId: "7431",
          passfileHash: "",
          replicationVerifierHash: "",
          timeline: 1,
        },
      ]),
    ),
    adminPassword: pulumi.secret("admin-pw"),
    replicationPassword: pulumi.secret("repl-pw"),
    adminLogin: "unreachable",
    expectedHashes: { passfile: "p", replicationVerifier: "v" },
    readers: { replicationState: async (leader) => ({ leader, standbys: {} }) },
  };
}

export function migrationSpec(phase: MigrationPhase, wayBack = true): MigrationSpec {
  return {
    source: { address: "127.0.0.1", port: 1, database: "appdb", user: "migrator", sslmode: "require" },
    target: { cluster: "main", database: "appdb" },
    tables: [],
    phase,
    sequenceMargin: 1000,
    wayBack,
    checksums: "in-pause",
  };
}

export function migrationArgs(phase: MigrationPhase, wayBack = true): MigrationArgs {
  return {
    spec: migrationSpec(phase, wayBack),
    sourcePassword: pulumi.secret("source-pw"),
    targetLeader: {
      name: "pg1",
      ssh: { address: "10.77.0.11", port: 22, user: "deploy", privateKey: "PRIVATE KEY", hostKey: "ssh-ed25519 K1" },
    },
    target: pulumi.secret({ host: "127.0.0.1", port: 1, database: "appdb", user: "pgr_admin", password: "admin-pw", sslmode: "require" }),
  };
}
