// The host steps' scripts: each verb of host/ with the header of values it runs with
// (render/hostScript.ts puts them together). Shell lives in host/; here only values.
import { ClusterSpec } from "../config";
import { CONF_DIR, HBA_PATH, PG_CLUSTER, PG_MAJOR, POSTGRES_HOME, SERVER_LOG, STANDBY_MINIMUMS } from "../postgres15";
import { HBA_BEGIN, HBA_END } from "./pgHba";
import { INCLUDE_PATH } from "./postgresqlConf";
import { confValue, conninfo } from "./quote";
import { fileFunction, sh } from "./sh";
import { hostScript } from "./hostScript";
import { TUNING_PATH } from "./tuning";

// read after pg-replication.conf (include_dir reads in name order), so that what it holds wins
export const STANDBY_INCLUDE_PATH = `${CONF_DIR}/conf.d/pg-replication.standby.conf`;
const OLD_STANDBY_INCLUDE_PATH = `${CONF_DIR}/conf.d/pg-replication-standby.conf`;
export const REBUILD_STAMP = `${POSTGRES_HOME}/${PG_MAJOR}/.pg-replication-${PG_CLUSTER}.rebuild`;
/** Debian's start.conf: auto, manual or disabled (whether the server starts with the host). */
export const START_CONF_PATH = `${CONF_DIR}/start.conf`;
/** The first line of a start.conf the fence step set to manual: the standby step puts back only such a one. */
export const FENCE_MARK = "# pg-replication fenced this member";
const fenceHeader = () => [sh`start_conf=${START_CONF_PATH}`, sh`fence_mark=${FENCE_MARK}`];

/** Settings a hot standby must hold at least as high as its leader, as host/lib.sh's hold_at_leader reads them. */
const minimums = () => sh`minimums=(${Object.entries(STANDBY_MINIMUMS).map(([name, m]) => `${name}|${m.label}|${m.fallback}`)})`;

export interface HostConfigurationScript {
  host: string;
  postgresqlConf: string;
  tuningConf: string;
  hbaBlock: string;
  /** The pass after the leader's step: a standby first catches up with a leader that restarted. */
  settle?: boolean;
}

/** host/configure.sh: the conf.d includes and the pg_hba block, checked by the server, then applied. */
export function renderApplyHostConfig(s: HostConfigurationScript): string {
  return hostScript("configure", s.host, s.settle ? "configuration, settle pass" : "configuration", [
    sh`confdir=${CONF_DIR}`,
    sh`settle=${s.settle ? "yes" : "no"}`,
    sh`include=${INCLUDE_PATH}`,
    sh`tuning=${TUNING_PATH}`,
    sh`hba=${HBA_PATH}`,
    sh`hba_begin=${HBA_BEGIN}`,
    sh`hba_end=${HBA_END}`,
    minimums(),
    fileFunction("conf_file", s.postgresqlConf),
    fileFunction("tuning_file", s.tuningConf),
    fileFunction("hba_block_file", s.hbaBlock),
  ]);
}

/** How a member reaches the leader for replication: its password stays in the passfile. */
export interface LeaderScript {
  host: string;
  leaderName: string;
  leaderAddress: string;
  port: number;
  replicationRole: string;
  passfile: string;
  /** The cluster's sslmode: replication is never weaker than the cluster's clients. */
  sslmode: ClusterSpec["sslmode"];
}

export interface StandbyScript extends LeaderScript {
  slot: string;
  /** The rebuild token from config; a new value rebuilds this standby once. */
  rebuild: string;
  /** What the program saw at plan time when it was not a running standby: makes `up` run the step. */
  observed?: string;
  /** Set when a rebuild restores this stanza's latest backup with --delta instead of copying the leader. */
  rebuildStanza?: string;
}

const leaderAccess = (s: LeaderScript) => ({
  host: s.leaderAddress,
  port: s.port,
  user: s.replicationRole,
  passfile: s.passfile,
  sslmode: s.sslmode,
});

/** The replication connection to the leader (IDENTIFY_SYSTEM, slots, pg_basebackup). */
const replicationConninfo = (s: LeaderScript) =>
  conninfo({ ...leaderAccess(s), dbname: "replication", replication: "true", connect_timeout: 10 });

/** primary_conninfo: the password stays in the passfile (mode 0600), never in a setting or a log. */
export function renderStandbyConf(s: StandbyScript): string {
  const primary = conninfo({ ...leaderAccess(s), application_name: s.host, connect_timeout: 10 });
  return [
    `# Managed by pg-replication (Pulumi): this member is a standby of ${s.leaderName.replace(/[\r\n]/g, " ")}.`,
    `primary_conninfo = ${confValue(primary)}`,
    `primary_slot_name = ${confValue(s.slot)}`,
    "",
  ].join("\n");
}

/** host/standby.sh: a streaming standby of the leader, rebuilt only when it must be. */
export function renderStandbyScript(s: StandbyScript): string {
  const replication = replicationConninfo(s);
  return hostScript(
    "standby",
    s.host,
    `standby of ${s.leaderName}`,
    [
      sh`standby_include=${STANDBY_INCLUDE_PATH}`,
      sh`old_standby_include=${OLD_STANDBY_INCLUDE_PATH}`,
      sh`include=${INCLUDE_PATH}`,
      sh`tuning=${TUNING_PATH}`,
      sh`stamp=${REBUILD_STAMP}`,
      sh`token=${s.rebuild}`,
      sh`slot=${s.slot}`,
      sh`conn=${replication}`,
      sh`leader=${`${s.leaderName} (${s.leaderAddress}:${s.port})`}`,
      sh`server_log=${SERVER_LOG}`,
      ...(s.rebuildStanza ? [sh`rebuild_stanza=${s.rebuildStanza}`] : []),
      ...fenceHeader(),
      minimums(),
      fileFunction("standby_file", renderStandbyConf(s)),
    ],
    s.observed,
  );
}

/** host/demote.sh: a former leader still running as a primary of this cluster stops. */
export function renderDemoteScript(s: LeaderScript & { leaderSystemId: string }): string {
  return hostScript("demote", s.host, `demote if a former leader (the leader is ${s.leaderName})`, [
    sh`leader=${s.leaderName}`,
    sh`candidate=${s.leaderName}`,
    sh`leader_system=${s.leaderSystemId}`,
    sh`conn=${replicationConninfo(s)}`,
  ]);
}

/** host/promote.sh: the leader is a running primary, promoted once its old leader is gone. */
export function renderPromoteScript(s: { host: string; downAddresses: string[]; observed?: string }): string {
  return hostScript(
    "promote",
    s.host,
    "the leader",
    [sh`standby_include=${STANDBY_INCLUDE_PATH}`, sh`down_addresses=(${s.downAddresses})`],
    s.observed,
  );
}

/** host/fence.sh: a host marked down that runs as a primary is stopped, and kept from starting at boot. */
export function renderFenceScript(s: { host: string; observed?: string }): string {
  return hostScript("fence", s.host, "fence (marked down)", fenceHeader(), s.observed);
}

/** A slot as the plan saw it on the leader. */
export interface SlotToDrop {
  name: string;
  restartLsn: string;
}

/** host/drop-slots.sh: the slots of members no longer in config, each dropped only if it is still the one the plan saw. */
export function renderDropSlotsScript(s: { host: string; slots: SlotToDrop[] }): string {
  return hostScript("drop-slots", s.host, "the slots of members removed from config", [
    sh`slots=(${s.slots.map((slot) => `${slot.name}@${slot.restartLsn}`)})`,
  ]);
}
