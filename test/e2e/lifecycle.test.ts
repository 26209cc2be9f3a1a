// The main job end to end, through the built CLI, the real Docker runtime and toolbox containers,
// the real AWS CLI and kubectl, moto as AWS, and the eksctl/flux test doubles (they cannot be
// downloaded here). State is asserted through the real AWS CLI against moto, not the doubles' records.
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_AWS_ENV } from "../support/aws-cli.js";
import { startE2eSuite, type E2eSuite } from "../support/e2e-suite.js";
import { bornEnvironmentYaml } from "../support/project-skeleton.js";

const GITHUB_TOKEN = "ghp_e2eFAKEtoken1234567890abcdefABCDEF";
const REGION = "us-east-1";

let suite: E2eSuite;
let project: string;

const eksbox = (args: string[], extraEnv: Record<string, string> = {}) => suite.eksbox(args, extraEnv);

const envFile = () => suite.envFile("e2e");

/** Inserts lines at the end of a top-level section (the sections are cluster:, worker:, gitops:). */
async function insertInSection(section: string, lines: string): Promise<void> {
  const yaml = await readFile(envFile(), "utf8");
  const next = yaml.indexOf("\n", yaml.indexOf(`\n${section}:`) + 1);
  const after = yaml.slice(next + 1).search(/^\S/m);
  const at = after < 0 ? yaml.length : next + 1 + after;
  await writeFile(envFile(), yaml.slice(0, at) + lines + yaml.slice(at));
}

const appendToWorker = (lines: string) => insertInSection("worker", lines);
const appendToCluster = (lines: string) => insertInSection("cluster", lines);

const aws = (args: string[]) => suite.cloud.aws(args);

async function liveStacks(): Promise<string[]> {
  const out = await aws(["cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "UPDATE_COMPLETE"]);
  return (out?.StackSummaries ?? []).map((s: { StackName: string }) => s.StackName).sort();
}

async function clusters(): Promise<string[]> {
  return (await aws(["eks", "list-clusters"]))?.clusters ?? [];
}

async function doubleCalls(): Promise<string[][]> {
  const path = join(project, ".eksbox-test", "argv.log");
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).argv ?? JSON.parse(l));
}

function mutating(calls: string[][]): string[] {
  return calls.map((argv) => argv.join(" ")).filter((line) => /(^|\/)eksctl (create|delete|upgrade)|(^|\/)flux bootstrap/.test(line));
}

const leftoverContainers = () => suite.leftoverContainers("e2e");

/** Flux's GitRepository and Kustomization flux-system on the cluster's API server (the stand-in), through the kubeconfig. */
async function fluxObjects(method: "GET" | "DELETE"): Promise<Response[]> {
  const kubeconfig = parseYaml(await readFile(join(project, "build", "e2e", "kubeconfig"), "utf8"));
  const server = kubeconfig.clusters[0].cluster.server as string;
  return Promise.all(
    [
      "source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories",
      "kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations",
    ].map((collection) => fetch(`${server}/apis/${collection}/flux-system`, { method })),
  );
}

beforeAll(async () => {
  suite = await startE2eSuite({ projectPrefix: "eksbox-e2e-", githubToken: GITHUB_TOKEN, region: REGION });
  project = suite.project;
  await writeFile(envFile(), bornEnvironmentYaml(suite.cloud.awsUrl, REGION));
}, 900_000);

afterAll(async () => {
  await suite?.stop();
});

