// Node pools end to end, through the built CLI, the real Docker runtime and toolbox containers, the
// real AWS CLI and kubectl, moto as AWS, and the eksctl and kube-apiserver test doubles:
//   born with two pools (a managed system pool across the zones, self-managed workers per zone);
//   roll --pool workers leaves system untouched;
//   the same pools in karpenter mode: born's kubectl apply --server-side reaches the API stand-in,
//   which stores the NodePool and EC2NodeClass (asserted on what it stored).
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { makeProjectSkeleton } from "../support/project-skeleton.js";

const REGION = "us-east-1";

let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;

function poolsYaml(env: string, motoUrl: string, mode: string): string {
  return `aws:
  region: ${REGION}
  accountId: "123456789012"
  endpointUrl: ${motoUrl}
cluster:
  name: ${env}
autoscaling:
  mode: ${mode}
nodePools:
  system:
    type: managed
    perZone: false
    zones: [${REGION}a, ${REGION}b]
    instanceTypes: [m5.large]
    spot: { enabled: false, spotInstancePools: null, spotAllocationStrategy: price-capacity-optimized }
    minSize: 1
    maxSize: 2
    desiredCapacity: 1
    volume: { size: 20 }
  workers:
    type: selfManaged
    perZone: true
    zones: [${REGION}a, ${REGION}b]
    instanceTypes: [m5.large, c5.large]
    minSize: 1
    maxSize: 3
    desiredCapacity: 1
    volume: { size: 20 }
    limits: { cpu: 64 }
`;
}

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API", EKSBOX_TEST_KUBE_API: kube.url, CI: "1" },
    extendEnv: true,
  });
}

const aws = (args: string[]) => awsCli(image, moto.url, ["--region", REGION, ...args]);

