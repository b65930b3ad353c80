// What a production stack (named production or *-production) may not be configured with.
import { isProductionStackName } from "../lib/stackNames";
import { ClusterSpec, NAMESPACE } from "./spec";

export function productionProblems(c: ClusterSpec, i: number, stack: string): string[] {
  if (!isProductionStackName(stack)) return [];
  const problems: string[] = [];
  if (c.ssh.insecureSkipHostKeyCheck)
    problems.push(
      `${NAMESPACE}:clusters[${i}].ssh.insecureSkipHostKeyCheck: is refused on a production stack: pin the hosts' keys (knownHostsPath)`,
    );
  if (c.refresh)
    problems.push(
      `${NAMESPACE}:clusters[${i}].refresh: is refused on a production stack: a refresh replaces the cluster's data with another stack's`,
    );
  return problems;
}
