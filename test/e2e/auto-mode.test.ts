// EKS Auto Mode switched on a live cluster, end to end, through the built CLI, the real Docker
// runtime and toolbox containers, the real AWS CLI and kubectl, moto as AWS (with the EKS stand-in,
// which keeps computeConfig), and the eksctl and kube-apiserver test doubles:
//   born in clusterAutoscaler (a managed system pool, self-managed per-zone workers);
//   the config switches to autoMode (dropping the workers): planned (diff, saved plan), refused
//   without --yes, Auto Mode turned on, the workers kept until Auto Mode has a Ready node (a test
//   instance tagged as Auto Mode's), then drained and deleted; system stays; a rerun is a no-op;
//   Auto Mode's node pools changed in place;
//   and back to clusterAutoscaler: the workers' nodegroups first, then Auto Mode off.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { makeProjectSkeleton } from "../support/project-skeleton.js";

const REGION = "us-east-1";
const ENV = "am";

let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;

const SYSTEM_POOL = `  system:
    type: managed
    perZone: false
    zones: [${REGION}a, ${REGION}b]
    instanceTypes: [m5.large]
    spot: { enabled: false, spotInstancePools: null, spotAllocationStrategy: price-capacity-optimized }
    minSize: 1
    maxSize: 2
    desiredCapacity: 1
    volume: { size: 20 }
`;

const WORKERS_POOL = `  workers:
    type: selfManaged
    perZone: true
    zones: [${REGION}a, ${REGION}b]
    instanceTypes: [m5.large, c5.large]
    minSize: 1
    maxSize: 3
    desiredCapacity: 1
    volume: { size: 20 }
`;

function envYaml(mode: string, extra = ""): string {
  return `aws:
  region: ${REGION}
  accountId: "123456789012"
  endpointUrl: ${moto.url}
cluster:
  name: ${ENV}
autoscaling:
  mode: ${mode}
${extra}nodePools:
${SYSTEM_POOL}${mode === "autoMode" ? "" : WORKERS_POOL}`;
}

const writeEnv = (yaml: string) => writeFile(join(project, "config", "environments", `${ENV}.yaml`), yaml);

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API", EKSBOX_TEST_KUBE_API: kube.url, CI: "1" },
    extendEnv: true,
  });
}

const aws = (args: string[]) => awsCli(image, moto.url, ["--region", REGION, ...args]);

/** describe-cluster's computeConfig, through the AWS CLI v1 (Debian's 2.9 predates Auto Mode and drops it). */
async function computeConfig(): Promise<{ enabled?: boolean; nodePools?: string[]; nodeRoleArn?: string } | undefined> {
  const out = await awsCli(image, moto.url, ["--region", REGION, "eks", "describe-cluster", "--name", ENV], { cli: "v1" });
  return out.cluster.computeConfig;
}

