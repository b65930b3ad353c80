// What every step of a cluster is built from: the spec, the live members, how to reach each over
// SSH, what each showed at plan time. The cluster's step builders (leadership.ts, clusterRoles.ts,
// standbySteps.ts) take it so that their resources keep the cluster as parent and their names.
import * as pulumi from "@pulumi/pulumi";
import { ClusterSpec, HostSpec } from "../config";
import { HostObservation } from "../observe/hosts";
import { REPLICATION_ROLE } from "../names";
import { PASSFILE_PATH } from "../render/roles";
import { SshAccess } from "./connection";

// sha256 of nothing: the file or the role is absent, which is not drift (the first `up` creates it)
const EMPTY_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/** Whether a hash read on a host differs from the configured value's (absent is not drift). */
export const drifted = (observed: string, expected: string) => observed !== "" && observed !== EMPTY_HASH && observed !== expected;

export interface ClusterContext {
  /** The cluster's resource name: every step's name starts with it. */
  name: string;
  spec: ClusterSpec;
  leader: HostSpec;
  /** The live members other than the leader. */
  followers: HostSpec[];
  observations: Record<string, HostObservation>;
  /** The hosts marked down to fence (stop) before the leader is promoted, with what each showed. */
  fence: Record<string, HostObservation>;
  sshOf: (host: HostSpec) => SshAccess;
  parent: pulumi.Resource;
}

/** How a member reaches the leader for replication (its scripts' LeaderScript fields). */
export function replicationAccess(c: ClusterContext) {
  return {
    leaderName: c.leader.name,
    leaderAddress: c.leader.address,
    port: c.spec.port,
    replicationRole: REPLICATION_ROLE,
    passfile: PASSFILE_PATH,
    sslmode: c.spec.sslmode,
  };
}