describe("lifecycle against the local emulator", () => {
  let version: string;

  it("born creates the cluster, nodegroups, service accounts, kubeconfig and Flux", async () => {
    const result = await eksbox(["born", "--env", "e2e"]);
    expect(result.stderr).toContain("run");
    expect(result.exitCode, result.stderr).toBe(0);

    expect(await clusters()).toEqual(["e2e"]);
    const described = await aws(["eks", "describe-cluster", "--name", "e2e"]);
    expect(described.cluster.status).toBe("ACTIVE");
    expect(described.cluster.version).toBe("1.34");

    const stacks = await liveStacks();
    const nodegroupStacks = stacks.filter((s) => s.startsWith("eksctl-e2e-nodegroup-"));
    expect(nodegroupStacks).toHaveLength(2);
    version = /worker-1a-([a-z0-9]+)$/.exec(nodegroupStacks[0]!)![1]!;
    expect(nodegroupStacks).toEqual([`eksctl-e2e-nodegroup-worker-1a-${version}`, `eksctl-e2e-nodegroup-worker-1b-${version}`]);

    const roles = (await aws(["iam", "list-roles"])).Roles.map((r: { RoleName: string }) => r.RoleName);
    expect(roles.some((r: string) => r.includes("kube-system-external-dns"))).toBe(true);

    const kubeconfig = await readFile(join(project, "build", "e2e", "kubeconfig"), "utf8");
    expect(kubeconfig).toContain(suite.cloud.kube.url);
    expect((await fluxObjects("GET")).every((r) => r.status === 200)).toBe(true);

    const last = JSON.parse(await readFile(join(project, ".eksbox", "runs", "latest-e2e.json"), "utf8"));
    expect(last).toMatchObject({ task: "born", env: "e2e", status: "done" });
    expect(await leftoverContainers()).toBe("");
    // The first run in an account also creates the lock table (eksbox-state): minutes on a loaded machine.
  }, 600_000);

  it("born again creates nothing", async () => {
    const before = mutating(await doubleCalls()).length;
    const stacksBefore = await liveStacks();
    const result = await eksbox(["born", "--env", "e2e"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(mutating(await doubleCalls()).length).toBe(before);
    expect(await liveStacks()).toEqual(stacksBefore);
    expect(result.stderr).toMatch(/\[cluster\] skipped/);
    expect(result.stderr).toMatch(/\[gitops\] skipped/);
  });

  it("status reports the cluster and the versioned nodegroups as JSON", async () => {
    const result = await eksbox(["status", "--env", "e2e", "--output", "json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.cluster).toMatchObject({ name: "e2e", status: "ACTIVE", version: "1.34" });
    expect(report.nodegroups.map((n: { name: string }) => n.name).sort()).toEqual([`worker-1a-${version}`, `worker-1b-${version}`]);
    expect(report.nodegroups.every((n: { eksboxVersion: string }) => n.eksboxVersion === version)).toBe(true);
    expect(report.toolbox.ref).toBe(suite.cloud.image);
    expect(report.lastRun.status).toBe("done");
  });

  it("plan born changes nothing and says every step would be skipped", async () => {
    const before = mutating(await doubleCalls()).length;
    const result = await eksbox(["plan", "born", "--env", "e2e"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/cluster\s+skip\s+cluster e2e exists \(ACTIVE/);
    expect(result.stdout).toMatch(/nodegroups\s+skip\s+all 2 nodegroups exist/);
    expect(mutating(await doubleCalls()).length).toBe(before);
  });

  it("roll creates the next version beside the old one, waits for Ready nodes, then removes the old", async () => {
    const result = await eksbox(["nodegroup", "roll", "--env", "e2e", "--to-version", "20991231", "--yes"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const nodegroupStacks = (await liveStacks()).filter((s) => s.startsWith("eksctl-e2e-nodegroup-"));
    expect(nodegroupStacks).toEqual(["eksctl-e2e-nodegroup-worker-1a-20991231", "eksctl-e2e-nodegroup-worker-1b-20991231"]);
    const calls = mutating(await doubleCalls());
    const created = calls.findIndex((c) => c.includes("create nodegroup") && c.includes("20991231"));
    const deleted = calls.findIndex((c) => c.includes("delete nodegroup") && c.includes(version));
    expect(created).toBeGreaterThanOrEqual(0);
    expect(deleted).toBeGreaterThan(created);
    // kubectl (real) asked the API stand-in for Ready nodes between the two
    expect(result.stderr).toMatch(/\[wait-ready\] (done|skipped).*Ready node/);
  });

  it("destroy --yes removes everything eksctl made", async () => {
    const result = await eksbox(["destroy", "--env", "e2e", "--yes"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await clusters()).toEqual([]);
    expect((await liveStacks()).filter((s) => s.startsWith("eksctl-e2e-"))).toEqual([]);
    expect(existsSync(join(project, "build", "e2e", "kubeconfig"))).toBe(false);
    expect(await leftoverContainers()).toBe("");
  });

  // Each case first puts the world where that step has work to do, injects a failure there, then
  // checks that the run stops at that step with the resume command and that a rerun completes.
  const failureCases: [fragment: string, step: string, prepare: () => Promise<void>][] = [
    ["create cluster", "cluster", async () => {}],
    [
      "create nodegroup",
      "nodegroups",
      async () => {
        // A new nodegroup version in config: the nodegroups step has two to create.
        await appendToWorker('  version: "20301231"\n');
      },
    ],
    [
      "create iamserviceaccount",
      "serviceaccounts",
      async () => {
        await appendToCluster(`  - name: cert-manager
    namespace: cert-manager
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]
`);
      },
    ],
    [
      "bootstrap",
      "gitops",
      async () => {
        // As `flux uninstall` leaves it: no GitRepository or Kustomization flux-system.
        expect((await fluxObjects("DELETE")).every((r) => r.status === 200)).toBe(true);
      },
    ],
  ];

  it.each(failureCases)(
    "a failure injected at %s fails step %s with the resume command; the rerun completes",
    async (fragment, step, prepare) => {
      await prepare();
      await mkdir(join(project, ".eksbox-test"), { recursive: true });
      await writeFile(join(project, ".eksbox-test", "fail"), `${fragment}\n`);
      const failed = await eksbox(["born", "--env", "e2e"]);
      expect(failed.stderr).toContain(`step ${step} exited 1`);
      expect(failed.stderr).toContain("injected failure");
      expect(failed.stderr).toContain("resume with: eksbox born --env e2e");
      expect(failed.exitCode).toBe(1);
      expect(await leftoverContainers()).toBe("");

      const rerun = await eksbox(["born", "--env", "e2e"]);
      expect(rerun.exitCode, rerun.stderr).toBe(0);
      expect(rerun.stderr).toMatch(new RegExp(`\\[${step}\\] done`));
      expect(await clusters()).toEqual(["e2e"]);
    },
  );

  it("never writes the credentials anywhere", async () => {
    const secrets = [GITHUB_TOKEN, FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY, FAKE_AWS_ENV.AWS_SESSION_TOKEN];
    const files: string[] = [];
    const walk = async (dir: string) => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else files.push(path);
      }
    };
    for (const dir of ["build", ".eksbox"]) if (existsSync(join(project, dir))) await walk(join(project, dir));
    expect(files.length).toBeGreaterThan(5);
    const status = await eksbox(["status", "--env", "e2e", "--output", "json"]);
    for (const text of [...(await Promise.all(files.map((f) => readFile(f, "utf8")))), status.stdout, status.stderr]) {
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
  });

  it("cleans up: destroy after the failure scenarios", async () => {
    const result = await eksbox(["destroy", "--env", "e2e", "--yes"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await clusters()).toEqual([]);
  });
});
