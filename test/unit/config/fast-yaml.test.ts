import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { listEnvironments, loadEnvironment } from "../../../src/config/load.js";
import { renderEnvironment } from "../../../src/render/render.js";
import { parseSimpleYaml } from "../../../src/config/fast-yaml.js";
import { yamlQuote } from "../../../src/render/yaml-escape.js";
import { repoRoot } from "./project-fixture.js";

/** What the `yaml` library makes of a text: its value, or "error". */
function reference(text: string): unknown {
  const doc = parseDocument(text);
  return doc.errors.length > 0 ? "error" : doc.toJS();
}

/** The fast path may decline, but whatever it returns must be what `yaml` returns. */
function expectAgrees(text: string): boolean {
  const fast = parseSimpleYaml(text);
  if (fast) expect(fast.value, text).toEqual(reference(text));
  return fast !== undefined;
}

/** Block YAML in the style of the templates: literal keys, values through the yaml filter. */
function emit(value: unknown, indent = ""): string {
  if (Array.isArray(value) && value.length > 0) {
    return value.map((item) => (isNested(item) ? `${indent}-\n${emit(item, `${indent}  `)}` : `${indent}- ${yamlQuote(item)}\n`)).join("");
  }
  if (isNested(value)) {
    return Object.entries(value as object)
      .map(([k, v]) => (isNested(v) ? `${indent}${yamlQuote(k)}:\n${emit(v, `${indent}  `)}` : `${indent}${yamlQuote(k)}: ${yamlQuote(v)}\n`))
      .join("");
  }
  return `${indent}${yamlQuote(value)}\n`;
}
function isNested(value: unknown): boolean {
  return typeof value === "object" && value !== null && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0);
}

const text = fc.oneof(fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom(": ", "#", " #", "- ", '"', "'", "\\", "\u2028", "\ufeff", "true", "1.5", "007", "-"));
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: "small" }, tie("leaf"), fc.array(tie("node"), { maxLength: 3 }), fc.dictionary(text, tie("node"), { maxKeys: 3 })),
  leaf: fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true })),
})).node;

describe("the fast YAML path", () => {
  it("reads every sample environment's rendered files exactly as yaml does", async () => {
    for (const name of await listEnvironments(repoRoot)) {
      const env = await loadEnvironment(repoRoot, name);
      const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
      for (const file of [rendered.cluster, rendered.nodegroups]) {
        expect(parseSimpleYaml(file.text), file.relativePath).toEqual({ value: reference(file.text) });
      }
    }
  });

  it("reads the sample config files exactly as yaml does", async () => {
    const { readdir, readFile } = await import("node:fs/promises");
    const files = ["config/defaults.yaml", ...(await readdir(`${repoRoot}/config/environments`)).map((f) => `config/environments/${f}`)];
    for (const file of files) {
      const source = await readFile(`${repoRoot}/${file}`, "utf8");
      expect(parseSimpleYaml(source), file).toEqual({ value: reference(source) });
    }
  });

  it("agrees with yaml on template-style documents of any content (property)", () => {
    fc.assert(
      fc.property(fc.dictionary(text, value, { minKeys: 1, maxKeys: 4 }), (doc) => {
        const source = emit(doc);
        const fast = parseSimpleYaml(source);
        expect(fast, source).toBeDefined();
        expect(fast!.value).toEqual(reference(source));
      }),
      { numRuns: 400 },
    );
  });

  it("never disagrees with yaml on arbitrary YAML, whether it declines or not (property)", () => {
    const fragment = fc.constantFrom("a", "b", "k8s.io/x", '"q"', '"a\\nb"', "1", "-1", "1.5", "007", "0x1F", "1e3", "1b", "203.0.113.10/32", "50Mi", "true", "True", "null", "~", "yes", "x y", "[]", "{}", '["a",1]', '{"a":1,"a":2}', "[a, b]", "[a,b,]", "[a: b]", "[1, 1.0, x]", "{a: 1}", "{ a: 1, b: [c] }", "{a:1}", '{"a":1}', "{ a: 1, a: 2 }", "[http://h]", "{ id: subnet-0abc }", "&x", "*x", "!t", "|", ">", "'s'", "#c", " #c", "http://h", "http://h:1", "a:", "a#b", "<<", "__proto__", ".inf", "-x");
    const line = fc.tuple(fc.constantFrom("", "  ", "    ", "   "), fc.constantFrom("", "- ", "- - ", "-"), fragment, fc.constantFrom(":", ": ", "", ":  ", " :"), fc.option(fragment, { nil: "" }));
    const document = fc.array(line, { minLength: 1, maxLength: 8 }).map((lines) => lines.map((parts) => parts.join("")).join("\n"));
    let accepted = 0;
    fc.assert(fc.property(document, (source) => void (expectAgrees(source) && accepted++)), { numRuns: 3000 });
    fc.assert(fc.property(value, (v) => void (expectAgrees(stringify(v)) && accepted++)), { numRuns: 500 });
    // The comparison means something only if the fast path takes a fair share of the inputs.
    expect(accepted).toBeGreaterThan(150);
  });

  it.each([
    ["a: &x 1\nb: *x\n"],
    ["a: |\n  text\n"],
    ["a: 'single'\n"],
    ["a: 1.\n"],
    ["a: [b, c,]\n"],
    ["a: [b,\n  c]\n"],
    ["a: {b:1}\n"],
    ['a: {"k":1,"k":2}\n'],
    ["a: 1\na: 2\n"],
    ["a:\n\tb: 1\n"],
    ["---\na: 1\n"],
    ["a: x\n  y\n"],
  ])("declines %j for the yaml library to handle", (source) => {
    expect(parseSimpleYaml(source)).toBeUndefined();
  });
});
