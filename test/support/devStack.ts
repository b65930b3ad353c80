// One copy of the program with the repository's dev stack, shared by every engine suite in this
// mocha process: brought up once, left converged for the next suite.
import * as fs from "node:fs";
import { dump, load } from "js-yaml";
import { Client } from "pg";
import { EngineProject } from "./engine";
import { host } from "./sandbox";

export const DEV_PASSPHRASE = "pg-replication-sandbox";

export interface DevHost {
  name: string;
  address: string;
  rebuild?: string;
  down?: boolean;
  fenced?: boolean;
}

export interface DevCluster {
  leader: string;
  hosts: DevHost[];
  settings?: Record<string, string | number>;
  [key: string]: unknown;
}

export class DevStack {
  readonly project = new EngineProject("pg-replication", DEV_PASSPHRASE);
  readonly stack = "dev";
  private upDone = false;

  constructor() {
    this.project.copyStackFile(this.stack);
    this.project.initStack(this.stack);
  }

  run(args: string[]) {
    return this.project.run([...args, "--stack", this.stack]);
  }

  ok(args: string[]): string {
    return this.project.ok([...args, "--stack", this.stack]);
  }

  async upAsync(): Promise<string> {
    const r = await this.project.runAsync(["up", "--yes", "--stack", this.stack]);
    if (r.code !== 0) throw new Error(`pulumi up: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  up(): string {
    const out = this.ok(["up", "--yes"]);
    this.upDone = true;
    return out;
  }

  /** `up` once for every suite that needs the converged stack. */
  ensureUp(): void {
    if (!this.upDone) this.up();
  }

  secret(key: string): string {
    return this.ok(["config", "get", `pg-replication:${key}`]).trim();
  }

  outputs(): Record<string, unknown> {
    return this.project.outputs(this.stack);
  }

  /** Rewrites the stack file through a function of its text. */
  editStackFile(edit: (text: string) => string): void {
    const file = this.project.stackFile(this.stack);
    fs.writeFileSync(file, edit(fs.readFileSync(file, "utf8")));
  }

  /** Changes the stack file's config, as a person editing Pulumi.dev.yaml would. */
  editConfig(edit: (config: Record<string, unknown>) => void): void {
    const file = this.project.stackFile(this.stack);
    const doc = load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    edit(doc.config);
    fs.writeFileSync(file, dump(doc, { lineWidth: 200 }));
  }

  /** Changes the first cluster of the stack file, as a person editing Pulumi.dev.yaml would. */
  editCluster(edit: (cluster: DevCluster) => void): void {
    const file = this.project.stackFile(this.stack);
    const doc = load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const clusters = doc.config["pg-replication:clusters"] as DevCluster[];
    edit(clusters[0]);
    fs.writeFileSync(file, dump(doc, { lineWidth: 200 }));
  }

  /** A client on `member` as the admin role, from the controller, over TLS as the provider connects. */
  async admin<T>(member: string, fn: (c: Client) => Promise<T>, database = "postgres"): Promise<T> {
    const client = new Client({
      host: host(member).address,
      port: 5432,
      user: "pgr_admin",
      password: this.secret("adminPassword"),
      database,
      ssl: { rejectUnauthorized: false },
    });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
}

let shared: DevStack | undefined;

export function devStack(): DevStack {
  if (!shared) {
    shared = new DevStack();
    process.on("exit", () => shared?.project.dispose());
  }
  return shared;
}
