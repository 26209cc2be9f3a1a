import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { compileValidatorAtRuntime, loadValidator, validateAgainstEksctlSchema } from "../../../src/render/eksctl-validate.js";
import { GENERATED_VALIDATOR, generateValidatorSource, REGENERATE_VALIDATOR_COMMAND } from "../../../src/render/eksctl-validator-build.js";
import { repoRoot } from "../config/project-fixture.js";

const examplesDir = fileURLToPath(new URL("../../fixtures/eksctl-v0.230.0-examples", import.meta.url));

describe("the eksctl schema validator", () => {
  it("the generated validator is up to date with the vendored schema", async () => {
    const committed = await readFile(path.join(repoRoot, GENERATED_VALIDATOR), "utf8");
    expect(committed === generateValidatorSource(), `${GENERATED_VALIDATOR} is stale: run \`${REGENERATE_VALIDATOR_COMMAND}\``).toBe(true);
  });

  it("agrees with the schema compiled at runtime on eksctl's own examples (46 of 48 pass, as documented)", async () => {
    const generated = await loadValidator();
    const runtime = compileValidatorAtRuntime();
    const failing: string[] = [];
    const files = (await readdir(examplesDir)).filter((f) => f.endsWith(".yaml")).sort();
    expect(files.length).toBe(48);
    for (const file of files) {
      const doc = parse(await readFile(path.join(examplesDir, file), "utf8")) as unknown;
      const ok = generated(doc);
      expect(runtime(doc), file).toBe(ok);
      if (!ok) failing.push(file);
    }
    expect(failing).toEqual(["27-oidc-provider.yaml", "43-hybrid-nodes.yaml"]);
  });

  it("reports unknown fields, wrong types and unquoted versions with their paths", () => {
    const findings = validateAgainstEksctlSchema({
      apiVersion: "eksctl.io/v1alpha5",
      kind: "ClusterConfig",
      metadata: { name: "x", region: "ap-northeast-1", version: 1.3 },
      nodeGroups: [{ name: "ng", volumeTyp: "gp3", minSize: "1" }],
    });
    expect(findings).toEqual(
      expect.arrayContaining([
        { path: ["metadata", "version"], message: "must be string" },
        { path: ["nodeGroups", 0, "volumeTyp"], message: "is not a field eksctl knows here" },
        { path: ["nodeGroups", 0, "minSize"], message: "must be integer" },
      ]),
    );
  });
});
