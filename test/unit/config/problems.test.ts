// Config problems found by trying eksbox as a new user would: each is reported up front, in the
// file and key the user has to change, all at once.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { EKS_VERSIONS, eksVersion } from "../../../src/config/eks-versions.js";
import { makeProject, minimalEnv, type Project } from "./project-fixture.js";

async function problems(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

let project: Project;
beforeEach(async () => {
  project = await makeProject();
});
afterEach(() => project.cleanup());

describe("an empty environment file", () => {
  it.each([
    ["empty", ""],
    ["only comments", "# the x environment\n# to be filled in\n"],
  ])("(%s) is named as the file to edit", async (_name, text) => {
    await project.write("config/environments/x.yaml", text);
    const error = await problems(loadEnvironment(project.root, "x"));
    const aws = error.issues.find((i) => i.path === "aws")!;
    expect(aws.file).toBe("config/environments/x.yaml");
    expect(error.issues.every((i) => i.file !== "config/defaults.yaml")).toBe(true);
  });
});

describe("Kubernetes versions", () => {
  it("the table has the dates of each version, and names where and when it was taken", () => {
    expect(eksVersion("1.34")).toEqual({
      version: "1.34",
      released: "2025-10-02",
      endOfStandardSupport: "2026-12-02",
      endOfExtendedSupport: "2027-12-02",
    });
    for (const v of EKS_VERSIONS) expect(v.released < v.endOfStandardSupport && v.endOfStandardSupport < v.endOfExtendedSupport).toBe(true);
  });

  it("unquoted 1.30 gets a hint that quotes what was written", async () => {
    await project.write("config/environments/x.yaml", `${minimalEnv}cluster:\n  version: 1.30\n`);
    const error = await problems(loadEnvironment(project.root, "x"));
    const issue = error.issues.find((i) => i.path === "cluster.version")!;
    expect(issue.hint).toBe('quote it: "1.30" (unquoted, YAML reads the number 1.3)');
    expect(issue.line).toBe(7);
  });

  it.each(["1.3", "1.99", "1.20"])("refuses %s, which EKS does not have, listing the versions it has", async (version) => {
    await project.write("config/environments/x.yaml", `${minimalEnv}cluster:\n  version: "${version}"\n`);
    const error = await problems(loadEnvironment(project.root, "x"));
    const issue = error.issues.find((i) => i.path === "cluster.version")!;
    expect(issue.message).toMatch(new RegExp(`EKS has no Kubernetes ${version.replace(".", "\\.")}`));
    expect(issue.hint).toMatch(/1\.34/);
    expect(issue.file).toBe("config/environments/x.yaml");
  });
});

describe("Kubernetes label and taint rules, up front", () => {
  it.each([
    ["a label value over 63 characters", `worker:\n  labels:\n    team: "${"a".repeat(64)}"\n`, "worker.labels.team", /63 characters/],
    ["a label value ending in -", `worker:\n  labels:\n    team: "web-"\n`, "worker.labels.team", /begin and end with a letter or digit/],
    ["a label value with a space", `worker:\n  labels:\n    team: "web app"\n`, "worker.labels.team", /letters, digits, '-', '_' and '\.'/],
    ["a label key with two slashes", `worker:\n  labels:\n    "a/b/c": x\n`, 'worker.labels["a/b/c"]', /prefix\/name/],
    [
      "a label key prefix that is not a DNS subdomain",
      `worker:\n  labels:\n    "Example.COM/team": x\n`,
      'worker.labels["Example.COM/team"]',
      /DNS subdomain/,
    ],
    [
      "a taint key with a space",
      `worker:\n  taints:\n  - { key: "dedicated pool", value: gpu, effect: NoSchedule }\n`,
      "worker.taints[0].key",
      /letters, digits/,
    ],
    [
      "a taint value over 63 characters",
      `worker:\n  taints:\n  - { key: dedicated, value: "${"g".repeat(64)}", effect: NoSchedule }\n`,
      "worker.taints[0].value",
      /63 characters/,
    ],
    [
      "a service account label value",
      `cluster:\n  oidc: true\n  serviceAccounts:\n  - { name: sa, namespace: ns, attachPolicyARNs: ["arn:aws:iam::1:policy/p"], labels: { app: "-x" } }\n`,
      "cluster.serviceAccounts[0].labels.app",
      /begin and end/,
    ],
  ])("%s is refused with file, key and the rule", async (_name, yaml, path, rule) => {
    const env = minimalEnv.replace("worker:\n  zones: [ap-northeast-1b]\n", "");
    const workerExtra = yaml.startsWith("worker:")
      ? yaml.replace("worker:\n", "worker:\n  zones: [ap-northeast-1b]\n")
      : `worker:\n  zones: [ap-northeast-1b]\n${yaml}`;
    await project.write("config/environments/x.yaml", env + workerExtra);
    const error = await problems(loadEnvironment(project.root, "x"));
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, error.message).toBeDefined();
    expect(issue!.file).toBe("config/environments/x.yaml");
    expect(issue!.line).toBeGreaterThan(0);
    expect(issue!.message).toMatch(rule);
  });

  it("accepts what Kubernetes accepts", async () => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  labels:\n    example.com/team: web_2.a\n    empty: ""\n  taints:\n  - { key: node.example.com/dedicated, value: gpu, effect: NoSchedule }\n`,
    );
    await expect(loadEnvironment(project.root, "x")).resolves.toBeDefined();
  });
});

describe("all problems at once", () => {
  it("reports schema and rule problems together", async () => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  volume:\n    size: big\n  minSize: 5\n  maxSize: 2\n  labels:\n    team: "web-"\n`,
    );
    const error = await problems(loadEnvironment(project.root, "x"));
    const paths = error.issues.map((i) => i.path);
    expect(paths).toContain("worker.volume.size");
    expect(paths).toContain("worker.minSize");
    expect(paths).toContain("worker.labels.team");
  });

  it("leaves out a rule that reads a key the schema refused", async () => {
    await project.write("config/environments/x.yaml", `${minimalEnv}  minSize: lots\n  desiredCapacity: 5\n  maxSize: 2\n`);
    const error = await problems(loadEnvironment(project.root, "x"));
    const paths = error.issues.map((i) => i.path);
    expect(paths).toContain("worker.minSize");
    // desiredCapacity vs minSize..maxSize needs minSize, which is not a number: not judged on a default.
    expect(paths).not.toContain("worker.desiredCapacity");
  });

  it("a rule problem caused by --set is attributed to the --set argument", async () => {
    const error = await problems(loadEnvironment(project.root, "stg", { sets: ["worker.type=managed"] }));
    const issue = error.issues.find((i) => i.path === "worker.iam.instanceProfileARN")!;
    expect(issue.file).toBe("--set worker.type");
    expect(issue.hint).toMatch(/config\/environments\/stg\.yaml:\d+/);
    const minSize = await problems(loadEnvironment(project.root, "stg", { sets: ["worker.minSize=30"] }));
    expect(minSize.issues.find((i) => i.path === "worker.desiredCapacity")!.file).toBe("--set worker.minSize");
  });
});

