import { strict as assert } from "node:assert";
import { ConfigError } from "../../../config";
import { identityFromEnv } from "../../../observe/identity";

describe("identityFromEnv", () => {
  it("is the deploy identity unless told otherwise", () => {
    assert.deepEqual(identityFromEnv({}), { kind: "deploy" });
  });

  it("reads the preview identity's key file and password", () => {
    assert.deepEqual(identityFromEnv({ PGR_IDENTITY: "preview", PGR_PREVIEW_SSH_KEY_FILE: "/k", PGR_PREVIEW_DB_PASSWORD: "p" }), {
      kind: "preview",
      sshKeyFile: "/k",
      dbPassword: "p",
    });
  });

  it("names every variable a preview identity lacks", () => {
    assert.throws(
      () => identityFromEnv({ PGR_IDENTITY: "preview" }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.problems.length === 2 &&
        /^PGR_PREVIEW_SSH_KEY_FILE: is required/.test(e.problems[0]) &&
        /^PGR_PREVIEW_DB_PASSWORD: is required/.test(e.problems[1]),
    );
  });

  it("refuses an unknown identity", () => {
    assert.throws(() => identityFromEnv({ PGR_IDENTITY: "root" }), /PGR_IDENTITY: must be deploy or preview/);
  });
});
