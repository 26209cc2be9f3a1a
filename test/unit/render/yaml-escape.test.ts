import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadEnvironment } from "../../../src/config/load.js";
import type { Environment } from "../../../src/config/schema.js";
import { renderEnvironment } from "../../../src/render/render.js";
import { autoescapeYaml, yamlQuote } from "../../../src/render/yaml-escape.js";
import { repoRoot } from "../config/project-fixture.js";

describe("the YAML autoescape", () => {
  it("sends every output expression through the yaml filter, keeping lines", () => {
    const source =
      'a: {{ x }}\nb: {{- y | safe -}}\n{# {{ c }} #}\n{% raw %}{{ r }}{% endraw %}\nd: {{ {"k": {"n": 1}} }}\ne: {{ "}}"\n }}';
    expect(autoescapeYaml(source)).toBe(
      'a: {{ ( x ) | yaml(1) }}\nb: {{- ( y | safe ) | yaml(2) -}}\n{# {{ c }} #}\n{% raw %}{{ r }}{% endraw %}\nd: {{ ( {"k": {"n": 1}} ) | yaml(5) }}\ne: {{ ( "}}"\n ) | yaml(6) }}',
    );
  });

  it("quotes strings as JSON (valid YAML) and refuses undefined", () => {
    expect(yamlQuote("a: b\n#c")).toBe('"a: b\\n#c"');
    expect(yamlQuote("1.30")).toBe('"1.30"');
    expect(yamlQuote(3)).toBe("3");
    expect(yamlQuote(["x", true])).toBe('["x",true]');
    expect(yamlQuote("\u0085\u2028\ufeff")).toBe('"\\u0085\\u2028\\ufeff"');
    expect(() => yamlQuote(undefined)).toThrow(/undefined value/);
    expect(() => yamlQuote(Number.NaN)).toThrow();
  });
});

// Strings built from what breaks naive templating, mixed with arbitrary code points.
const nasty = fc.oneof(
  fc.constantFrom(
    ": ",
    "#",
    " #x",
    "\n",
    "\r\n",
    "'",
    '"',
    "*a",
    "&a",
    "!tag",
    "- ",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "|",
    ">",
    "\\",
    "%",
    "@",
    "`",
    "\t",
    "---",
    "...",
    "<<",
    "\u0085",
    "\u2028",
    "\ufeff",
    "\u0000",
    "\u007f",
    "1.30",
    "true",
    "null",
    "~",
    "key: value",
  ),
  fc.string({ unit: "binary", maxLength: 8 }),
);
const nastyString = fc.array(nasty, { maxLength: 6 }).map((parts) => parts.join(""));

describe("values can never add a key (property)", () => {
  it("labels, tags, taints, preBootstrapCommands and names round-trip through the real templates", async () => {
    const base = await loadEnvironment(repoRoot, "prod");
    const baseline = await renderEnvironment(repoRoot, base, { workerVersion: "v1" });
    const baselineKeys = Object.keys((baseline.nodegroups.document.nodeGroups as Record<string, unknown>[])[0]!).sort();

    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(nastyString, nastyString, { maxKeys: 4 }),
        fc.array(nastyString, { maxLength: 3 }),
        nastyString,
        nastyString,
        async (labels, commands, taintValue, policy) => {
          const env: Environment = structuredClone(base);
          env.config.worker!.labels = labels;
          env.config.worker!.tags = { note: taintValue };
          env.config.worker!.preBootstrapCommands = commands;
          env.config.worker!.taints = [{ key: "dedicated", value: taintValue, effect: "NoSchedule" }];
          env.config.cluster.tags = { owner: policy };
          const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
          const ng = (rendered.nodegroups.document.nodeGroups as Record<string, unknown>[])[0]!;
          const expectedKeys = new Set([...baselineKeys, "preBootstrapCommands", "taints"]);
          if (commands.length === 0) expectedKeys.delete("preBootstrapCommands");
          if (Object.keys(labels).length === 0) expectedKeys.delete("labels");
          expect(Object.keys(ng).sort()).toEqual([...expectedKeys].sort());
          expect(ng.labels ?? {}).toEqual(labels);
          expect(ng.preBootstrapCommands ?? []).toEqual(commands);
          expect(ng.taints).toEqual([{ key: "dedicated", value: taintValue, effect: "NoSchedule" }]);
          expect((ng.tags as Record<string, string>).note).toBe(taintValue);
          expect(Object.keys(rendered.cluster.document).sort()).toEqual(Object.keys(baseline.cluster.document).sort());
          expect((rendered.cluster.document.metadata as Record<string, unknown>).tags).toEqual({ owner: policy });
        },
      ),
      { numRuns: 300 },
    );
  });

  it("any value in any position of a flat template stays one scalar", () => {
    const nunjucksTemplate = autoescapeYaml("a: {{ v }}\nlist:\n- {{ v }}\nmap: { k: {{ v }} }\nkeys:\n  {{ v }}: 1\n").replace(
      /yaml\(\d+\)/g,
      "yaml",
    );
    fc.assert(
      fc.property(nastyString, (v) => {
        // Render by hand the way nunjucks would: each {{ (v) | yaml }} becomes yamlQuote(v).
        const text = nunjucksTemplate.replaceAll("{{ ( v ) | yaml }}", yamlQuote(v));
        expect(parse(text)).toEqual({ a: v, list: [v], map: { k: v }, keys: { [v]: 1 } });
      }),
      { numRuns: 500 },
    );
  });
});
