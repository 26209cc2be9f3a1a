import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, type ConfigIssue } from "../../../src/core/errors.js";
import { loadEnvironment } from "../../../src/config/load.js";
import type { Environment } from "../../../src/config/schema.js";
import { generateEnvironment, renderEnvironment, validateRendered } from "../../../src/render/render.js";
import { makeProject, repoRoot, type Project } from "../config/project-fixture.js";

const NODEGROUPS = "templates/nodegroups.yaml.njk";
const CLUSTER = "templates/cluster.yaml.njk";

async function lineOf(project: Project, file: string, needle: string): Promise<number> {
  const index = (await project.read(file)).split("\n").findIndex((l) => l.includes(needle));
  expect(index, `${needle} in ${file}`).toBeGreaterThanOrEqual(0);
  return index + 1;
}

async function issuesFor(project: Project, envName = "prod", sets?: string[]): Promise<ConfigIssue[]> {
  const env = await loadEnvironment(project.root, envName, { sets });
  return validateRendered(await renderEnvironment(project.root, env, { workerVersion: "v1" }), env);
}

describe("problems in edited templates point at the template line and the config key", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(() => project.cleanup());

  it("an unquoted Kubernetes version", async () => {
    await project.edit(CLUSTER, (t) => t.replace("version: {{ cluster.version }}", "version: {{ cluster.version | float | safe }}"));
    const issues = await issuesFor(project);
    expect(issues).toEqual([
      expect.objectContaining({
        file: CLUSTER,
        line: await lineOf(project, CLUSTER, "  version: {{"),
        path: "metadata.version",
        message: expect.stringContaining('must be a quoted string such as "1.34" (got 1.34)'),
        hint: expect.stringMatching(/rendered at build\/prod\/cluster.yaml:\d+; value from cluster.version \(config\/defaults.yaml:\d+\)$/),
      }),
    ]);
  });

  it("a misspelt eksctl field is reported from eksctl's schema", async () => {
    await project.edit(NODEGROUPS, (t) => t.replace("  volumeType: {{", "  volumeTyp: {{"));
    const issues = await issuesFor(project);
    expect(issues.length).toBe(3);
    expect(issues[0]).toMatchObject({
      file: NODEGROUPS,
      line: await lineOf(project, NODEGROUPS, "volumeTyp:"),
      path: "nodeGroups[0].volumeTyp",
      message: "eksctl schema: is not a field eksctl knows here",
    });
  });

  it("a wrong type names the config line the value came from", async () => {
    await project.edit(NODEGROUPS, (t) =>
      t.replace("  volumeSize: {{ pool.volume.size }}", "  volumeSize: {{ pool.volume.size | string }}"),
    );
    const issues = await issuesFor(project);
    const configLine = await lineOf(project, "config/environments/prod.yaml", "size: 200");
    expect(issues).toHaveLength(3);
    expect(issues[0]).toMatchObject({
      file: NODEGROUPS,
      line: await lineOf(project, NODEGROUPS, "volumeSize:"),
      path: "nodeGroups[0].volumeSize",
      message: "eksctl schema: must be integer",
      hint: expect.stringMatching(new RegExp(`value from worker.volume.size \\(config/environments/prod.yaml:${configLine}\\)$`)),
    });
  });

  it("a nodegroup spanning several zones", async () => {
    await project.edit(NODEGROUPS, (t) => t.replace("{% for zone in ng.zones %}", "{% for zone in pool.zones %}"));
    const issues = await issuesFor(project);
    expect(issues.map((i) => i.path)).toEqual([
      "nodeGroups[0].availabilityZones",
      "nodeGroups[1].availabilityZones",
      "nodeGroups[2].availabilityZones",
    ]);
    expect(issues[0]).toMatchObject({
      file: NODEGROUPS,
      line: await lineOf(project, NODEGROUPS, "availabilityZones:"),
      message: "must be in exactly one zone (has 3)",
    });
  });

  it("a nodegroup without the cluster-autoscaler discovery tags", async () => {
    await project.edit(NODEGROUPS, (t) =>
      t
        .replace('{{ map(ng.tags, "    ") }}', '{{ map(pool.tags, "    ") }}')
        .replace("{% if ng.tags | length %}", "{% if pool.tags | length %}"),
    );
    const issues = await issuesFor(project, "prod");
    expect(issues).toHaveLength(3);
    expect(issues[0]!.message).toBe(
      'lacks the cluster-autoscaler discovery tags k8s.io/cluster-autoscaler/enabled: "true", k8s.io/cluster-autoscaler/prod: "owned"',
    );
    expect(issues[0]!.hint).toMatch(/value from worker.tags \(eksbox's default\)$/);
    // Opting out of cluster-autoscaler makes the tags optional.
    expect(await issuesFor(project, "prod", ["worker.clusterAutoscaler=false"])).toEqual([]);
  });

  it("an undefined variable fails rendering at its template line", async () => {
    await project.edit(NODEGROUPS, (t) => t.replace("  minSize: {{ pool.minSize }}", "  minSize: {{ pool.minSise }}"));
    const env = await loadEnvironment(project.root, "prod");
    const error = (await renderEnvironment(project.root, env, { workerVersion: "v1" }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues[0]).toMatchObject({
      file: NODEGROUPS,
      line: await lineOf(project, NODEGROUPS, "pool.minSise"),
      message: expect.stringContaining("undefined value"),
    });
  });

  it("a runaway range() fails at its template line instead of hanging", async () => {
    await project.edit(NODEGROUPS, (t) => t.replace("\nnodeGroups:\n", "\n{% set many = range(1000000000) %}\nnodeGroups:\n"));
    const env = await loadEnvironment(project.root, "prod");
    const error = (await renderEnvironment(project.root, env, { workerVersion: "v1" }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues[0]).toMatchObject({ file: NODEGROUPS, message: expect.stringContaining("makes 1000000000 items") });
    // nunjucks locates a tag where its token starts: after the previous line's trimmed newline.
    const tagLine = await lineOf(project, NODEGROUPS, "range(1000000000)");
    expect([tagLine - 1, tagLine]).toContain(error.issues[0]!.line);
  });

  it("text printed with | safe that breaks YAML is reported as invalid output", async () => {
    await project.edit(NODEGROUPS, (t) =>
      t.replace("  desiredCapacity: {{ pool.desiredCapacity }}", '  desiredCapacity: {{ "[" | safe }}'),
    );
    const env = await loadEnvironment(project.root, "prod");
    await expect(renderEnvironment(project.root, env, { workerVersion: "v1" })).rejects.toThrow(
      /rendered invalid YAML[\s\S]*build\/prod\/nodegroups.yaml:\d+/,
    );
  });

  it("generate refuses to write invalid files and lists every problem", async () => {
    await project.edit(NODEGROUPS, (t) => t.replace("  volumeType: {{", "  volumeTyp: {{"));
    const env = await loadEnvironment(project.root, "prod");
    const error = (await generateEnvironment(project.root, env, { workerVersion: "v1" }).catch((e: unknown) => e)) as ConfigError;
    expect(error.message).toMatch(/^the eksctl files for prod are not valid:\n/);
    expect(error.issues.map((i) => i.path)).toEqual(["nodeGroups[0].volumeTyp", "nodeGroups[1].volumeTyp", "nodeGroups[2].volumeTyp"]);
    await expect(project.read("build/prod/nodegroups.yaml")).rejects.toThrow(/ENOENT/);
  });

  it("a project without its own templates uses the bundled ones", async () => {
    const bare = await makeProject({ templates: false });
    try {
      const env = await loadEnvironment(bare.root, "stg");
      const rendered = await renderEnvironment(bare.root, env, { workerVersion: "v1" });
      expect(rendered.nodegroupNames).toEqual(["worker-1b-v1", "worker-1c-v1", "worker-1d-v1"]);
      expect(rendered.nodegroups.template).toBe(`${repoRoot}/templates/nodegroups.yaml.njk`);
    } finally {
      await bare.cleanup();
    }
  });
});

describe("eksctl rules the schema misses", () => {
  async function prod(): Promise<Environment> {
    return structuredClone(await loadEnvironment(repoRoot, "prod"));
  }

  it("AmazonLinux2 is refused for Kubernetes >= 1.33", async () => {
    const env = await prod();
    env.config.worker!.amiFamily = "AmazonLinux2";
    const issues = validateRendered(await renderEnvironment(repoRoot, env, { workerVersion: "v1" }), env);
    expect(issues.map((i) => [i.path, i.message])).toEqual(
      [0, 1, 2].map((n) => [`nodeGroups[${n}].amiFamily`, "AmazonLinux2 is refused by eksctl for Kubernetes 1.34 (>= 1.33)"]),
    );
    env.config.cluster.version = "1.32";
    expect(validateRendered(await renderEnvironment(repoRoot, env, { workerVersion: "v1" }), env)).toEqual([]);
  });

  it("self-managed-only fields on managed nodegroups", async () => {
    const env = await prod();
    env.config.worker!.type = "managed";
    env.config.worker!.spot.spotInstancePools = undefined;
    const issues = validateRendered(await renderEnvironment(repoRoot, env, { workerVersion: "v1" }), env);
    expect(issues.map((i) => i.path)).toEqual([
      "managedNodeGroups[0].iam.instanceProfileARN",
      "managedNodeGroups[1].iam.instanceProfileARN",
      "managedNodeGroups[2].iam.instanceProfileARN",
    ]);
    expect(issues[0]!.message).toMatch(/self-managed nodeGroups only; managed nodegroups take instanceRoleARN/);
  });

  it("managed-only fields on self-managed nodegroups, and spotInstancePools without lowest-price", async () => {
    const env = await prod();
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
    const ng = (rendered.nodegroups.document.nodeGroups as Record<string, unknown>[])[0]!;
    ng.spot = true;
    (ng.instancesDistribution as Record<string, unknown>).spotAllocationStrategy = "capacity-optimized";
    const issues = validateRendered(rendered, env);
    expect(issues.map((i) => [i.path, i.message])).toEqual([
      ["nodeGroups[0].spot", "is for managedNodeGroups only"],
      ["nodeGroups[0].instancesDistribution.spotInstancePools", "only applies with spotAllocationStrategy lowest-price"],
    ]);
  });

  it("nodegroups in cluster.yaml and a mismatched cluster name are refused", async () => {
    const env = await prod();
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
    rendered.cluster.document.nodeGroups = [];
    (rendered.nodegroups.document.metadata as Record<string, unknown>).name = "other";
    const paths = validateRendered(rendered, env).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["nodeGroups", "metadata.name"]));
  });
});

describe("other worker types", () => {
  it("managed AL2023: spot + instanceTypes, log rotation in a nodeadm NodeConfig, tags propagated", async () => {
    const env = await loadEnvironment(repoRoot, "prod", {
      sets: ["worker.type=managed", "worker.spot.spotInstancePools=null", "worker.iam.instanceProfileARN=null"],
    });
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
    expect(validateRendered(rendered, env)).toEqual([]);
    const ng = (rendered.nodegroups.document.managedNodeGroups as Record<string, unknown>[])[0]!;
    expect(ng).toMatchObject({
      name: "worker-1b-v1",
      spot: true,
      instanceTypes: ["m5.xlarge", "c5.xlarge", "c5n.xlarge", "c4.xlarge"],
      propagateASGTags: true,
    });
    expect(ng).not.toHaveProperty("kubeletExtraConfig");
    expect(ng).not.toHaveProperty("instancesDistribution");
    expect(parse(ng.overrideBootstrapCommand as string)).toEqual({
      apiVersion: "node.eks.aws/v1alpha1",
      kind: "NodeConfig",
      spec: { kubelet: { config: { containerLogMaxSize: "50Mi", containerLogMaxFiles: 6 } } },
    });
  });

  it("Bottlerocket: log rotation in its settings, no kubeletExtraConfig", async () => {
    const env = await loadEnvironment(repoRoot, "stg", { sets: ["worker.amiFamily=Bottlerocket"] });
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
    expect(validateRendered(rendered, env)).toEqual([]);
    const ng = (rendered.nodegroups.document.nodeGroups as Record<string, unknown>[])[0]!;
    expect(ng).not.toHaveProperty("kubeletExtraConfig");
    expect(ng.bottlerocket).toEqual({ settings: { kubernetes: { "container-log-max-size": "10Mi", "container-log-max-files": 5 } } });
  });

  it("on-demand with one instance type uses instanceType", async () => {
    const env = await loadEnvironment(repoRoot, "local");
    const rendered = await renderEnvironment(repoRoot, env, { workerVersion: "v1" });
    const ng = (rendered.nodegroups.document.nodeGroups as Record<string, unknown>[])[0]!;
    expect(ng.instanceType).toBe("t3.medium");
    expect(ng).not.toHaveProperty("instancesDistribution");
  });
});
