// Guardrails on what the program would deploy (run with `--policy-pack policy`): advisory on every
// stack, mandatory on production (`--policy-pack-config policy/production.json`, which
// report/prPreview.ts and promote/promote.ts pass for a stack named production or *-production).
// Policies see the inputs each resource would get: the rendered pg_hba inside the host steps'
// scripts, the roles, the providers. The operations a preview plans (a delete, a replace) are the
// pull-request report's business, not theirs.
import { PolicyPack, PolicyResource, ReportViolation, ResourceValidationArgs } from "@pulumi/policy";
import { PROTECTED_TYPES } from "../lib/dataBearing";
import { carriesPassword, hbaLines, isProductionStack, looksLikePlainPassword } from "./rules";

const COMMANDS = ["command:remote:Command", "command:local:Command"];
const scriptOf = (props: Record<string, unknown>) =>
  [props.create, props.update, props.stdin].filter((v) => typeof v === "string").join("\n");

new PolicyPack("pg-replication-guardrails", {
  enforcementLevel: "advisory",
  policies: [
    {
      name: "pg-hba-no-trust-or-md5",
      description: "No rendered pg_hba line lets a client in by trust, md5 or a clear-text password: scram-sha-256 or reject only.",
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (!COMMANDS.includes(args.type)) return;
        for (const l of hbaLines(scriptOf(args.props)))
          if (["trust", "md5", "password"].includes(l.method)) report(`pg_hba line "${l.text}" uses ${l.method}: use scram-sha-256`);
      },
    },
    {
      name: "passwords-are-secrets",
      description: "A password reaches a host or the state only as a Pulumi secret, or as a SCRAM verifier.",
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type === "postgresql:index/role:Role" && looksLikePlainPassword(args.props.password))
          report(`role ${String(args.props.name)} gets a clear-text password: give it a SCRAM verifier (components/verifier.ts)`);
        if (COMMANDS.includes(args.type) && carriesPassword(scriptOf(args.props)))
          if (!args.opts.additionalSecretOutputs.includes("stdin"))
            report(
              'a host step\'s stdin carries a password but is not a secret: add additionalSecretOutputs: ["stdin"] and pulumi.secret()',
            );
      },
    },
    {
      name: "replication-role-least-privilege",
      description: "The role standbys stream with has neither superuser nor any database: pg_hba admits it to `replication` alone.",
      validateStack: (args, report: ReportViolation) => {
        const roles = args.resources.filter((r) => r.type === "postgresql:index/role:Role" && r.props.replication === true);
        const names = new Set(roles.map((r) => String(r.props.name)));
        for (const r of roles) {
          const extra = ["superuser", "createDatabase", "createRole"].filter((k) => r.props[k] === true);
          if (extra.length > 0)
            report(`replication role ${String(r.props.name)} has ${extra.join(", ")}: it must stream WAL and nothing else`, r.urn);
        }
        for (const g of args.resources.filter((r) => r.type === "postgresql:index/grant:Grant" && names.has(String(r.props.role))))
          report(
            `replication role ${String(g.props.role)} is granted ${String(g.props.objectType)} privileges: it must have no database access`,
            g.urn,
          );
        for (const c of args.resources.filter((r) => COMMANDS.includes(r.type)))
          for (const l of hbaLines(scriptOf(c.props)))
            if (names.has(l.user) && l.database !== "replication" && l.method !== "reject")
              report(
                `pg_hba line "${l.text}" admits replication role ${l.user} to database ${l.database}: only "replication" (or reject)`,
                c.urn,
              );
      },
    },
    {
      name: "production-standby-and-protect",
      description: "On production, every cluster has at least one standby and every data-bearing resource is protected.",
      validateStack: (args, report: ReportViolation) => {
        if (!args.resources.some((r) => isProductionStack(r.urn))) return;
        const clusters = args.resources.filter((r) => r.type === "pg-replication:cluster:PostgresCluster");
        const standbysOf = (c: PolicyResource) =>
          args.resources.filter((r) => r.type === "pg-replication:standby:Standby" && r.parent?.urn === c.urn);
        for (const c of clusters)
          if (standbysOf(c).length === 0) report(`cluster ${c.name} has no standby: production needs at least one`, c.urn);
        for (const r of args.resources.filter((x) => PROTECTED_TYPES.includes(x.type) && !x.opts.protect))
          report(`${r.type.split(":").pop()} ${r.name} is not protected: set pg-replication:protect: true on production`, r.urn);
      },
    },
    {
      name: "client-sslmode-require",
      description: "Every PostgreSQL connection the program makes uses sslmode require, verify-ca or verify-full.",
      validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
        if (args.type !== "pulumi:providers:postgresql") return;
        const mode = String(args.props.sslmode ?? "prefer");
        if (!["require", "verify-ca", "verify-full"].includes(mode))
          report(`postgresql provider ${args.name} connects with sslmode ${mode}: at least require`);
      },
    },
  ],
});
