import { execFileSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { shellQuote, shellWord } from "../../../src/core/shell-quote.js";

/** What a real sh makes of a command line: each word it passes to printf, split on NUL. */
function wordsAsShSeesThem(commandLine: string): string[] {
  const out = execFileSync("sh", ["-c", `printf '%s\\0' ${commandLine}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const word = fc
  .string({
    unit: fc.oneof(
      fc.constantFrom("'", '"', "\\", "$", "`", " ", "\n", "*", ";", "|", "&", "!", "(", "#", "~"),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  })
  .filter((s) => !s.includes("\0"));

describe("shell quoting", () => {
  it("makes every string exactly one word for sh, whatever it holds (property)", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 40 }), (words) => {
        expect(wordsAsShSeesThem(words.map(shellWord).join(" "))).toEqual(words);
        expect(wordsAsShSeesThem(shellQuote(words))).toEqual(words);
      }),
      { numRuns: 30 },
    );
  });

  it("always quotes a word for a script, and leaves safe words bare for display", () => {
    expect(shellWord("plain")).toBe("'plain'");
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote(["eksctl", "create", "cluster", "-f", "build/dev/cluster.yaml", "$HOME", ""])).toBe(
      "eksctl create cluster -f build/dev/cluster.yaml '$HOME' ''",
    );
  });
});
