import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { listEnvironments, loadEnvironment } from "../../../src/config/load.js";
import { generateEnvironment, renderEnvironment, validateRendered, writeRendered } from "../../../src/render/render.js";
import { validateAgainstEksctlSchema } from "../../../src/render/eksctl-validate.js";
import { makeProject, repoRoot, type Project } from "../config/project-fixture.js";

const golden = async (file: string) => parse(await readFile(path.join(repoRoot, "test/golden", file), "utf8"), { merge: true }) as unknown;

describe("prod reproduces the seed's eksctl files", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(() => project.cleanup());

  it("generate writes build/prod/{cluster,nodegroups}.yaml equal to the translated seed", async () => {
    const env = await loadEnvironment(project.root, "prod");
    const { rendered, written } = await generateEnvironment(project.root, env, { workerVersion: "20261125" });
    expect(written).toEqual([path.join(project.root, "build/prod/cluster.yaml"), path.join(project.root, "build/prod/nodegroups.yaml")]);
    expect(parse(await project.read("build/prod/nodegroups.yaml"))).toEqual(await golden("prod/nodegroups.yaml"));
    expect(parse(await project.read("build/prod/cluster.yaml"))).toEqual(await golden("prod/cluster.yaml"));
    expect(rendered.nodegroupNames).toEqual(["worker-1b-20261125", "worker-1c-20261125", "worker-1d-20261125"]);
    expect(rendered.cluster.relativePath).toBe("build/prod/cluster.yaml");
    expect(await readdir(path.join(project.root, "build/prod"))).toEqual(["cluster.yaml", "nodegroups.yaml"]);
  });

  it("repeated generate runs give identical files, the version recorded the first time", async () => {
    const env = await loadEnvironment(project.root, "prod");
    await generateEnvironment(project.root, env, { now: new Date("2026-11-25T10:00:00Z") });
    const first = [await project.read("build/prod/cluster.yaml"), await project.read("build/prod/nodegroups.yaml")];
    await generateEnvironment(project.root, env, { now: new Date("2026-12-31T10:00:00Z") });
    const second = [await project.read("build/prod/cluster.yaml"), await project.read("build/prod/nodegroups.yaml")];
    expect(second).toEqual(first);
    expect(first[1]).toContain("worker-1b-20261125");
  });

  it("--out writes somewhere else", async () => {
    const env = await loadEnvironment(project.root, "stg");
    const rendered = await renderEnvironment(project.root, env, { workerVersion: "v1" });
    const written = await writeRendered(project.root, rendered, "out/here");
    expect(written).toEqual([path.join(project.root, "out/here/cluster.yaml"), path.join(project.root, "out/here/nodegroups.yaml")]);
    expect(await readdir(path.join(project.root, "out/here"))).toEqual(["cluster.yaml", "nodegroups.yaml"]);
  });
});

describe("every sample environment", () => {
  it("renders documents eksctl's schema accepts, with no rule broken", async () => {
    for (const name of await listEnvironments(repoRoot)) {
      const env = await loadEnvironment(repoRoot, name);
      const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "20261125" });
      expect(validateAgainstEksctlSchema(rendered.cluster.document), name).toEqual([]);
      expect(validateAgainstEksctlSchema(rendered.nodegroups.document), name).toEqual([]);
      expect(validateRendered(rendered, env), name).toEqual([]);
      expect(rendered.cluster.document).not.toHaveProperty("nodeGroups");
      expect(rendered.nodegroupNames).toEqual(env.config.worker!.zones.map((z) => `worker-${z.split("-").pop()}-20261125`));
    }
  });

  it("local renders its service accounts and lets eksctl create the VPC", async () => {
    const env = await loadEnvironment(repoRoot, "local");
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "20261125" });
    const doc = rendered.cluster.document as { vpc: Record<string, unknown>; iam: { serviceAccounts: { metadata: { name: string } }[] } };
    expect(doc.vpc).not.toHaveProperty("subnets");
    expect(doc.iam.serviceAccounts.map((a) => a.metadata.name)).toEqual(env.config.cluster.serviceAccounts.map((a) => a.name));
    expect(rendered.cluster.text).not.toMatch(/token/i);
  });
});

describe("upgrading to node pools rolls nothing", () => {
  it("prod's rendered files are byte for byte what eksbox rendered before pools (test/golden/prod-bytes)", async () => {
    const env = await loadEnvironment(repoRoot, "prod");
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "20261125" });
    expect(rendered.nodegroups.text).toBe(await readFile(path.join(repoRoot, "test/golden/prod-bytes/nodegroups.yaml"), "utf8"));
    expect(rendered.cluster.text).toBe(await readFile(path.join(repoRoot, "test/golden/prod-bytes/cluster.yaml"), "utf8"));
    expect(rendered.nodegroupNames).toEqual(["worker-1b-20261125", "worker-1c-20261125", "worker-1d-20261125"]);
  });
});

describe("a project's own template written before node pools", () => {
  it("renders prod byte for byte as before with the worker shorthand (workerVersion, nodegroupTags, ... still there)", async () => {
    const project = await makeProject();
    try {
      await project.write(
        "templates/nodegroups.yaml.njk",
        await readFile(path.join(repoRoot, "test/fixtures/templates-before-pools/nodegroups.yaml.njk"), "utf8"),
      );
      const env = await loadEnvironment(project.root, "prod");
      const rendered = await renderEnvironment(project.root, env, { workerVersion: "20261125" });
      expect(rendered.nodegroups.text).toBe(await readFile(path.join(repoRoot, "test/golden/prod-bytes/nodegroups.yaml"), "utf8"));
      expect(validateRendered(rendered, env)).toEqual([]);
    } finally {
      await project.cleanup();
    }
  });
});
