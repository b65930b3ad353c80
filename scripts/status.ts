// Prints a stack's replication state (its `replicationState` output, refreshed by every `up`)
// as a table for a person, and under it how applications connect (`applicationConnections`):
// node -r ts-node/register/transpile-only scripts/status.ts STACK
import { execFileSync } from "node:child_process";
import { ReplicationState } from "../observe/replication";
import { ClusterConnections, formatApplicationConnections, formatReplicationState } from "./statusTable";

const stack = process.argv[2] ?? "dev";
// every output at once, secrets left masked: neither of the two read here is one
const raw = execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
const outputs = JSON.parse(raw) as { replicationState?: Record<string, ReplicationState>; applicationConnections?: ClusterConnections };
process.stdout.write(formatReplicationState(outputs.replicationState ?? {}));
process.stdout.write(formatApplicationConnections(outputs.applicationConnections));
