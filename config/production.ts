// What a production stack (named production or *-production) may not be configured with.
import { isProductionStackName } from "../lib/stackNames";
import { ClusterSpec, NAMESPACE } from "./spec";

export function productionProblems(c: ClusterSpec, i: number, stack: string): string[] {
  if (!isProductionStackName(stack)) return [];
  return c.ssh.insecureSkipHostKeyCheck
    ? [`${NAMESPACE}:clusters[${i}].ssh.insecureSkipHostKeyCheck: is refused on a production stack: pin the hosts' keys (knownHostsPath)`]
    : [];
}
