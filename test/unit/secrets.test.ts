// Every committed stack file's `encryptionsalt` is tried with the published sandbox passphrase:
// it opens dev's and the sandbox-* stacks' (the demo and the tests need it), and no other's. A
// passphrase salt is `v1:<salt>:v1:<nonce>:<ciphertext+tag>` (base64): the key is
// PBKDF2-HMAC-SHA256(passphrase, salt, 1,000,000 rounds, 32 bytes), AES-256-GCM, the last 16
// bytes are the tag, and the plaintext is "pulumi".
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";

const ROOT = path.resolve(__dirname, "../..");
const SANDBOX_PASSPHRASE = "pg-replication-sandbox";
const pbkdf2 = promisify(crypto.pbkdf2);

const committedStacks = fs
  .readdirSync(ROOT)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s)
  .sort();

const isSandboxStack = (stack: string) => stack === "dev" || stack.startsWith("sandbox-");

function saltOf(stack: string): string | undefined {
  const doc = load(fs.readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { encryptionsalt?: string };
  return doc.encryptionsalt;
}

/** Whether passphrase opens the salt's check value (and it reads "pulumi"). */
async function opens(salt: string, passphrase: string): Promise<boolean> {
  const parts = salt.split(":");
  assert.equal(parts.length, 5, `not a passphrase salt: ${salt}`);
  const [v1, kdfSalt, v1again, nonce, sealed] = parts;
  assert.deepEqual([v1, v1again], ["v1", "v1"], `not a passphrase salt: ${salt}`);
  const key = await pbkdf2(passphrase, Buffer.from(kdfSalt, "base64"), 1_000_000, 32, "sha256");
  const bytes = Buffer.from(sealed, "base64");
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  try {
    const plain = Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
    return plain.toString("utf8") === "pulumi";
  } catch {
    return false;
  }
}

describe("committed stacks' secrets providers", function () {
  this.timeout(60_000);

  it("has the stacks this test is about", () => {
    for (const s of ["dev", "sandbox-staging", "sandbox-production", "staging", "production"]) assert.ok(committedStacks.includes(s), s);
  });

  it("the sandbox passphrase opens dev and sandbox-* alone", async () => {
    const results = await Promise.all(
      committedStacks.map(async (stack) => {
        const salt = saltOf(stack);
        if (isSandboxStack(stack)) assert.ok(salt, `${stack} has no encryptionsalt: the demo and the tests need one`);
        return { stack, opens: salt ? await opens(salt, SANDBOX_PASSPHRASE) : false };
      }),
    );
    assert.deepEqual(
      results,
      committedStacks.map((stack) => ({ stack, opens: isSandboxStack(stack) })),
    );
  });

  it("a wrong passphrase does not open dev's salt (the check really decrypts)", async () => {
    assert.equal(await opens(saltOf("dev")!, "not-the-sandbox-passphrase"), false);
  });
});
