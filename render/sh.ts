// How a host script's header is written: every value interpolated into `sh` becomes one quoted
// shell word (an array, several), unless the renderer built the text itself and says so with raw().
import { shellQuote } from "./quote";

class Raw {
  constructor(readonly text: string) {}
}

/** Text that goes into a script as is: only for text built from constants or already quoted. */
export const raw = (text: string): Raw => new Raw(text);

export type ShValue = string | number | Raw | readonly (string | number)[];

const word = (v: ShValue): string =>
  v instanceof Raw ? v.text : Array.isArray(v) ? v.map((w) => shellQuote(String(w))).join(" ") : shellQuote(String(v));

/** sh`x=${value}` quotes `value` as one shell word; sh`a=(${list})` makes an array of words. */
export function sh(strings: TemplateStringsArray, ...values: ShValue[]): string {
  return strings.reduce((out, s, i) => out + s + (i < values.length ? word(values[i]) : ""), "");
}

/** A comment line: a line break in `text` would end it, so each becomes a space. */
export const comment = (text: string): string => `# ${text.replace(/[\r\n]/g, " ")}`;

const MARKER = "PG_REPLICATION_EOF";

/**
 * A function that prints `content` verbatim (a quoted heredoc: `$` and backquotes stay literal),
 * so that a header defines a file's text without writing it anywhere.
 */
export function fileFunction(name: string, content: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a shell function name: ${name}`);
  if (content.split("\n").includes(MARKER)) throw new Error(`content for ${name} contains the heredoc marker`);
  return `${name}() {\n  cat <<'${MARKER}'\n${content}${content.endsWith("\n") ? "" : "\n"}${MARKER}\n}`;
}
