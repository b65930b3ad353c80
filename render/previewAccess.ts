// The preview identity on a member: a user whose key the host restricts to one forced command,
// the same read-only observation `pulumi preview` makes with the deploy identity (observe/hosts.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { shellQuote } from "./quote";

export const OBSERVE_PATH = "/usr/local/lib/pg-replication/observe";
export const PREVIEW_SUDOERS_PATH = "/etc/sudoers.d/pg-replication-preview";
/** What the preview key runs on a host, whatever command the client asks for. */
export const OBSERVE_COMMAND = `sudo -n ${OBSERVE_PATH}`;

const PUBLIC_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}( [\x21-\x7e][\x20-\x7e]*)?$/;

/** Whether `text` is one OpenSSH public key line (type, base64, optional comment), nothing else. */
export function isPublicKey(text: string): boolean {
  return PUBLIC_KEY.test(text.trim()) && !text.trim().includes('"');
}

/** The authorized_keys line: `restrict` (no forwarding, no pty), the forced observation, and where the key may log in from when `from` is set. */
export function authorizedLine(publicKey: string, from?: string[]): string {
  if (!isPublicKey(publicKey)) throw new Error("not an OpenSSH public key line");
  if (from?.some((cidr) => !/^[0-9a-fA-F.:/]+$/.test(cidr))) throw new Error("not a CIDR");
  const fromOption = from ? `from="${from.join(",")}",` : "";
  return `restrict,${fromOption}command="${OBSERVE_COMMAND}" ${publicKey.trim()}`;
}

/** The observation as an executable file: the probe's own text, run as root through the sudo rule. */
export function renderObserveFile(probe: string): string {
  return `#!/bin/sh\n# pg-replication: what a preview reads on this host (installed by pulumi up)\n${probe}\n`;
}

const SCRIPT = fs.readFileSync(path.join(__dirname, "../host/preview-access.sh"), "utf8");

export interface PreviewAccessScript {
  user: string;
  publicKey: string;
  from?: string[];
  probe: string;
}

/** The step's script: quoted values, then host/preview-access.sh. */
export function renderPreviewAccessScript(s: PreviewAccessScript): string {
  const vars: [string, string][] = [
    ["preview_user", s.user],
    ["authorized_line", authorizedLine(s.publicKey, s.from)],
    ["observe_path", OBSERVE_PATH],
    ["sudoers_path", PREVIEW_SUDOERS_PATH],
    ["observe_script", renderObserveFile(s.probe)],
  ];
  return `${vars.map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n")}\n${SCRIPT}`;
}
