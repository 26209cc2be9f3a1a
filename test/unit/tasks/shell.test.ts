// Argument rendering against injection: whatever a value holds (quotes, $(), backticks, ;,
// newlines, globs, any unicode but NUL), a rendered script hands it to the command as exactly one
// argument, and an argv element stays exactly one element. Checked by running real sh.
import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { autoescapeShell, renderArgv, renderScript, RenderError, shellQuoteValue } from "../../../src/tasks/shell.js";

const nastyPieces = [
  "'",
  '"',
  "$(touch /tmp/eksbox-pwned)",
  "`id`",
  ";",
  "&&",
  "|",
  "\n",
  "\\",
  "$HOME",
  "*",
  "~",
  " ",
  "\t",
  "#",
  "{{ x }}",
  "%}",
  "-n",
  "--",
  "'\\''",
];
// Strings biased towards shell metacharacters, plus arbitrary NUL-free unicode.
const value = fc
  .oneof(
    fc.array(fc.constantFrom(...nastyPieces), { maxLength: 8 }).map((parts) => parts.join("")),
    fc.string({ unit: "grapheme", maxLength: 30 }),
    fc.string({ unit: "binary", maxLength: 30 }),
  )
  .filter((s) => !s.includes("\0"));

function sh(script: string): string {
  return execFileSync("sh", ["-c", script], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/nonexistent" } });
}

describe("script rendering", () => {
  it("prints exactly the value and nothing else, for any value", () => {
    fc.assert(
      fc.property(value, (v) => {
        const script = renderScript("printf '%s\\n' {{ args.v }}", { args: { v } });
        expect(sh(script)).toBe(`${v}\n`);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps each list element one argument, and two values two arguments", () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), value, (list, other) => {
        const script = renderScript("printf '<%s>' {{ args.list }} {{ args.other }}", { args: { list, other } });
        expect(sh(script)).toBe([...list, other].map((x) => `<${x}>`).join(""));
      }),
      { numRuns: 150 },
    );
  });

  it("quotes values inside the script's own quoting and control flow too", () => {
    const script = renderScript("{% if args.v %}printf '%s|' {{ args.v }} {{ 'lit;eral' }}{% endif %}", { args: { v: "a'b; echo pwned" } });
    expect(sh(script)).toBe("a'b; echo pwned|lit;eral|");
  });

  it("does not let | safe opt out", () => {
    const script = renderScript("printf '%s' {{ args.v | safe }}", { args: { v: "x; echo pwned" } });
    expect(sh(script)).toBe("x; echo pwned");
  });

  it("rewrites expressions holding }} in strings, and leaves comments and raw blocks alone", () => {
    expect(autoescapeShell("a {{ '}}' }} {# {{ x }} #} {% raw %}{{ y }}{% endraw %} {{- z -}}")).toBe(
      "a {{ ( '}}' ) | shq }} {# {{ x }} #} {% raw %}{{ y }}{% endraw %} {{- ( z ) | shq -}}",
    );
  });

  it("refuses an undefined value (a misspelt name) instead of printing nothing", () => {
    expect(() => renderScript("echo {{ args.nmae }}", { args: { name: "x" } })).toThrow(RenderError);
    expect(() => renderScript("echo {{ args.name }}", { args: { name: "a\0b" } })).toThrow(/NUL/);
  });

  it("refuses a map, which has no single-word form", () => {
    expect(() => shellQuoteValue({ a: 1 })).toThrow(/map/);
  });
});

describe("argv rendering", () => {
  it("keeps any value one element, whatever it holds", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(renderArgv(["printf", "%s\\n", "{{ args.v }}"], { args: { v } })).toEqual(["printf", "%s\\n", v]);
        expect(renderArgv(["--name={{ args.v }}"], { args: { v } })).toEqual([`--name=${v}`]);
      }),
      { numRuns: 300 },
    );
  });

  it("runs as exactly the value when executed without a shell", () => {
    fc.assert(
      fc.property(value, (v) => {
        const [cmd, ...rest] = renderArgv(["printf", "%s", "{{ args.v }}"], { args: { v } });
        expect(execFileSync(cmd!, rest, { encoding: "utf8" })).toBe(v);
      }),
      { numRuns: 100 },
    );
  });

  it("spreads a list when the element is only that list", () => {
    expect(renderArgv(["kubectl", "{{ args.extra }}", "x{{ args.n }}"], { args: { extra: ["-n", "a b"], n: 3 } })).toEqual([
      "kubectl",
      "-n",
      "a b",
      "x3",
    ]);
    expect(renderArgv(['{{ args["with-dash"] }}'], { args: { "with-dash": ["p", "q"] } })).toEqual(["p", "q"]);
  });
});
