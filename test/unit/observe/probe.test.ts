import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { probeScript } from "../../../observe/hosts";

describe("the plan-time probe of a host", () => {
  const plain = probeScript(["pgr_admin", "replicator"]);
  const refreshed = probeScript(["pgr_admin", "replicator"], { personalColumns: true });

  it("is plain sh, run as root through one sudo, with one psql for every SQL read", () => {
    for (const script of [plain, refreshed]) assert.equal(spawnSync("dash", ["-n", "-c", script]).status, 0);
    assert.equal(plain.match(/sudo -n sh -c /g)?.length, 1);
    assert.equal(plain.match(/ psql /g)?.length, 1);
  });

  it("lists a primary's personal-looking columns only for a cluster a refresh fills", () => {
    assert.doesNotMatch(plain, /personal_column=/);
    assert.match(refreshed, /personal_column=/);
    assert.match(refreshed, /database=/);
  });
});
