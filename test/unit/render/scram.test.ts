import { strict as assert } from "node:assert";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { scramVerifier } from "../../../render/scram";

/** The StoredKey a client proves with `password` (as libpq sends it, after SASLprep) against this verifier's salt. */
function storedKeyFor(verifier: string, password: string): string {
  const [, iterations, salt] = /^SCRAM-SHA-256\$(\d+):([^$]+)\$/.exec(verifier)!;
  const salted = pbkdf2Sync(password, Buffer.from(salt, "base64"), Number(iterations), 32, "sha256");
  return createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest("base64");
}
const storedKeyOf = (verifier: string) => verifier.split("$")[2].split(":")[0];

describe("scramVerifier", () => {
  it("has PostgreSQL's format", () => {
    assert.match(scramVerifier("r", "pw"), /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });
  it("is the same for the same role and password, and differs otherwise", () => {
    assert.equal(scramVerifier("r", "pw"), scramVerifier("r", "pw"));
    assert.notEqual(scramVerifier("r", "pw"), scramVerifier("r", "pw2"));
    assert.notEqual(scramVerifier("r", "pw"), scramVerifier("s", "pw"));
  });

  it("prepares a password as PostgreSQL does (SASLprep): what libpq sends logs in", () => {
    // a soft hyphen is mapped to nothing, a no-break space to a space
    assert.equal(storedKeyOf(scramVerifier("r", "pass\u00ADword")), storedKeyFor(scramVerifier("r", "pass\u00ADword"), "password"));
    assert.equal(storedKeyOf(scramVerifier("r", "a\u00A0b")), storedKeyFor(scramVerifier("r", "a\u00A0b"), "a b"));
    // ASCII goes as it is; a password SASLprep prohibits is used raw, as the server does
    assert.equal(storedKeyOf(scramVerifier("r", "Pw-1")), storedKeyFor(scramVerifier("r", "Pw-1"), "Pw-1"));
    assert.equal(storedKeyOf(scramVerifier("r", "x\u0007y")), storedKeyFor(scramVerifier("r", "x\u0007y"), "x\u0007y"));
  });
});
