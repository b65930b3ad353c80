import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

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
    dialErrorLimit: 5,
  };
}
