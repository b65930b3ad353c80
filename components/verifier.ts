import * as pulumi from "@pulumi/pulumi";
import { scramVerifier } from "../render/scram";

/** The SCRAM verifier a role is created with, kept secret like the password it comes from. */
export function secretVerifier(roleName: pulumi.Input<string>, password: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.secret(pulumi.all([roleName, password]).apply(([role, pw]) => scramVerifier(role, pw)));
}
