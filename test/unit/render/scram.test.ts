import { strict as assert } from "node:assert";
import { scramVerifier } from "../../../render/scram";

describe("scramVerifier", () => {
  it("has PostgreSQL's format", () => {
    assert.match(scramVerifier("r", "pw"), /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
  });
  it("is the same for the same role and password, and differs otherwise", () => {
    assert.equal(scramVerifier("r", "pw"), scramVerifier("r", "pw"));
    assert.notEqual(scramVerifier("r", "pw"), scramVerifier("r", "pw2"));
    assert.notEqual(scramVerifier("r", "pw"), scramVerifier("s", "pw"));
  });
});
