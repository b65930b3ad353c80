// Who the program is when it reads the hosts at plan time. The deploy identity (the default) may
// change hosts; the preview identity (PGR_IDENTITY=preview, as a pull request's preview runs) holds
// only a key the hosts restrict to the read-only observation and a pg_monitor role's password.
import { ConfigError } from "../config";

export type Identity = { kind: "deploy" } | { kind: "preview"; sshKeyFile: string; dbPassword: string };

export function identityFromEnv(env: NodeJS.ProcessEnv): Identity {
  const kind = env.PGR_IDENTITY ?? "deploy";
  if (kind === "deploy") return { kind };
  if (kind !== "preview") throw new ConfigError([`PGR_IDENTITY: must be deploy or preview, got ${JSON.stringify(kind)}`]);
  const problems: string[] = [];
  const sshKeyFile = env.PGR_PREVIEW_SSH_KEY_FILE ?? "";
  const dbPassword = env.PGR_PREVIEW_DB_PASSWORD ?? "";
  if (!sshKeyFile) problems.push("PGR_PREVIEW_SSH_KEY_FILE: is required with PGR_IDENTITY=preview (the preview identity's SSH key)");
  if (!dbPassword) problems.push("PGR_PREVIEW_DB_PASSWORD: is required with PGR_IDENTITY=preview (the password of its pg_monitor role)");
  if (problems.length > 0) throw new ConfigError(problems);
  return { kind, sshKeyFile, dbPassword };
}
