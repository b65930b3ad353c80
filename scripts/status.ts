// Prints a stack's replication state (its `replicationState` output, refreshed by every `up`)
// as a table for a person: node -r ts-node/register/transpile-only scripts/status.ts STACK
import { execFileSync } from "node:child_process";
import { ReplicationState } from "../observe/replication";
import { formatReplicationState } from "./statusTable";

const stack = process.argv[2] ?? "dev";
const raw = execFileSync("pulumi", ["stack", "output", "replicationState", "--json", "--stack", stack], { encoding: "utf8" });
const state = JSON.parse(raw) as Record<string, ReplicationState>;
process.stdout.write(formatReplicationState(state));
