import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PERSONAL_COLUMN_PATTERN, unmaskedColumns } from "../../../observe/personalColumns";

describe("personal-looking columns of a refreshed cluster", () => {
  const masking = [{ database: "appdb", schema: "public", table: "people", columns: { email: "email" as const, phone: "phone" as const } }];

  it("lists those no masking rule covers, once each, in order", () => {
    const seen = [
      "appdb.public.people.email",
      "appdb.public.people.postal_address",
      "appdb.public.people.phone",
      "other.public.people.email",
    ];
    assert.deepEqual(unmaskedColumns([...seen, seen[1]], masking), ["appdb.public.people.postal_address", "other.public.people.email"]);
  });

  it("lists nothing when every one is covered", () => {
    assert.deepEqual(unmaskedColumns(["appdb.public.people.email"], masking), []);
  });

  it("matches what a person would call personal data, and not the rest", () => {
    const re = new RegExp(PERSONAL_COLUMN_PATTERN, "i");
    for (const yes of ["email", "E_Mail", "phone", "full_name", "surname", "name", "postal_address", "birth_date", "iban"])
      assert.match(yes, re);
    for (const no of ["id", "amount", "created_at", "status", "filename"]) assert.doesNotMatch(no, re);
  });

  it("is the pattern the refresh's own report on the host uses", () => {
    const script = fs.readFileSync(path.resolve(__dirname, "../../../host/refresh.sh"), "utf8");
    assert.ok(script.includes(`column_name ~* '${PERSONAL_COLUMN_PATTERN}'`), "host/refresh.sh's pattern differs");
  });
});
