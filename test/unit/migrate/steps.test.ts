import { strict as assert } from "node:assert";
import { othersThanOurs } from "../../../migrate/steps";

describe("the sessions a cutover reports as left on the source", () => {
  it("leaves out the cutover's own (its snapshot and verification sessions), and keeps everyone else's", () => {
    assert.deepEqual(
      othersThanOurs(["migrator@10.77.0.254 (pg-replication cutover)", "app@10.77.0.20 (rails)", "postgres@local (no name)"]),
      ["app@10.77.0.20 (rails)", "postgres@local (no name)"],
    );
  });
});
