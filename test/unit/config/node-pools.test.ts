// nodePools and autoscaling.mode in the config: how they combine with `worker`, and what is refused.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, type ConfigIssue } from "../../../src/core/errors.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { instanceArchitecture, poolArchitecture } from "../../../src/config/node-pools.js";
import { makeProject, type Project } from "./project-fixture.js";

const head = `aws:
  region: ap-northeast-1
  accountId: "111111111111"
`;

async function problems(project: Project, body: string, sets?: string[]): Promise<readonly ConfigIssue[]> {
  await project.write("config/environments/pools.yaml", head + body);
  const error = await loadEnvironment(project.root, "pools", { sets }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).issues;
}

describe("nodePools", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(() => project.cleanup());

  it("worker alone is one pool named by worker.namePrefix, the same object", async () => {
    const env = await loadEnvironment(project.root, "prod");
    expect(Object.keys(env.config.nodePools)).toEqual(["worker"]);
    expect(env.config.nodePools.worker).toBe(env.config.worker);
    expect(env.config.nodePools.worker!.perZone).toBe(true);
    expect(env.config.autoscaling.mode).toBe("clusterAutoscaler");
  });

  it("the defaults' worker is every pool's defaults; each pool overrides it key by key", async () => {
    await project.write(
      "config/environments/pools.yaml",
      head +
        `nodePools:
  system:
    type: managed
    perZone: false
    spot: { enabled: false }
    instanceTypes: [m7g.large]
    zones: [ap-northeast-1b, ap-northeast-1c]
    labels: { node.kubernetes.io/role: system }
  workers:
    zones: [ap-northeast-1b]
    volume: { size: 300 }
`,
    );
    await project.edit("config/environments/pools.yaml", (t) =>
      t.replace(
        "    spot: { enabled: false }",
        "    spot: { enabled: false, spotInstancePools: null, spotAllocationStrategy: price-capacity-optimized }",
      ),
    );
    const env = await loadEnvironment(project.root, "pools");
    expect(env.config.worker).toBeUndefined();
    const { system, workers } = env.config.nodePools;
    // From defaults.yaml's worker:
    expect(workers).toMatchObject({
      type: "selfManaged",
      maxSize: 40,
      instanceTypes: ["m5.xlarge", "c5.xlarge", "c5n.xlarge", "c4.xlarge"],
      spot: { spotInstancePools: 4 },
    });
    // Maps merge key by key: the pool's volume.size, the defaults' volume.type.
    expect(workers!.volume).toMatchObject({ size: 300, type: "gp3", encrypted: true });
    // Lists and values replace; maps replace only the keys given.
    expect(system).toMatchObject({ type: "managed", perZone: false, instanceTypes: ["m7g.large"], maxSize: 40 });
    expect(system!.spot).toEqual({
      enabled: false,
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 0,
      spotAllocationStrategy: "price-capacity-optimized",
    });
    expect(system!.labels).toEqual({ "node.kubernetes.io/role": "system", "aws.amazon.com/purchaseType": "spot" });
    expect(system).not.toHaveProperty("namePrefix");
  });

  it("a misspelt key inherited from worker is reported once, at worker", async () => {
    await project.edit("config/defaults.yaml", (t) => t.replace("  minSize: 1\n", "  minSise: 1\n"));
    const issues = await problems(project, "nodePools:\n  a: { zones: [ap-northeast-1b] }\n  b: { zones: [ap-northeast-1c] }\n");
    expect(issues).toEqual([expect.objectContaining({ file: "config/defaults.yaml", path: "worker.minSise", message: "unknown key" })]);
  });

  it("a pool's own bad value is reported at the pool's key", async () => {
    const issues = await problems(project, "nodePools:\n  system:\n    zones: [ap-northeast-1b]\n    minSize: 5\n    maxSize: 2\n");
    expect(issues[0]).toMatchObject({
      file: "config/environments/pools.yaml",
      path: "nodePools.system.minSize",
      message: "is 5, above maxSize (2)",
      line: 7,
    });
    // desiredCapacity comes from eksbox's default, so it is reported at the pool.
    expect(issues[1]).toMatchObject({ path: "nodePools.system.desiredCapacity", message: "is 1, outside minSize..maxSize (5..2)" });
  });

  it("refuses a pool that mixes architectures, with file, key and reason", async () => {
    const issues = await problems(
      project,
      "nodePools:\n  mixed:\n    zones: [ap-northeast-1b]\n    instanceTypes: [m7g.large, m5.large]\n",
    );
    expect(issues).toEqual([
      expect.objectContaining({
        file: "config/environments/pools.yaml",
        path: "nodePools.mixed.instanceTypes",
        message: expect.stringMatching(/^mix architectures: m7g.large \(arm64\), m5.large \(amd64\)/),
      }),
    ]);
  });

  it("refuses an AMI family with no image for the architecture or the Kubernetes version", async () => {
    // Real eksctl accepts UbuntuPro2404 on arm64 (the oracle found it), so only the version case is refused.
    const old = await problems(
      project,
      'cluster: { version: "1.30" }\nnodePools:\n  u:\n    zones: [ap-northeast-1b]\n    amiFamily: Ubuntu2404\n',
    );
    expect(old).toEqual([
      expect.objectContaining({ path: "nodePools.u.amiFamily", message: expect.stringContaining("no image for Kubernetes 1.30") }),
    ]);
    const al2 = await problems(project, "nodePools:\n  w:\n    zones: [ap-northeast-1b]\n    amiFamily: AmazonLinux2\n");
    expect(al2).toEqual([
      expect.objectContaining({
        path: "nodePools.w.amiFamily",
        message: expect.stringContaining("AmazonLinux2 is not available for Kubernetes 1.34"),
      }),
    ]);
  });

  it("karpenter mode needs a managed system pool", async () => {
    const none = await problems(project, "autoscaling: { mode: karpenter }\nnodePools:\n  workers: { zones: [ap-northeast-1b] }\n");
    expect(none).toEqual([
      expect.objectContaining({ path: "nodePools.system", message: expect.stringContaining("is required in karpenter mode") }),
    ]);
    const selfManaged = await problems(project, "autoscaling: { mode: karpenter }\nnodePools:\n  system: { zones: [ap-northeast-1b] }\n");
    expect(selfManaged).toEqual([
      expect.objectContaining({
        path: "worker.type",
        file: "config/defaults.yaml",
        message: expect.stringContaining("must be managed in karpenter mode"),
      }),
    ]);
  });

  it("autoMode refuses self-managed pools with a reason and accepts none at all", async () => {
    const issues = await problems(
      project,
      "autoscaling: { mode: autoMode }\nnodePools:\n  workers: { zones: [ap-northeast-1b], type: selfManaged }\n",
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: "nodePools.workers.type",
        message: expect.stringContaining("autoMode takes managed nodegroups only"),
      }),
    ]);
    await project.write("config/environments/pools.yaml", `${head}autoscaling: { mode: autoMode }\nworker: null\n`);
    const env = await loadEnvironment(project.root, "pools");
    expect(env.config.nodePools).toEqual({});
  });

  it("other modes refuse an environment with no pool", async () => {
    const issues = await problems(project, "worker: null\n");
    expect(issues).toEqual([expect.objectContaining({ path: "nodePools", message: expect.stringContaining("defines no node pool") })]);
  });
});

describe("instance architectures", () => {
  it("knows Graviton families from the g after the generation", () => {
    for (const t of [
      "m7g.large",
      "c7gn.xlarge",
      "r8g.2xlarge",
      "t4g.small",
      "x2gd.large",
      "im4gn.large",
      "is4gen.large",
      "g5g.xlarge",
      "a1.large",
      "m6gd.large",
    ]) {
      expect(instanceArchitecture(t), t).toBe("arm64");
    }
    for (const t of [
      "m5.xlarge",
      "c5n.xlarge",
      "g5.xlarge",
      "p4d.24xlarge",
      "m7i.large",
      "c7i-flex.large",
      "inf2.xlarge",
      "t3.medium",
      "m5zn.large",
    ]) {
      expect(instanceArchitecture(t), t).toBe("amd64");
    }
    expect(poolArchitecture(["m7g.large", "c7g.large"])).toBe("arm64");
    expect(poolArchitecture(["m7g.large", "c7i.large"])).toBeUndefined();
  });
});
