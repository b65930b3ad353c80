import { strict as assert } from "node:assert";
import { carriesPassword, hbaLines, isProductionStack, looksLikePlainPassword } from "../../../policy/rules";
import { renderHbaBlock } from "../../../render/pgHba";
import { clusterSpec } from "../fixtures";

describe("the policy pack's rules", () => {
  it("reads every pg_hba line the program renders, with its method", () => {
    const lines = hbaLines(renderHbaBlock(clusterSpec(), { admin: "pgr_admin", replication: "pgr_replication" }));
    assert.ok(lines.length >= 4);
    assert.deepEqual([...new Set(lines.map((l) => l.method))].sort(), ["reject", "scram-sha-256"]);
    assert.deepEqual(hbaLines('x\nhost all "odd ""name""" 10.0.0.0/8 trust\n')[0], {
      text: 'host all "odd ""name""" 10.0.0.0/8 trust',
      database: "all",
      user: 'odd "name"',
      method: "trust",
    });
  });

  it("tells production stacks, verifiers and password material apart", () => {
    assert.ok(isProductionStack("urn:pulumi:production::pg-replication::x::y"));
    assert.ok(isProductionStack("urn:pulumi:sandbox-production::pg-replication::x::y"));
    assert.ok(!isProductionStack("urn:pulumi:staging::pg-replication::x::y"));
    assert.ok(!looksLikePlainPassword("SCRAM-SHA-256$4096:abc$def:ghi"));
    assert.ok(looksLikePlainPassword("hunter2"));
    assert.ok(carriesPassword("10.0.0.1:5432:*:migrator:pw\n"));
    assert.ok(carriesPassword("ALTER ROLE x PASSWORD 'plain';"));
    assert.ok(!carriesPassword("ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:a$b:c';\npassword_encryption = 'scram-sha-256'\n"));
  });
});
