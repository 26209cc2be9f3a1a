// Golden files for node pools in each autoscaling.mode (test/golden/pools/<mode>/), byte for byte.
// UPDATE_GOLDEN=1 rewrites them; review the diff.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironment } from "../../../src/config/load.js";
import { renderEnvironment, validateRendered } from "../../../src/render/render.js";
import { makeProject, repoRoot, type Project } from "../config/project-fixture.js";

const goldenDir = path.join(repoRoot, "test/golden/pools");

async function matchGolden(relative: string, text: string): Promise<void> {
  const file = path.join(goldenDir, relative);
  if (process.env.UPDATE_GOLDEN) {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  expect(text, relative).toBe(await readFile(file, "utf8"));
}

describe("node pools render the same way every time, in each mode", () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject();
    await project.write("config/environments/pools.yaml", await readFile(path.join(goldenDir, "environment.yaml"), "utf8"));
  });
  afterAll(() => project.cleanup());

  const modes: [string, string[]][] = [
    ["clusterAutoscaler", []],
    ["karpenter", ["autoscaling.mode=karpenter"]],
    // Auto Mode takes managed nodegroups only.
    ["autoMode", ["autoscaling.mode=autoMode", "nodePools.workers.type=managed", "nodePools.workers.spot.spotInstancePools=null"]],
  ];
  for (const [mode, sets] of modes) {
    it(mode, async () => {
      const env = await loadEnvironment(project.root, "pools", { sets });
      const rendered = await renderEnvironment(project.root, env, { versions: { system: "20261125", workers: "20261126" } });
      expect(validateRendered(rendered, env)).toEqual([]);
      await matchGolden(`${mode}/cluster.yaml`, rendered.cluster.text);
      await matchGolden(`${mode}/nodegroups.yaml`, rendered.nodegroups.text);
      for (const manifest of rendered.karpenter) await matchGolden(`${mode}/karpenter/${manifest.pool}.yaml`, manifest.text);
      if (mode === "karpenter") {
        expect(rendered.nodegroupNames).toEqual(["system-20261125"]);
        expect(rendered.karpenter.map((m) => m.relativePath)).toEqual(["build/pools/karpenter/workers.yaml"]);
      } else {
        expect(rendered.nodegroupNames).toEqual(["system-20261125", "workers-1b-20261126", "workers-1c-20261126"]);
        expect(rendered.karpenter).toEqual([]);
      }
    });
  }

  it("autoMode accepts a cluster with no nodegroups", async () => {
    await project.write(
      "config/environments/auto.yaml",
      'aws: { region: ap-northeast-1, accountId: "111111111111" }\nautoscaling: { mode: autoMode }\nworker: null\n',
    );
    const env = await loadEnvironment(project.root, "auto");
    const rendered = await renderEnvironment(project.root, env, { versions: {} });
    expect(rendered.nodegroupNames).toEqual([]);
    expect(validateRendered(rendered, env)).toEqual([]);
    expect(rendered.cluster.document.autoModeConfig).toEqual({ enabled: true, nodePools: ["general-purpose", "system"] });
  });
});
