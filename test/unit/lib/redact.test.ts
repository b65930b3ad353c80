import { strict as assert } from "node:assert";
import { redact } from "../../../lib/redact";

describe("redact", () => {
  it("hides every occurrence of every secret, and nothing when there is none", () => {
    assert.equal(redact("pw1 then pw1 and pw2", "pw1", "pw2"), "[secret] then [secret] and [secret]");
    assert.equal(redact("nothing here", "", undefined), "nothing here");
  });
});
