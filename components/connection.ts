import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { RUN_SCRIPT_AS_ROOT } from "../render/sshCommands";

/** How a component reaches a host over SSH: the same for a sandbox host and a real one. */
export interface SshAccess {
  address: pulumi.Input<string>;
  port: pulumi.Input<number>;
  user: pulumi.Input<string>;
  /** Absent: the deploy key comes from the SSH agent (SSH_AUTH_SOCK), and no key is in the state. */
  privateKey?: pulumi.Input<string>;
  /** "ssh-ed25519 AAAA…": refuse any other host key. */
  hostKey?: pulumi.Input<string>;
}

export function sshConnection(ssh: SshAccess): command.types.input.remote.ConnectionArgs {
  return {
    host: ssh.address,
    port: ssh.port,
    user: ssh.user,
    ...(ssh.privateKey === undefined ? {} : { privateKey: pulumi.secret(ssh.privateKey) }),
    hostKey: ssh.hostKey,
    // bounded: an unreachable host fails in about 30 s, never hangs an `up`
    perDialTimeout: 10,
    dialErrorLimit: 3,
  };
}

export interface HostStepOptions {
  /** The command that reads stdin on the host; a bash script run as root when not set. */
  run?: pulumi.Input<string>;
  /** stdin carries a secret (a password, a verifier): kept a secret in the inputs and in the state. */
  secretStdin?: boolean;
  /** Run on the host when the step is deleted (a destroy): what the step left there goes. */
  onDelete?: string;
}

/**
 * One step on a host: what it gets comes on stdin (by default a script that runs as root), so the
 * command line stays short (a failed step reports the script's own one-line reason, not the
 * script) and `pulumi preview --diff` shows the changed lines, unless they are secret.
 */
export function hostStep(
  name: string,
  ssh: SshAccess,
  stdin: pulumi.Input<string>,
  step: HostStepOptions,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: sshConnection(ssh),
      create: step.run ?? RUN_SCRIPT_AS_ROOT,
      stdin: step.secretStdin ? pulumi.secret(stdin) : stdin,
      addPreviousOutputInEnv: false,
      ...(step.onDelete ? { delete: step.onDelete } : {}),
    },
    step.secretStdin ? { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "stdin"] } : opts,
  );
}
