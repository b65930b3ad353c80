// The real Pulumi CLI on a throwaway copy of this project, with its own file backend.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SANDBOX_DIR } from "./sandbox";

const ROOT = path.resolve(__dirname, "../..");
/** What the program needs to run: index.ts and every file it imports (test/unit/engineCopy.test.ts). */
export const PROJECT_FILES = [
  "index.ts",
  "names.ts",
  "postgres15.ts",
  "config",
  "tsconfig.json",
  "package.json",
  "components",
  "render",
  "observe",
  "lib",
  "migrate",
  "host",
];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export class EngineProject {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  /** The program's files (not the state or the stack files), from this repository or from `root`. */
  useProgram(root = ROOT, files = PROJECT_FILES): void {
    for (const f of fs.readdirSync(this.dir))
      if (![".state", "node_modules", "Pulumi.yaml"].includes(f) && !/^Pulumi\..*\.yaml$/.test(f))
        fs.rmSync(path.join(this.dir, f), { recursive: true });
    for (const f of files) fs.cpSync(path.join(root, f), path.join(this.dir, f), { recursive: true });
  }

  /** A copy of the program (index.ts) under project `name`, with its own file backend. */
  constructor(name: string, passphrase = "engine-test") {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `pgr-${name}-`));
    for (const f of PROJECT_FILES) fs.cpSync(path.join(ROOT, f), path.join(this.dir, f), { recursive: true });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(this.dir, "node_modules"));
    fs.writeFileSync(path.join(this.dir, "Pulumi.yaml"), `name: ${name}\nruntime: nodejs\n`);
    fs.mkdirSync(path.join(this.dir, ".state"));
    this.env = {
      ...process.env,
      PULUMI_BACKEND_URL: `file://${path.join(this.dir, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      // the deploy key's agent (sandbox/up.sh): stacks without ssh.privateKeyPath log in through it
      SSH_AUTH_SOCK: path.join(SANDBOX_DIR, "agent.sock"),
    };
  }

  run(args: string[], input?: string): Result {
    const r = spawnSync("pulumi", [...args, "--non-interactive"], {
      cwd: this.dir,
      env: this.env,
      input,
      encoding: "utf8",
      maxBuffer: 64 << 20,
    });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like run(), without blocking the event loop: a writer or reader in this process goes on meanwhile. */
  runAsync(args: string[]): Promise<Result> {
    return new Promise((resolve, reject) => {
      const child = spawn("pulumi", [...args, "--non-interactive"], { cwd: this.dir, env: this.env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  ok(args: string[], input?: string): string {
    const r = this.run(args, input);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  initStack(stack: string): void {
    this.ok(["stack", "init", stack]);
  }

  /** Sets a config value; it goes on stdin, so no password is ever on a command line. */
  setConfig(stack: string, key: string, value: string, secret = false): void {
    this.ok(["config", "set", key, "--stack", stack, ...(secret ? ["--secret"] : [])], value);
  }

  /** Writes the stack's config file (JSON is YAML), keeping its encryption salt. */
  setConfigObject(stack: string, config: Record<string, unknown>): void {
    const file = this.stackFile(stack);
    const salt = fs.existsSync(file) ? /^encryptionsalt: (.*)$/m.exec(fs.readFileSync(file, "utf8"))?.[1] : undefined;
    fs.writeFileSync(file, JSON.stringify({ ...(salt ? { encryptionsalt: salt } : {}), config }, null, 2));
  }

  /** Puts a stack file of the repository (Pulumi.<stack>.yaml) into the copy. */
  copyStackFile(stack: string): void {
    fs.copyFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), path.join(this.dir, `Pulumi.${stack}.yaml`));
  }

  stackFile(stack: string): string {
    return path.join(this.dir, `Pulumi.${stack}.yaml`);
  }

  outputs(stack: string): Record<string, unknown> {
    return JSON.parse(this.ok(["stack", "output", "--json", "--show-secrets", "--stack", stack])) as Record<string, unknown>;
  }

  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
