import { strict as assert } from "node:assert";
import { cidrHolds } from "../../../lib/cidr";

describe("cidrHolds", () => {
  it("holds the addresses inside the network, of its own family only", () => {
    assert.equal(cidrHolds("10.77.0.254/32", "10.77.0.254"), true);
    assert.equal(cidrHolds("10.77.0.0/24", "10.77.0.9"), true);
    assert.equal(cidrHolds("10.77.0.0/24", "10.77.1.9"), false);
    assert.equal(cidrHolds("fd00::/64", "fd00::1"), true);
    assert.equal(cidrHolds("fd00::/64", "10.77.0.1"), false);
    assert.equal(cidrHolds("0.0.0.0/0", "192.0.2.1"), true);
    assert.equal(cidrHolds("10.77.0.0/24", "runner.example.edu"), false);
  });
});