describe("secrets anywhere in config", () => {
  it.each([
    ["a GitHub token", "ghp_" + "A".repeat(36)],
    ["a fine-grained GitHub token", "github_pat_" + "B".repeat(22) + "_" + "c".repeat(59)],
    ["a GitLab token", "glpat-" + "x".repeat(20)],
    ["a Slack bot token", "xoxb-1234567890-1234567890-" + "z".repeat(24)],
    ["a Slack user token", "xoxp-1234567890-1234567890-" + "z".repeat(24)],
    ["an AWS secret access key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
    ["an OpenSSH private key", "-----BEGIN OPENSSH PRIVATE KEY-----"],
    ["a Google API key", "AIza" + "S".repeat(35)],
    ["a Stripe live key", "sk_live_" + "4".repeat(24)],
  ])("%s in preBootstrapCommands is refused without repeating it", async (_name, secret) => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  preBootstrapCommands:\n  - echo hello\n  - "curl -H 'Authorization: ${secret}' https://example.com"\n`,
    );
    const error = await problems(loadEnvironment(project.root, "x"));
    expect(error.issues.map((i) => i.path)).toContain("worker.preBootstrapCommands[1]");
    expect(error.message).not.toContain(secret);
  });

  it("leaves ordinary values alone", async () => {
    await project.write(
      "config/environments/x.yaml",
      `${minimalEnv}  preBootstrapCommands:\n  - "echo ghp is a word; sysctl -w vm.max_map_count=262144"\n  - /usr/bin/yum install -y amazon-ssm-agent\n`,
    );
    await expect(loadEnvironment(project.root, "x")).resolves.toBeDefined();
  });
});
