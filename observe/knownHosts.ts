// The SSH host key the program pins for each host, read from the cluster's known_hosts file.

/** Key types by preference: the first a host has is pinned. */
const PREFERENCE = [/^ssh-ed25519$/, /^ecdsa-sha2-/, /^ssh-rsa$/];
const rank = (type: string) => {
  const i = PREFERENCE.findIndex((p) => p.test(type));
  return i < 0 ? PREFERENCE.length : i;
};

/**
 * The host key for `address` in an OpenSSH known_hosts text ("addr[,addr] type key"), if any: of
 * several, the strongest (ed25519, then ECDSA, RSA last). The host steps (@pulumi/command) offer
 * the server that key's type alone, so an RSA key would mean ssh-rsa (SHA-1) signatures.
 */
export function findHostKey(knownHosts: string, address: string, port = 22): string | undefined {
  const wanted = port === 22 ? address : `[${address}]:${port}`;
  let found: { type: string; key: string } | undefined;
  for (const line of knownHosts.split("\n")) {
    const [names, type, key] = line.trim().split(/\s+/);
    if (!names || names.startsWith("#") || !type || !key) continue;
    if (names.split(",").includes(wanted) && (!found || rank(type) < rank(found.type))) found = { type, key };
  }
  return found && `${found.type} ${found.key}`;
}

/**
 * Why a pinned key cannot work, if it cannot: @pulumi/command pins the key's own type as the one
 * host key algorithm it accepts, and for an RSA key that is ssh-rsa (SHA-1 signatures), which
 * OpenSSH 8.8 and later no longer offer: every step would fail to connect, after the plan-time
 * observation (OpenSSH's client, rsa-sha2) had passed.
 */
export function hostKeyProblem(hostKey: string, address: string, knownHostsPath: string): string | undefined {
  if (!hostKey.startsWith("ssh-rsa ")) return undefined;
  return `${knownHostsPath} has only an RSA key for ${address}: the host steps (@pulumi/command) would pin it as ssh-rsa, the SHA-1 signature that OpenSSH 8.8 and later refuse, so every step would fail; add the host's ed25519 key (ssh-keyscan -t ed25519 ${address}, checked against the host)`;
}
