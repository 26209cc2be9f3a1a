// Cross-check of the YAML rendering at the CLI level: any string given as a label value with
// `--set worker.labels.<key>=<value>` comes out of `generate` as exactly that value, on every
// nodegroup, and adds no other key (no YAML or template injection through a value).
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeTestProject, type TestProject } from "./support/project.js";
import { recordCount } from "./support/counts.js";

let project: TestProject;
let baseLabels: Record<string, string>;
let valuesChecked = 0;

async function nodegroupLabels(): Promise<Record<string, string>[]> {
  const text = await readFile(join(project.root, "build", "prop", "nodegroups.yaml"), "utf8");
  const docs = parseAllDocuments(text).map((d) => d.toJS() as { nodeGroups: { labels?: Record<string, string> }[] });
  return docs.flatMap((d) => d.nodeGroups.map((ng) => ng.labels ?? {}));
}

beforeAll(async () => {
  project = await makeTestProject("eksbox-set-prop-");
  await project.writeEnv("prop", { zones: ["us-east-1a", "us-east-1b"] });
  const result = await project.run(["generate", "--env", "prop"]);
  expect(result.exitCode, result.stderr).toBe(0);
  baseLabels = (await nodegroupLabels())[0]!;
  expect(Object.keys(baseLabels).length).toBeGreaterThan(0);
});
afterAll(async () => {
  recordCount("--set label values round-tripped through generate", valuesChecked);
  await project?.cleanup();
});

// argv cannot carry NUL; "null" is documented to remove a key (--set k=null).
const labelValue = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: fc.constantFrom(..."{}%#:-*&!|>'\"\\\n\t []?,@`~=".split("")), maxLength: 12 }),
    fc.constantFrom("{{ 7*7 }}", "{% raw %}", "true", "~", "0x1F", "1e3", "*alias", "&anchor x", "- item", ": x", "'", "\"", "\\n", "yes", "0777", ".inf"),
  )
  .filter((v) => !v.includes("\0") && v !== "null");

it("arbitrary label values come out of generate exactly, with no extra keys", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(labelValue, { minLength: 1, maxLength: 10 }), async (values) => {
      await rm(join(project.root, "build"), { recursive: true, force: true });
      const sets = values.flatMap((v, i) => ["--set", `worker.labels.chaos${i}=${v}`]);
      const result = await project.run(["generate", "--env", "prop", ...sets]);
      expect(result.exitCode, result.stderr).toBe(0);
      const expected = { ...baseLabels, ...Object.fromEntries(values.map((v, i) => [`chaos${i}`, v])) };
      const all = await nodegroupLabels();
      expect(all.length).toBe(2);
      for (const labels of all) expect(labels).toStrictEqual(expected);
      valuesChecked += values.length;
    }),
    { numRuns: 12 },
  );
});
