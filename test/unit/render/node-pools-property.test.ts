// Property: over pools x modes x types, every valid combination renders files that pass eksctl's
// schema and rules (and Karpenter's v1 schemas), and every refused one is refused with the file,
// the key and the reason. The expected verdict comes from this file's own oracle, written from the
// issue's rules, not from the code under test.
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError } from "../../../src/core/errors.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { renderEnvironment, validateRendered } from "../../../src/render/render.js";
import { makeProject, type Project } from "../config/project-fixture.js";

const amd64Types = ["m5.xlarge", "c5.large", "t3.medium", "g5.xlarge"];
const arm64Types = ["m7g.large", "c7g.xlarge", "t4g.medium", "r8g.large"];
const families = ["m7g", "c6i"];
const amiFamilies = ["AmazonLinux2023", "AmazonLinux2", "Bottlerocket", "Ubuntu2404", "UbuntuPro2404"] as const;
const modes = ["clusterAutoscaler", "karpenter", "autoMode"] as const;

const poolArb = fc.record({
  type: fc.constantFrom("managed", "selfManaged"),
  perZone: fc.boolean(),
  spot: fc.boolean(),
  instanceTypes: fc.oneof(
    fc.subarray(amd64Types, { minLength: 1 }),
    fc.subarray(arm64Types, { minLength: 1 }),
    fc.tuple(fc.constantFrom(...amd64Types), fc.constantFrom(...arm64Types)).map(([a, b]) => [a, b]),
    fc.subarray(families, { minLength: 1, maxLength: 1 }),
  ),
  amiFamily: fc.constantFrom(...amiFamilies),
  zones: fc.subarray(["ap-northeast-1b", "ap-northeast-1c"], { minLength: 1 }),
});
const caseArb = fc.record({
  mode: fc.constantFrom(...modes),
  pools: fc.dictionary(fc.constantFrom("system", "workers", "gpu"), poolArb, { minKeys: 1, maxKeys: 3 }),
});

type Pool = typeof poolArb extends fc.Arbitrary<infer T> ? T : never;
const arch = (t: string) => (/^[a-z]+\d+g[a-z]*$/.test(t.split(".")[0]!) ? "arm64" : "amd64");

/** The keys a case must be refused at, from the issue's rules. Empty: it must render and validate. */
function expectedRefusals(mode: (typeof modes)[number], pools: Record<string, Pool>): string[] {
  const refused: string[] = [];
  if (mode === "karpenter") {
    if (!pools.system) refused.push("nodePools.system");
    else if (pools.system.type !== "managed") refused.push("nodePools.system.type");
  }
  for (const [name, pool] of Object.entries(pools)) {
    const at = `nodePools.${name}`;
    const nodegroup = mode !== "karpenter" || name === "system";
    const arches = new Set(pool.instanceTypes.map(arch));
    if (mode === "autoMode" && pool.type === "selfManaged") refused.push(`${at}.type`);
    if (arches.size > 1) refused.push(`${at}.instanceTypes`);
    if (nodegroup && pool.instanceTypes.some((t) => !t.includes("."))) refused.push(`${at}.instanceTypes`);
    if (pool.amiFamily === "AmazonLinux2") refused.push(`${at}.amiFamily`); // none for Kubernetes 1.34
    // A mixed pool has no one architecture to look an image up for: only the mix is reported.
    if (!nodegroup && pool.amiFamily.startsWith("Ubuntu")) refused.push(`${at}.amiFamily`);
  }
  return refused;
}

let project: Project;
let runs = 0;
beforeAll(async () => {
  project = await makeProject();
});
afterAll(() => project.cleanup());

it("every valid pools x modes x types combination renders and validates; every refused one names file, key and reason", async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async ({ mode, pools }) => {
      const name = `prop${runs++}`;
      const nodePools = Object.fromEntries(
        Object.entries(pools).map(([pool, p]) => [
          pool,
          { ...p, spot: { enabled: p.spot, spotInstancePools: null, spotAllocationStrategy: "price-capacity-optimized" } },
        ]),
      );
      const file = `config/environments/${name}.yaml`;
      await project.write(
        file,
        stringify({ aws: { region: "ap-northeast-1", accountId: "111111111111" }, autoscaling: { mode }, nodePools }),
      );
      const expected = expectedRefusals(mode, pools);
      const outcome = await loadEnvironment(project.root, name).then(
        async (env) => {
          const rendered = await renderEnvironment(project.root, env, { workerVersion: "20261125" });
          return { issues: validateRendered(rendered, env), rendered };
        },
        (error: unknown) => ({ error }),
      );
      if (expected.length === 0) {
        expect("error" in outcome ? outcome.error : undefined, JSON.stringify({ mode, pools })).toBeUndefined();
        if ("issues" in outcome) {
          expect(outcome.issues, JSON.stringify({ mode, pools })).toEqual([]);
          const karpenterPools = mode === "karpenter" ? Object.keys(pools).filter((p) => p !== "system") : [];
          expect(outcome.rendered.karpenter.map((m) => m.pool)).toEqual(karpenterPools);
        }
      } else {
        expect("error" in outcome && outcome.error, JSON.stringify({ mode, pools, expected })).toBeInstanceOf(ConfigError);
        const issues = (outcome as { error: ConfigError }).error.issues;
        for (const issue of issues) {
          expect(issue.file, JSON.stringify(issue)).toMatch(/^config\//);
          expect(issue.path, JSON.stringify(issue)).toBeTruthy();
          expect(issue.message.length, JSON.stringify(issue)).toBeGreaterThan(5);
        }
        expect([...new Set(issues.map((i) => i.path))].sort(), JSON.stringify({ mode, pools })).toEqual([...new Set(expected)].sort());
      }
    }),
    { numRuns: 80, seed: Number(process.env.EKSBOX_PROPERTY_SEED ?? 20261126) },
  );
}, 120_000);
