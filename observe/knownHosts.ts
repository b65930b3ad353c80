// The SSH host key the program pins for each host, read from the cluster's known_hosts file.

/** The host key for `address` in an OpenSSH known_hosts text ("addr[,addr] type key"), if any. */
export function findHostKey(knownHosts: string, address: string, port = 22): string | undefined {
  const wanted = port === 22 ? address : `[${address}]:${port}`;
  for (const line of knownHosts.split("\n")) {
    const [names, type, key] = line.trim().split(/\s+/);
    if (!names || names.startsWith("#") || !type || !key) continue;
    if (names.split(",").includes(wanted)) return `${type} ${key}`;
  }
  return undefined;
}
