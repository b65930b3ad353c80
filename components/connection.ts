import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RUN_SCRIPT_AS_ROOT } from "../render/sshCommands";

/** How a component reaches a host over SSH: the same for a sandbox host and a real one. */
export interface SshAccess {
  address: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  privateKey: pulumi.Input<string>;
  /** "ssh-ed25519 AAAA…": refuse any other host key. */
  hostKey?: pulumi.Input<string>;
}

export function sshConnection(ssh: SshAccess): command.types.input.remote.ConnectionArgs {
  return {
    host: ssh.address,
    port: ssh.port,
    user: ssh.user,
    privateKey: pulumi.secret(ssh.privateKey),
    hostKey: ssh.hostKey,
    // bounded: an unreachable host fails in about 30 s, never hangs an `up`
    perDialTimeout: 10,
    dialErrorLimit: 3,
  };
}

/**
 * One step on a host: `script` runs as root from stdin, so the command line stays short (a failed
 * step reports the script's own one-line reason, not the script) and `pulumi preview --diff`
 * shows the script's changed lines.
 */
export function hostStep(
  name: string,
  ssh: SshAccess,
  script: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    { connection: sshConnection(ssh), create: RUN_SCRIPT_AS_ROOT, stdin: script, addPreviousOutputInEnv: false },
    opts,
  );
}
