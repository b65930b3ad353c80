import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { fileFunction, raw, sh } from "../../../render/sh";

const HOSTILE = [
  "plain",
  "with space",
  "it's",
  "it's $(id)",
  'it\'s "q" !x',
  "$(touch /nonexistent/x)",
  "`id`",
  "a\nb",
  "*",
  "",
  "back\\slash'",
];
const bash = (script: string) => execFileSync("bash", ["-c", script]).toString();

describe("sh", () => {
  it("makes every interpolated value one word that reaches bash unchanged", () => {
    for (const word of HOSTILE) assert.equal(bash(`${sh`x=${word}`}; printf %s "$x"`), word);
  });

  it("makes an array of words from a list, and an empty array from none", () => {
    assert.equal(bash(`${sh`a=(${HOSTILE})`}; printf '%s|' "\${a[@]}"`), HOSTILE.map((w) => `${w}|`).join(""));
    assert.equal(sh`a=(${[]})`, "a=()");
  });

  it("leaves raw() text as it is", () => {
    assert.equal(sh`x=${raw("$y")} z=${"$y"}`, "x=$y z='$y'");
  });
});

describe("fileFunction", () => {
  it("prints its content verbatim", () => {
    const content = "a = '$HOME' `x`\n\\n\n";
    assert.equal(bash(`${fileFunction("f", content)}\nf`), content);
  });

  it("refuses its marker inside the content, and a name that is not a function name", () => {
    assert.throws(() => fileFunction("f", "PG_REPLICATION_EOF\n"), /heredoc marker/);
    assert.throws(() => fileFunction("f; rm", ""), /not a shell function name/);
  });
});