async function nodegroupStacks(): Promise<string[]> {
  const out = await aws(["cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "UPDATE_COMPLETE"]);
  return ((out?.StackSummaries ?? []) as { StackName: string }[])
    .map((s) => s.StackName)
    .filter((s) => s.startsWith(`eksctl-${ENV}-nodegroup-`))
    .map((s) => s.slice(`eksctl-${ENV}-nodegroup-`.length))
    .sort();
}

/** Plays EKS Auto Mode: a running instance with the tags Auto Mode puts on the nodes it launches. */
async function launchAsAutoMode(pool: string): Promise<string> {
  const images = await aws(["ec2", "describe-images", "--owners", "amazon", "--query", "Images[0].ImageId"]);
  const tags = JSON.stringify([
    {
      ResourceType: "instance",
      Tags: [
        { Key: "eks:eks-cluster-name", Value: ENV },
        { Key: "eks:kubernetes-node-pool-name", Value: pool },
      ],
    },
  ]);
  const run = await aws([
    "ec2",
    "run-instances",
    "--image-id",
    String(images),
    "--instance-type",
    "m5.large",
    "--count",
    "1",
    "--tag-specifications",
    tags,
  ]);
  return run.Instances[0].InstanceId as string;
}

async function instanceState(id: string): Promise<string> {
  const out = await aws(["ec2", "describe-instances", "--instance-ids", id]);
  return out.Reservations[0].Instances[0].State.Name as string;
}

interface PlanJson {
  steps: { id: string; commands: string[][]; changes: { resource: string; field: string; kind: string; destructive: boolean }[] }[];
}

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-e2e-automode-");
  await writeEnv(envYaml("clusterAutoscaler"));
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe("switching EKS Auto Mode on a live cluster, against the local emulator", () => {
  // A shared 2-core machine: each born runs several toolbox containers.
  const STEP_TIMEOUT = 600_000;
  let systemGroup: string;
  let workers: string[];
  let autoInstance: string;

  it(
    "born in clusterAutoscaler: a managed system group, self-managed workers per zone, Auto Mode off",
    async () => {
      const result = await eksbox(["born", "--env", ENV]);
      expect(result.exitCode, result.stderr).toBe(0);
      const stacks = await nodegroupStacks();
      expect(stacks).toHaveLength(3);
      systemGroup = stacks.find((s) => s.startsWith("system-"))!;
      workers = stacks.filter((s) => s.startsWith("workers-"));
      expect(workers).toHaveLength(2);
      expect((await computeConfig())?.enabled ?? false).toBe(false);
      const rendered = await readFile(join(project, "build", ENV, "cluster.yaml"), "utf8");
      expect(rendered).toMatch(/^autoModeConfig:\n {2}enabled: false$/m);
    },
    STEP_TIMEOUT,
  );

  it(
    "switching to autoMode is planned: Auto Mode turned on, the workers removed (destructive), in diff and a saved plan; refused without --yes",
    async () => {
      await writeEnv(envYaml("autoMode"));
      const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(drift.exitCode, drift.stdout + drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(new RegExp(`^cluster: ~ cluster ${ENV} autoModeConfig\\.enabled: false → true \\(inPlace\\)`, "m"));
      for (const name of workers)
        expect(drift.stdout).toMatch(new RegExp(`^capacity: - nodegroup ${name} \\(modeSwitch, destructive\\)`, "m"));
      expect(drift.stdout).not.toMatch(new RegExp(`nodegroup ${systemGroup}`));

      const planned = await eksbox(["plan", "born", "--env", ENV, "--output", "json", "--out", "automode.plan.json"]);
      expect(planned.exitCode, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as PlanJson;
      const cluster = plan.steps.find((s) => s.id === "cluster")!;
      expect(cluster.commands).toEqual([["eksctl", "update", "auto-mode-config", "-f", `build/${ENV}/cluster.yaml`]]);
      const capacity = plan.steps.find((s) => s.id === "capacity")!;
      expect(capacity.changes.map((c) => `${c.kind} ${c.resource} ${c.destructive}`)).toEqual(
        workers.map((name) => `modeSwitch nodegroup ${name} true`),
      );
      expect(capacity.commands[0]!.join(" ")).toMatch(/get nodes -l eks\.amazonaws\.com\/compute-type=auto -o json$/);
      const saved = JSON.parse(await readFile(join(project, "automode.plan.json"), "utf8")) as {
        changes: { field: string; kind: string }[];
      };
      expect(saved.changes.filter((c) => c.field === "autoModeConfig.enabled").map((c) => c.kind)).toEqual(["inPlace"]);
      expect(saved.changes.filter((c) => c.kind === "modeSwitch")).toHaveLength(2);

      const refused = await eksbox(["born", "--env", ENV]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/--yes/);
      expect((await computeConfig())?.enabled ?? false).toBe(false);
      expect(await nodegroupStacks()).toEqual([systemGroup, ...workers]);
    },
    STEP_TIMEOUT,
  );

  it(
    "the saved plan turns Auto Mode on, and removes nothing while Auto Mode has no Ready node",
    async () => {
      const result = await eksbox(["born", "--env", ENV, "--plan", "automode.plan.json", "--yes", "--ready-timeout", "0.01"]);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/EKS Auto Mode has no Ready node yet; the old nodegroups were left untouched/);
      expect(result.stderr).toMatch(/kubectl cordon -l alpha\.eksctl\.io\/nodegroup-name=/);
      const compute = await computeConfig();
      expect(compute?.enabled).toBe(true);
      expect(compute?.nodePools).toEqual(["general-purpose", "system"]);
      expect(compute?.nodeRoleArn).toMatch(/^arn:aws:iam::\d+:role\//);
      expect(await nodegroupStacks()).toEqual([systemGroup, ...workers]);
    },
    STEP_TIMEOUT,
  );

  it(
    "once Auto Mode has a Ready node, born drains and deletes the workers and keeps the system pool; a rerun changes nothing",
    async () => {
      autoInstance = await launchAsAutoMode("general-purpose");
      const result = await eksbox(["born", "--env", ENV, "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(await nodegroupStacks()).toEqual([systemGroup]);
      const again = await eksbox(["born", "--env", ENV, "--yes"]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/\[capacity\] skipped/);
      expect(again.stderr).toMatch(/\[cluster\] skipped/);
      const clean = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "a change of Auto Mode's node pools is made in place through the same eksctl command",
    async () => {
      await writeEnv(envYaml("autoMode", "  autoModeNodePools: [general-purpose]\n"));
      const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(drift.exitCode, drift.stdout + drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(
        /^cluster: ~ cluster am autoModeConfig\.nodePools: \["general-purpose","system"\] → \["general-purpose"\] \(inPlace\)/m,
      );
      const result = await eksbox(["born", "--env", ENV]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect((await computeConfig())?.nodePools).toEqual(["general-purpose"]);
      const clean = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "switching back to clusterAutoscaler is planned: the workers' nodegroups created, Auto Mode turned off (destructive); refused without --yes",
    async () => {
      await writeEnv(envYaml("clusterAutoscaler"));
      const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(drift.exitCode, drift.stdout + drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(
        new RegExp(`^capacity: - cluster ${ENV} autoModeConfig\\.enabled: true → false \\(modeSwitch, destructive\\)`, "m"),
      );
      const planned = await eksbox(["plan", "born", "--env", ENV, "--output", "json"]);
      expect(planned.exitCode, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as PlanJson;
      const created = plan.steps.find((s) => s.id === "nodegroups")!.changes.filter((c) => c.kind === "create" || c.kind === "zoneAdd");
      expect(created.map((c) => c.resource)).toEqual([
        expect.stringMatching(/^nodegroup workers-1a-/),
        expect.stringMatching(/^nodegroup workers-1b-/),
      ]);
      const capacity = plan.steps.find((s) => s.id === "capacity")!;
      expect(capacity.commands.map((argv) => argv.join(" "))).toEqual([
        expect.stringMatching(/get nodes -l alpha\.eksctl\.io\/nodegroup-name in \(system-\S+,workers-1a-\S+,workers-1b-\S+\)/),
        `eksctl update auto-mode-config -f build/${ENV}/cluster.yaml`,
      ]);

      const refused = await eksbox(["born", "--env", ENV]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/--yes/);
      expect((await computeConfig())?.enabled).toBe(true);
      expect(await nodegroupStacks()).toEqual([systemGroup]);
    },
    STEP_TIMEOUT,
  );

  it(
    "the switch back creates the workers' nodegroups, then turns Auto Mode off (its instances end); a rerun changes nothing",
    async () => {
      const result = await eksbox(["born", "--env", ENV, "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(await nodegroupStacks()).toEqual([systemGroup, expect.stringMatching(/^workers-1a-/), expect.stringMatching(/^workers-1b-/)]);
      expect((await computeConfig())?.enabled).toBe(false);
      expect(await instanceState(autoInstance)).toMatch(/^(shutting-down|terminated)$/);
      const clean = await eksbox(["diff", "--env", ENV, "--exit-code"]);
      expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    },
    STEP_TIMEOUT,
  );
});