async function nodegroupStacks(cluster: string): Promise<string[]> {
  const out = await aws(["cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "UPDATE_COMPLETE"]);
  return ((out?.StackSummaries ?? []) as { StackName: string }[])
    .map((s) => s.StackName)
    .filter((s) => s.startsWith(`eksctl-${cluster}-nodegroup-`))
    .map((s) => s.slice(`eksctl-${cluster}-nodegroup-`.length))
    .sort();
}

/** Plays Karpenter: a running instance with the tags Karpenter puts on the nodes it launches for a NodePool. */
async function launchAsKarpenter(cluster: string, pool: string): Promise<string> {
  const images = await aws(["ec2", "describe-images", "--owners", "amazon", "--query", "Images[0].ImageId"]);
  const tags = `ResourceType=instance,Tags=[{Key=karpenter.sh/nodepool,Value=${pool}},{Key=kubernetes.io/cluster/${cluster},Value=owned}]`;
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

async function stored(path: string): Promise<{ items: Record<string, any>[] }> {
  const response = await fetch(`${kube.url}${path}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: Record<string, any>[] };
}

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-e2e-pools-");
  await writeFile(join(project, "config", "environments", "pools.yaml"), poolsYaml("pools", moto.url, "clusterAutoscaler"));
  await writeFile(join(project, "config", "environments", "kpools.yaml"), poolsYaml("kpools", moto.url, "karpenter"));
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

/** Running instances with the cluster's tag and no NodePool: the nodegroups' (moto launches them for the ASGs). */
async function nodegroupInstancesRunning(): Promise<string[]> {
  const out = await aws([
    "ec2",
    "describe-instances",
    "--filters",
    "Name=tag-key,Values=kubernetes.io/cluster/pools",
    "Name=instance-state-name,Values=running",
  ]);
  return (out.Reservations as { Instances: { InstanceId: string; Tags?: { Key: string }[] }[] }[])
    .flatMap((r) => r.Instances)
    .filter((i) => !i.Tags?.some((t) => t.Key === "karpenter.sh/nodepool"))
    .map((i) => i.InstanceId);
}

describe("node pools against the local emulator", () => {
  let systemGroup: string;

  // A shared 2-core machine: each born or roll runs several toolbox containers.
  const STEP_TIMEOUT = 600_000;

  it(
    "born creates a managed system group across the zones and self-managed workers per zone",
    async () => {
      const result = await eksbox(["born", "--env", "pools"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const stacks = await nodegroupStacks("pools");
      expect(stacks).toHaveLength(3);
      const version = /^system-([a-z0-9]+)$/.exec(stacks.find((s) => s.startsWith("system-"))!)![1]!;
      expect(stacks).toEqual([`system-${version}`, `workers-1a-${version}`, `workers-1b-${version}`]);
      systemGroup = `system-${version}`;
      const rendered = parse(await readFile(join(project, "build", "pools", "nodegroups.yaml"), "utf8"));
      expect(rendered.managedNodeGroups.map((ng: { availabilityZones: string[] }) => ng.availabilityZones)).toEqual([
        [`${REGION}a`, `${REGION}b`],
      ]);
      expect(rendered.nodeGroups.map((ng: { availabilityZones: string[] }) => ng.availabilityZones)).toEqual([
        [`${REGION}a`],
        [`${REGION}b`],
      ]);
      expect(result.stderr).toMatch(/\[karpenter\] skipped.*autoscaling.mode clusterAutoscaler/);
    },
    STEP_TIMEOUT,
  );

  it(
    "roll --pool workers rolls the workers and leaves system untouched",
    async () => {
      const before = await aws(["eks", "describe-nodegroup", "--cluster-name", "pools", "--nodegroup-name", systemGroup]);
      const result = await eksbox(["nodegroup", "roll", "--env", "pools", "--pool", "workers", "--to-version", "20991231", "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(await nodegroupStacks("pools")).toEqual([systemGroup, "workers-1a-20991231", "workers-1b-20991231"]);
      const after = await aws(["eks", "describe-nodegroup", "--cluster-name", "pools", "--nodegroup-name", systemGroup]);
      expect(after.nodegroup.nodegroupArn).toBe(before.nodegroup.nodegroupArn);
      expect(after.nodegroup.createdAt).toBe(before.nodegroup.createdAt);
      expect(result.stderr).not.toMatch(/delete nodegroup[^\n]*system-/);
    },
    STEP_TIMEOUT,
  );

  it(
    "generate reads each pool's version from its own live nodegroups (system born, workers rolled)",
    async () => {
      const result = await eksbox(["generate", "--env", "pools", "--output", "json"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const generated = JSON.parse(result.stdout) as { versions: Record<string, string>; versionsFrom: Record<string, string> };
      const systemVersion = systemGroup.slice("system-".length);
      expect(generated.versions).toEqual({ system: systemVersion, workers: "20991231" });
      expect(generated.versionsFrom).toEqual({ system: "cloud", workers: "cloud" });
      const rendered = parse(await readFile(join(project, "build", "pools", "nodegroups.yaml"), "utf8"));
      expect(rendered.managedNodeGroups.map((ng: { name: string }) => ng.name)).toEqual([systemGroup]);
      expect(rendered.nodeGroups.map((ng: { name: string }) => ng.name)).toEqual(["workers-1a-20991231", "workers-1b-20991231"]);
    },
    STEP_TIMEOUT,
  );

  it(
    "plan names a pool's changes by its nodePools key",
    async () => {
      const result = await eksbox(["plan", "born", "--env", "pools", "--output", "json", "--set", "nodePools.workers.maxSize=4"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const plan = JSON.parse(result.stdout) as { steps: { changes: { resource: string; field: string; key?: string }[] }[] };
      const changes = plan.steps.flatMap((step) => step.changes);
      expect(changes.map((c) => `${c.resource} ${c.field} ${c.key}`)).toEqual([
        "nodegroup workers-1a-20991231 maxSize nodePools.workers.maxSize",
        "nodegroup workers-1b-20991231 maxSize nodePools.workers.maxSize",
      ]);
    },
    STEP_TIMEOUT,
  );

  it(
    "switching pools to karpenter is planned: the NodePool it creates, the old workers it removes (destructive), refused without --yes",
    async () => {
      await writeFile(join(project, "config", "environments", "pools.yaml"), poolsYaml("pools", moto.url, "karpenter"));
      // A drift check sees the switch (without making it), and so does a saved plan.
      const drift = await eksbox(["diff", "--env", "pools", "--exit-code"]);
      expect(drift.exitCode, drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(/^capacity: - nodegroup workers-1a-20991231 \(modeSwitch, destructive\)/m);
      expect(drift.stdout).toMatch(/^capacity: - nodegroup workers-1b-20991231 \(modeSwitch, destructive\)/m);
      const planned = await eksbox(["plan", "born", "--env", "pools", "--output", "json", "--out", "switch.plan.json"]);
      expect(planned.exitCode, planned.stderr).toBe(0);
      const saved = JSON.parse(await readFile(join(project, "switch.plan.json"), "utf8")) as {
        changes: { kind: string; resource: string }[];
      };
      expect(saved.changes.filter((c) => c.kind === "modeSwitch").map((c) => c.resource)).toEqual([
        "nodegroup workers-1a-20991231",
        "nodegroup workers-1b-20991231",
      ]);
      const plan = JSON.parse(planned.stdout) as {
        steps: { id: string; commands: string[][]; changes: { resource: string; kind: string; destructive: boolean }[] }[];
      };
      const capacity = plan.steps.find((step) => step.id === "capacity")!;
      expect(capacity.changes.map((c) => `${c.kind} ${c.resource} ${c.destructive}`)).toEqual([
        "create nodepool workers false",
        "modeSwitch nodegroup workers-1a-20991231 true",
        "modeSwitch nodegroup workers-1b-20991231 true",
      ]);
      const karpenter = plan.steps.find((step) => step.id === "karpenter")!;
      expect(karpenter.commands.map((argv) => argv.join(" "))).toEqual([expect.stringContaining("apply --server-side")]);

      const refused = await eksbox(["born", "--env", "pools"]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/--yes/);
      expect(await nodegroupStacks("pools")).toEqual([systemGroup, "workers-1a-20991231", "workers-1b-20991231"]);
    },
    STEP_TIMEOUT,
  );

  it(
    "the switch removes nothing while Karpenter's NodePool has no Ready node (asked through kubectl)",
    async () => {
      const result = await eksbox(["born", "--env", "pools", "--yes", "--ready-timeout", "0.01"]);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toMatch(/NodePool\(s\) workers have no Ready node yet; the old nodegroups were left untouched/);
      expect((await stored("/apis/karpenter.sh/v1/nodepools")).items.map((o) => o.metadata.name)).toEqual(["workers"]);
      expect(await nodegroupStacks("pools")).toEqual([systemGroup, "workers-1a-20991231", "workers-1b-20991231"]);
    },
    STEP_TIMEOUT,
  );

  it(
    "once the NodePool has a Ready node (an instance launched as Karpenter would), the switch drains and deletes the old workers",
    async () => {
      await launchAsKarpenter("pools", "workers");
      const result = await eksbox(["born", "--env", "pools", "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(await nodegroupStacks("pools")).toEqual([systemGroup]);
      const again = await eksbox(["born", "--env", "pools", "--yes"]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/\[capacity\] skipped/);
      const clean = await eksbox(["diff", "--env", "pools", "--exit-code"]);
      expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "switching back to clusterAutoscaler is planned: the workers' nodegroups it creates, the NodePool it removes (destructive; the controller stays)",
    async () => {
      await writeFile(join(project, "config", "environments", "pools.yaml"), poolsYaml("pools", moto.url, "clusterAutoscaler"));
      const drift = await eksbox(["diff", "--env", "pools", "--exit-code"]);
      expect(drift.exitCode, drift.stderr).toBe(2);
      expect(drift.stdout).toMatch(/^capacity: - nodepool workers \(modeSwitch, destructive\):.*the Karpenter controller .* stays/m);
      const planned = await eksbox(["plan", "born", "--env", "pools", "--output", "json"]);
      expect(planned.exitCode, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as {
        steps: { id: string; commands: string[][]; changes: { resource: string; kind: string; destructive: boolean }[] }[];
      };
      const created = plan.steps
        .find((step) => step.id === "nodegroups")!
        .changes.filter((c) => c.kind === "create" || c.kind === "zoneAdd");
      expect(created.map((c) => c.resource)).toEqual([
        expect.stringMatching(/^nodegroup workers-1a-/),
        expect.stringMatching(/^nodegroup workers-1b-/),
      ]);
      const capacity = plan.steps.find((step) => step.id === "capacity")!;
      expect(capacity.changes.map((c) => `${c.kind} ${c.resource} ${c.destructive}`)).toEqual(["modeSwitch nodepool workers true"]);
      expect(capacity.commands.map((argv) => argv.join(" "))).toEqual([
        expect.stringMatching(/get nodes -l alpha\.eksctl\.io\/nodegroup-name in \(workers-1a-\S+,workers-1b-\S+\)/),
        expect.stringMatching(
          /delete nodepools\.karpenter\.sh,ec2nodeclasses\.karpenter\.k8s\.aws -l app\.kubernetes\.io\/managed-by=eksbox/,
        ),
      ]);

      const refused = await eksbox(["born", "--env", "pools"]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toMatch(/--yes/);
      expect((await stored("/apis/karpenter.sh/v1/nodepools")).items.map((o) => o.metadata.name)).toEqual(["workers"]);
    },
    STEP_TIMEOUT,
  );

  it(
    "the switch back creates the workers' nodegroups, then deletes the NodePool and EC2NodeClass and terminates Karpenter's instances",
    async () => {
      const runningBefore = await nodegroupInstancesRunning();
      const result = await eksbox(["born", "--env", "pools", "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const stacks = await nodegroupStacks("pools");
      expect(stacks).toEqual([systemGroup, expect.stringMatching(/^workers-1a-/), expect.stringMatching(/^workers-1b-/)]);
      expect((await stored("/apis/karpenter.sh/v1/nodepools")).items).toEqual([]);
      expect((await stored("/apis/karpenter.k8s.aws/v1/ec2nodeclasses")).items).toEqual([]);
      // One tag-key filter only: moto does not AND two of them as EC2 does; the cluster's tag is checked here.
      const tagged = await aws(["ec2", "describe-instances", "--filters", "Name=tag-key,Values=karpenter.sh/nodepool"]);
      type Instance = { InstanceId: string; State: { Name: string }; Tags?: { Key: string }[] };
      const karpenters = (tagged.Reservations as { Instances: Instance[] }[])
        .flatMap((r) => r.Instances)
        .filter((i) => i.Tags?.some((t) => t.Key === "kubernetes.io/cluster/pools"));
      expect(karpenters.length).toBeGreaterThan(0);
      expect(karpenters.map((i) => `${i.InstanceId} ${i.State.Name}`)).toEqual(karpenters.map((i) => `${i.InstanceId} terminated`));
      // The nodegroups' own instances carry the cluster's tag too: none that ran before was taken for Karpenter's.
      const stillRunning = await nodegroupInstancesRunning();
      expect(runningBefore.filter((id) => !stillRunning.includes(id))).toEqual([]);
      const clean = await eksbox(["diff", "--env", "pools", "--exit-code"]);
      expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
    },
    STEP_TIMEOUT,
  );

  it(
    "karpenter mode: born makes only the system group and applies the NodePool and EC2NodeClass",
    async () => {
      const result = await eksbox(["born", "--env", "kpools"]);
      expect(result.exitCode, result.stderr).toBe(0);
      // type/perZone set on a Karpenter pool: a warning, not a refusal.
      expect(result.stderr).toMatch(/nodePools\.workers\.(type|perZone).*ignored in karpenter mode/);
      const stacks = await nodegroupStacks("kpools");
      expect(stacks).toHaveLength(1);
      expect(stacks[0]).toMatch(/^system-[a-z0-9]+$/);

      const nodePools = (await stored("/apis/karpenter.sh/v1/nodepools")).items;
      const nodeClasses = (await stored("/apis/karpenter.k8s.aws/v1/ec2nodeclasses")).items;
      expect(nodePools.map((o) => o.metadata.name)).toEqual(["workers"]);
      expect(nodeClasses.map((o) => o.metadata.name)).toEqual(["workers"]);
      const [nodePool] = nodePools;
      expect(nodePool!.metadata.managedFields[0].manager).toBe("eksbox");
      expect(nodePool!.spec.template.spec.nodeClassRef).toEqual({ group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: "workers" });
      expect(nodePool!.spec.template.spec.requirements).toEqual(
        expect.arrayContaining([
          { key: "node.kubernetes.io/instance-type", operator: "In", values: ["m5.large", "c5.large"] },
          { key: "topology.kubernetes.io/zone", operator: "In", values: [`${REGION}a`, `${REGION}b`] },
          { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
        ]),
      );
      expect(nodePool!.spec.limits).toEqual({ cpu: 64 });
      const [nodeClass] = nodeClasses;
      expect(nodeClass!.spec.role).toBe("eksctl-KarpenterNodeRole-kpools");
      expect(nodeClass!.spec.userData).toContain("containerLogMaxSize: 10Mi");
    },
    STEP_TIMEOUT,
  );

  it(
    "karpenter mode: born again applies nothing (the stand-in's objects carry the current hash)",
    async () => {
      const before = (await stored("/apis/karpenter.sh/v1/nodepools")).items[0]!.metadata.resourceVersion;
      const result = await eksbox(["born", "--env", "kpools"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/\[karpenter\] skipped.*applied and current/);
      expect((await stored("/apis/karpenter.sh/v1/nodepools")).items[0]!.metadata.resourceVersion).toBe(before);
    },
    STEP_TIMEOUT,
  );

  it(
    "karpenter mode: destroy deletes the NodePools and terminates Karpenter's leftover instances before the cluster (planned first)",
    async () => {
      const leftover = await launchAsKarpenter("kpools", "workers");
      const planned = await eksbox(["plan", "destroy", "--env", "kpools", "--output", "json"]);
      expect(planned.exitCode, planned.stderr).toBe(0);
      const plan = JSON.parse(planned.stdout) as { steps: { id: string; commands: string[][] }[] };
      expect(plan.steps.map((step) => step.id).slice(0, 3)).toEqual(["preflight", "delete-karpenter-capacity", "delete-nodegroups"]);
      const commands = plan.steps.find((step) => step.id === "delete-karpenter-capacity")!.commands.map((argv) => argv.join(" "));
      expect(commands).toEqual([
        expect.stringMatching(
          /^kubectl .* delete nodepools\.karpenter\.sh,ec2nodeclasses\.karpenter\.k8s\.aws -l app\.kubernetes\.io\/managed-by=eksbox/,
        ),
        expect.stringContaining(`terminate-instances --instance-ids ${leftover}`),
        expect.stringContaining(`wait instance-terminated --instance-ids ${leftover}`),
      ]);

      const result = await eksbox(["destroy", "--env", "kpools", "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(await instanceState(leftover)).toBe("terminated");
      expect((await stored("/apis/karpenter.sh/v1/nodepools")).items).toEqual([]);
      expect((await stored("/apis/karpenter.k8s.aws/v1/ec2nodeclasses")).items).toEqual([]);
      expect(await nodegroupStacks("kpools")).toEqual([]);
    },
    STEP_TIMEOUT,
  );
});
