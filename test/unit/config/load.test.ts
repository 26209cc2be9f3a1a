import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, UserError } from "../../../src/core/errors.js";
import { assertEnvName, listEnvironments, loadEnvironment } from "../../../src/config/load.js";
import { makeProject, minimalEnv, repoRoot, type Project } from "./project-fixture.js";

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("the sample environments", () => {
  it("lists prod, stg, test and local", async () => {
    expect(await listEnvironments(repoRoot)).toEqual(["local", "prod", "stg", "test"]);
  });

  it("load with defaults filled and the cluster named after the environment", async () => {
    const prod = await loadEnvironment(repoRoot, "prod");
    expect(prod.sources).toEqual(["config/defaults.yaml", "config/environments/prod.yaml"]);
    expect(prod.config.protected).toBe(true);
    expect(prod.config.cluster.name).toBe("prod");
    expect(prod.config.cluster.version).toBe("1.34");
    expect(prod.config.worker).toMatchObject({
      amiFamily: "AmazonLinux2023",
      zones: ["ap-northeast-1b", "ap-northeast-1c", "ap-northeast-1d"],
      instanceTypes: ["m5.xlarge", "c5.xlarge", "c5n.xlarge", "c4.xlarge"],
      spot: { enabled: true, onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, spotInstancePools: 4 },
      minSize: 1,
      maxSize: 40,
      volume: { size: 200, type: "gp3", encrypted: true },
      logRotation: { maxSize: "50Mi", maxFiles: 6 },
    });
    expect(prod.config.cluster.logging).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    for (const name of ["stg", "test"]) {
      const env = await loadEnvironment(repoRoot, name);
      expect(env.config.protected).toBe(false);
      expect(Object.keys(env.config.cluster.vpc.subnets.public)).toEqual(env.config.worker!.zones);
    }
  });

  it("local uses the emulator, no existing subnets, and names its token variable", async () => {
    const local = await loadEnvironment(repoRoot, "local");
    expect(local.config.aws).toMatchObject({ region: "us-east-1", accountId: "123456789012", endpointUrl: "http://127.0.0.1:5055" });
    expect(local.config.worker!.zones).toEqual(["us-east-1a", "us-east-1b"]);
    expect(local.config.cluster.vpc.subnets).toEqual({ public: {}, private: {} });
    expect(local.config.cluster.serviceAccounts.length).toBeGreaterThanOrEqual(1);
    expect(local.config.gitops).toMatchObject({ provider: "github", tokenEnv: "GITHUB_TOKEN", path: "clusters/local" });
  });
});

describe("environment names", () => {
  it.each(["../x", "a/b", "", "Prod", "prod.yaml", "-x", "a b"])("refuses %j", (name) => {
    expect(() => assertEnvName(name)).toThrow(/invalid environment name.*plain name/);
  });

  it("an unknown environment lists the ones that exist", async () => {
    await expect(loadEnvironment(repoRoot, "qa")).rejects.toThrow(/unknown environment "qa".*Environments: local, prod, stg, test/);
  });

  it("a path-like name is refused before touching the file system", async () => {
    await expect(loadEnvironment(repoRoot, "../defaults")).rejects.toBeInstanceOf(UserError);
  });
});

