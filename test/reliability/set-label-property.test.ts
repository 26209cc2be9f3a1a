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
import { SPEC_HASH_TAG } from "../../src/render/spec-hash.js";

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
    fc.stringMatching(/^[A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?$/),
    fc.constantFrom(
      "{{ 7*7 }}",
      "{% raw %}",
      "true",
      "~",
      "0x1F",
      "1e3",
      "*alias",
      "&anchor x",
      "- item",
      ": x",
      "'",
      '"',
      "\\n",
      "yes",
      "0777",
      ".inf",
    ),
  )
  .filter((v) => !v.includes("\0") && v !== "null");

/** Kubernetes' label value rule (the config refuses anything else up front, naming the key). */
const kubernetesLabelValue = (v: string) => v === "" || (v.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(v));

it("arbitrary label values come out of generate exactly, with no extra keys, or are refused naming the key", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(labelValue, { minLength: 1, maxLength: 10 }), async (values) => {
      await rm(join(project.root, "build"), { recursive: true, force: true });
      const sets = values.flatMap((v, i) => ["--set", `worker.labels.chaos${i}=${v}`]);
      const result = await project.run(["generate", "--env", "prop", ...sets]);
      const refused = values.map((v, i) => [v, i] as const).filter(([v]) => !kubernetesLabelValue(v));
      if (refused.length > 0) {
        expect(result.exitCode, result.stderr).toBe(2);
        for (const [, i] of refused) expect(result.stderr).toContain(`--set worker.labels.chaos${i}: worker.labels.chaos${i}: label value`);
        valuesChecked += values.length;
        return;
      }
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

async function nodegroupTags(): Promise<Record<string, string>[]> {
  const text = await readFile(join(project.root, "build", "prop", "nodegroups.yaml"), "utf8");
  const docs = parseAllDocuments(text).map((d) => d.toJS() as { nodeGroups: { tags?: Record<string, string> }[] });
  // The spec-hash tag is a digest of the launch-time spec, tags included, so it changes with them by design.
  return docs.flatMap((d) =>
    d.nodeGroups.map((ng) => {
      const tags = { ...ng.tags };
      expect(tags[SPEC_HASH_TAG]).toMatch(/^[0-9a-f]{16}$/);
      delete tags[SPEC_HASH_TAG];
      return tags;
    }),
  );
}

// Label values are held to Kubernetes' characters now; tags take any string, so they carry the
// injection check: whatever a value holds, it comes out as exactly that value and adds no key.
it("arbitrary tag values come out of generate exactly, with no extra keys", async () => {
  await rm(join(project.root, "build"), { recursive: true, force: true });
  expect((await project.run(["generate", "--env", "prop"])).exitCode).toBe(0);
  const baseTags = (await nodegroupTags())[0]!;
  await fc.assert(
    fc.asyncProperty(fc.array(labelValue, { minLength: 1, maxLength: 10 }), async (values) => {
      await rm(join(project.root, "build"), { recursive: true, force: true });
      const sets = values.flatMap((v, i) => ["--set", `worker.tags.chaos${i}=${v}`]);
      const result = await project.run(["generate", "--env", "prop", ...sets]);
      expect(result.exitCode, result.stderr).toBe(0);
      const expected = { ...baseTags, ...Object.fromEntries(values.map((v, i) => [`chaos${i}`, v])) };
      for (const tags of await nodegroupTags()) expect(tags).toStrictEqual(expected);
      valuesChecked += values.length;
    }),
    { numRuns: 12 },
  );
});
