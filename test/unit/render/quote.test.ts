import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { confValue, conninfo, conninfoValue, passfileField, shellQuote, sqlIdent, sqlLiteral } from "../../../render/quote";

describe("quoting", () => {
  it("double-quotes identifiers and doubles embedded quotes", () => {
    assert.equal(sqlIdent("app"), '"app"');
    assert.equal(sqlIdent('we"ird'), '"we""ird"');
    assert.throws(() => sqlIdent("a\0b"), /NUL/);
  });

  it("quotes literals", () => {
    assert.equal(sqlLiteral("it's"), "'it''s'");
    // the same value whether standard_conforming_strings is on or off
    assert.equal(sqlLiteral("a\\'; drop table t; --"), "E'a\\\\''; drop table t; --'");
  });

  it("makes shell words that survive the shell unchanged", () => {
    for (const word of ["plain", "with space", "it's", "$(rm -rf /)", "`x`", "a\nb", "*", ""]) {
      const echoed = execFileSync("sh", ["-c", `printf %s ${shellQuote(word)}`]).toString();
      assert.equal(echoed, word);
    }
  });

  it("renders postgresql.conf values", () => {
    assert.equal(confValue(10), "10");
    assert.equal(confValue(true), "on");
    assert.equal(confValue("10GB"), "10GB");
    assert.equal(confValue("*"), "'*'");
    assert.equal(confValue("it's"), "'it''s'");
  });

  it("quotes libpq connection values and .pgpass fields", () => {
    assert.equal(conninfoValue("it's a \\ path"), "'it\\'s a \\\\ path'");
    assert.equal(conninfoValue(5432), "'5432'");
    assert.equal(passfileField("a:b\\c"), "a\\:b\\\\c");
  });

  it("builds a libpq connection string with every value quoted, and refuses an odd keyword", () => {
    assert.equal(conninfo({ host: "h", port: 5432, user: "it's", passfile: undefined }), "host='h' port='5432' user='it\\'s'");
    assert.throws(() => conninfo({ "host=x user": "y" }), /not a libpq keyword/);
  });
});