describe("config errors", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject({ templates: false });
  });
  afterEach(() => project.cleanup());

  it("an unknown key names file, line, column, key and the likely intended key", async () => {
    await project.edit("config/environments/stg.yaml", (t) => t.replace("  desiredCapacity: 2", "  desiredCapacty: 2"));
    const error = await configError(loadEnvironment(project.root, "stg"));
    const lines = (await project.read("config/environments/stg.yaml")).split("\n");
    const line = lines.findIndex((l) => l.includes("desiredCapacty")) + 1;
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: "config/environments/stg.yaml",
        line,
        column: 3,
        path: "worker.desiredCapacty",
        message: "unknown key",
        hint: "did you mean `desiredCapacity`?",
      }),
    ]);
    expect(error.message).toContain(`config/environments/stg.yaml:${line}:3: worker.desiredCapacty: unknown key`);
  });

  it("an unknown key far from any accepted one lists what is accepted", async () => {
    await project.write("config/environments/x.yaml", `${minimalEnv}gitlab: {}\n`);
    const error = await configError(loadEnvironment(project.root, "x"));
    expect(error.issues[0]).toMatchObject({ path: "gitlab", message: "unknown key" });
    expect(error.issues[0]!.hint).toMatch(/did you mean `gitops`\?|accepted keys here: .*gitops/);
  });

  it("reports every problem at once, each in its place", async () => {
    await project.write(
      "config/environments/x.yaml",
      `aws:\n  region: tokyo\n  accountId: 111111111111\nworker:\n  zones: [ap-northeast-1b]\n  volume: { type: gp9 }\ncluster:\n  version: 1.30\n`,
    );
    const error = await configError(loadEnvironment(project.root, "x"));
    const byPath = Object.fromEntries(error.issues.map((i) => [i.path, i]));
    expect(Object.keys(byPath).sort()).toEqual(["aws.accountId", "aws.region", "cluster.version", "worker.volume.type"]);
    expect(byPath["aws.region"]).toMatchObject({
      file: "config/environments/x.yaml",
      line: 2,
      message: expect.stringContaining("ap-northeast-1"),
    });
    expect(byPath["aws.accountId"]).toMatchObject({ line: 3, hint: expect.stringContaining('quote it: "111111111111"') });
    expect(byPath["cluster.version"]).toMatchObject({ line: 8, message: expect.stringContaining('quoted string such as "1.34"') });
    expect(byPath["worker.volume.type"]).toMatchObject({ line: 6, message: expect.stringContaining('"gp3"') });
  });

  it("docker-style log sizes are refused with the kubelet form", async () => {
    await project.edit("config/environments/prod.yaml", (t) => t.replace("maxSize: 50Mi", "maxSize: 50m"));
    const error = await configError(loadEnvironment(project.root, "prod"));
    const line = (await project.read("config/environments/prod.yaml")).split("\n").findIndex((l) => l.includes("maxSize: 50m")) + 1;
    expect(error.issues).toEqual([
      expect.objectContaining({
        file: "config/environments/prod.yaml",
        line,
        path: "worker.logRotation.maxSize",
        message: expect.stringContaining('"50Mi"'),
      }),
    ]);
  });

  it("a missing required key points at the environment file", async () => {
    await project.write("config/environments/x.yaml", `aws:\n  region: ap-northeast-1\nworker:\n  zones: [ap-northeast-1b]\n`);
    const error = await configError(loadEnvironment(project.root, "x"));
    expect(error.issues).toEqual([
      expect.objectContaining({ file: "config/environments/x.yaml", path: "aws.accountId", message: "is required (expected string)" }),
    ]);
  });

  it("a bad value that comes from defaults.yaml is located there", async () => {
    await project.edit("config/defaults.yaml", (t) => t.replace("maxSize: 40", "maxSize: forty"));
    const error = await configError(loadEnvironment(project.root, "stg"));
    const line = (await project.read("config/defaults.yaml")).split("\n").findIndex((l) => l.includes("maxSize: forty")) + 1;
    expect(error.issues).toEqual([expect.objectContaining({ file: "config/defaults.yaml", line, path: "worker.maxSize" })]);
  });

  it("a YAML syntax error is located without quoting the line", async () => {
    await project.write("config/environments/x.yaml", `aws:\n  region: ap-northeast-1\n  accountId: "1111\nworker: [\n`);
    const error = await configError(loadEnvironment(project.root, "x"));
    expect(error.issues[0]).toMatchObject({ file: "config/environments/x.yaml", line: expect.any(Number) });
    expect(error.issues[0]!.message).toMatch(/^YAML syntax: /);
  });

  it("cross-key rules point at the key to change", async () => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  desiredCapacity: 50\n  amiFamily: AmazonLinux2\n  spot: { spotAllocationStrategy: capacity-optimized, spotInstancePools: 2 }\ncluster:\n  serviceAccounts: [{ name: app }]\n  vpc: { subnets: { public: { ap-northeast-1c: { id: subnet-0abc } } } }\n`,
    );
    const error = await configError(loadEnvironment(project.root, "x"));
    const paths = error.issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "worker.desiredCapacity",
        "worker.amiFamily",
        "worker.spot.spotInstancePools",
        "worker.zones[0]",
        "cluster.serviceAccounts[0].attachPolicyARNs",
      ]),
    );
    expect(error.issues.find((i) => i.path === "worker.amiFamily")).toMatchObject({
      message: expect.stringContaining("AmazonLinux2 is not available for Kubernetes 1.34"),
      hint: "use AmazonLinux2023",
    });
    expect(error.issues.find((i) => i.path === "worker.zones[0]")!.message).toContain("ap-northeast-1b has no public subnet");
  });

  it("an environment file that is not a map is refused", async () => {
    await project.write("config/environments/x.yaml", "- a\n- b\n");
    await expect(loadEnvironment(project.root, "x")).rejects.toThrow(/x.yaml:1: must be a map of keys/);
  });
});

describe("--set overrides", () => {
  it("override numbers, strings and keys with dots, after the files", async () => {
    const env = await loadEnvironment(repoRoot, "prod", {
      sets: [
        "worker.desiredCapacity=3",
        "cluster.version=1.33",
        "worker.labels[team.example.com/owner]=web",
        "worker.zones=[ap-northeast-1b]",
      ],
    });
    expect(env.config.worker!.desiredCapacity).toBe(3);
    expect(env.config.cluster.version).toBe("1.33");
    expect(env.config.worker!.labels["team.example.com/owner"]).toBe("web");
    expect(env.config.worker!.labels["node.kubernetes.io/role"]).toBe("worker");
    expect(env.config.worker!.zones).toEqual(["ap-northeast-1b"]);
  });

  it("a problem caused by --set names the --set argument", async () => {
    const error = await configError(loadEnvironment(repoRoot, "prod", { sets: ["worker.desiredCapacity=lots"] }));
    expect(error.issues).toEqual([expect.objectContaining({ file: "--set worker.desiredCapacity", path: "worker.desiredCapacity" })]);
  });

  it("a misspelt --set key gets a suggestion", async () => {
    const error = await configError(loadEnvironment(repoRoot, "prod", { sets: ["worker.desiredCapasity=3"] }));
    expect(error.issues[0]).toMatchObject({ path: "worker.desiredCapasity", hint: "did you mean `desiredCapacity`?" });
  });

  it.each([
    ["worker.desiredCapacity", /is not path=value/],
    ["=3", /is not path=value/],
    ["worker..x=3", /is not a key path/],
    ["worker.zones=[a", /not valid YAML/],
    ["worker.volume.size.x=3", /is a single value/],
  ])("%j is refused", async (set, message) => {
    await expect(loadEnvironment(repoRoot, "prod", { sets: [set] })).rejects.toThrow(message);
  });
});

describe("secrets in config", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject({ templates: false });
  });
  afterEach(() => project.cleanup());

  it("refuses the seed's awsAccessKeyId/awsSecretAccessKey without repeating them", async () => {
    await project.write(
      "config/environments/x.yaml",
      `awsAccessKeyId: "AKIAIOSFODNN7EXAMPLE"\nawsSecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n${minimalEnv}`,
    );
    const error = await configError(loadEnvironment(project.root, "x"));
    expect(error.issues.map((i) => [i.path, i.line])).toEqual([
      ["awsAccessKeyId", 1],
      ["awsSecretAccessKey", 2],
    ]);
    expect(error.issues[0]!.hint).toMatch(/aws.profile .* AWS_\* environment variables/);
    expect(error.message).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(error.message).not.toContain("wJalrXUtnFEMI");
  });

  it("refuses an access key id hidden in any value, and a token under gitops", async () => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  labels: { note: "key AKIAIOSFODNN7EXAMPLE" }\ngitops: { provider: github, owner: o, repository: r, token: ghp_abcdef }\n`,
    );
    const error = await configError(loadEnvironment(project.root, "x"));
    expect(error.issues.map((i) => i.path)).toEqual(["worker.labels.note", "gitops.token"]);
    expect(error.issues[1]!.hint).toContain("gitops.tokenEnv");
    expect(error.message).not.toMatch(/AKIAIOSFODNN7EXAMPLE|ghp_abcdef/);
  });

  it("refuses a secret given with --set, naming only the key", async () => {
    const error = await configError(loadEnvironment(project.root, "prod", { sets: ["aws.secretAccessKey=abc123secret"] }));
    expect(error.issues[0]).toMatchObject({ path: "aws.secretAccessKey" });
    expect(error.issues[0]!.file).toBe("--set aws.secretAccessKey");
    expect(error.message).not.toContain("abc123secret");
  });
});

describe("removing a default", () => {
  it("null in a later layer removes the key, so prod can switch to managed nodegroups", async () => {
    await expect(loadEnvironment(repoRoot, "prod", { sets: ["worker.type=managed", "worker.iam=null"] })).rejects.toThrow(
      /worker.spot.spotInstancePools: is for self-managed nodegroups only\n\s+remove it/,
    );
    const env = await loadEnvironment(repoRoot, "prod", {
      sets: ["worker.type=managed", "worker.iam=null", "worker.spot.spotInstancePools=null"],
    });
    expect(env.config.worker!.type).toBe("managed");
    expect(env.config.worker!.spot.spotInstancePools).toBeUndefined();
    expect(env.config.worker!.iam).toEqual({ attachPolicyARNs: [] });
  });
});
