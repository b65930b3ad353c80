import { ClusterSpec, SettingValue } from "../config";
import { CONF_DIR, ROOT_CERT_PATH } from "../postgres15";
import { confValue } from "./quote";
import { archiveSettings } from "./pgbackrest";

export const INCLUDE_PATH = `${CONF_DIR}/conf.d/pg-replication.conf`;

/** What every member needs to serve, stream and be promoted; a cluster's `settings` win. */
export function replicationSettings(cluster: ClusterSpec): Record<string, SettingValue> {
  return {
    listen_addresses: "*",
    port: cluster.port,
    password_encryption: "scram-sha-256",
    wal_level: cluster.logicalDecoding ? "logical" : "replica",
    max_connections: 100,
    max_wal_senders: 10,
    max_prepared_transactions: 0,
    max_locks_per_transaction: 64,
    max_replication_slots: 10,
    max_slot_wal_keep_size: "10GB",
    wal_log_hints: true,
    hot_standby: true,
    hot_standby_feedback: true,
    wal_sender_timeout: "60s",
    wal_receiver_timeout: "60s",
    // the admin's client certificate is checked against the cluster's CA
    ...(cluster.adminCertificate ? { ssl_ca_file: ROOT_CERT_PATH } : {}),
    ...(cluster.backup ? archiveSettings(cluster.backup.stanza) : {}),
  };
}

/** The conf.d include of one member, settings sorted so the preview diff is stable. */
export function renderPostgresqlConf(cluster: ClusterSpec): string {
  const settings = { ...replicationSettings(cluster), ...cluster.settings };
  const lines = Object.keys(settings)
    .sort()
    .map((name) => `${name} = ${confValue(settings[name])}`);
  return [`# Managed by pg-replication (Pulumi), cluster ${cluster.name}. Edits are overwritten.`, ...lines, ""].join("\n");
}
