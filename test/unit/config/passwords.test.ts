import { strict as assert } from "node:assert";
import { passwordProblems } from "../../../config/passwords";

describe("passwordProblems", () => {
  it("names every password with a line break or control character, never its value", () => {
    const found = passwordProblems({
      adminPassword: "ok-Pw",
      replicationPassword: "two\nlines",
      sourcePassword: "tab\there",
      previewPassword: undefined,
    });
    assert.deepEqual(found, [
      "pg-replication:replicationPassword: contains a line break or another control character (a passfile line cannot carry it)",
      "pg-replication:sourcePassword: contains a line break or another control character (a passfile line cannot carry it)",
    ]);
    assert.doesNotMatch(found.join(), /two|tab/);
  });
});
