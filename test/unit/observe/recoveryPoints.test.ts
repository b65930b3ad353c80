import { strict as assert } from "node:assert";
import { describePoint, parsePoints } from "../../../observe/recoveryPoints";

describe("recovery points", () => {
  const out = [
    "some noise",
    "point|2026-12-02 10:15:03.123456 UTC|745|0/3000A10|16389:10,16400:1||",
    "point|2026-12-02 10:16:00.000001 UTC|746|0/3000B20||16389|16401,16402",
    "point|2026-12-02 10:17:00.5 UTC|747|0/3000C30|||16410,16411",
  ].join("\n");

  it("reads the commits that deleted, truncated or dropped", () => {
    const points = parsePoints(out);
    assert.equal(points.length, 3);
    assert.deepEqual(points[0].deletes, { "16389": 10, "16400": 1 });
    assert.deepEqual(points[1].truncated, ["16389"]);
    assert.deepEqual(points[2].dropped, ["16410", "16411"]);
  });

  it("says what each did with today's names, and what it cannot name", () => {
    const [del, trunc, drop] = parsePoints(out);
    const byNode = { "16389": "public.orders" };
    assert.equal(
      describePoint(del, byNode, {}),
      "DELETE 10 rows from public.orders; DELETE 1 row from a relation since rewritten or dropped (file 16400)",
    );
    assert.equal(describePoint(trunc, {}, { "16389": "public.orders" }), "TRUNCATE public.orders");
    assert.equal(describePoint(drop, {}, {}), "dropped or rewrote 2 relation files (16410, 16411)");
  });
});
