// Converge end to end: after born, the config in git stays the truth. One born, then one case per
// kind of change, in order on the same environment (each e2e run costs minutes on 2 cores): edit the
// config, plan shows exactly that change, born applies it, moto shows it through the real AWS CLI,
// plan is clean again. Drift made by hand, a roll, a saved plan and an immutable change too.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startE2eSuite, type E2eSuite } from "../support/e2e-suite.js";
import { bornEnvironmentYaml } from "../support/project-skeleton.js";

const REGION = "us-east-1";
const ENV = "cv";

let suite: E2eSuite;
let project: string;
let config: any;

const eksbox = (args: string[]) => suite.eksbox(args);
const aws = (args: string[]) => suite.cloud.aws(args);

async function writeConfig(): Promise<void> {
  await writeFile(suite.envFile(ENV), stringify(config));
}

interface PlannedChange {
  step: string;
  resource: string;
  field: string;
  kind: string;
  live: unknown;
  wanted: unknown;
  reportOnly?: boolean;
}

/** plan born --output json: every change it lists, under the step that makes it. */
async function plannedChanges(extra: string[] = []): Promise<PlannedChange[]> {
  const result = await eksbox(["plan", "born", "--env", ENV, "--output", "json", ...extra]);
  expect(result.exitCode, result.stderr + result.stdout).toBe(0);
  const plan = JSON.parse(result.stdout) as { steps: { id: string; changes: PlannedChange[] }[] };
  for (const step of plan.steps) for (const change of step.changes) expect(change.step).toBe(step.id);
  return plan.steps.flatMap((s) => s.changes);
}

const brief = (changes: PlannedChange[]) => changes.map((c) => `${c.kind} ${c.resource} ${c.field}`).sort();

async function asgs(): Promise<
  { AutoScalingGroupName: string; MinSize: number; MaxSize: number; Tags: { Key: string; Value: string }[] }[]
> {
  const out = await aws([
    "autoscaling",
    "describe-auto-scaling-groups",
    "--filters",
    `Name=tag:alpha.eksctl.io/cluster-name,Values=${ENV}`,
  ]);
  return out.AutoScalingGroups;
}

const nodegroupOf = (g: { Tags: { Key: string; Value: string }[] }) =>
  g.Tags.find((t) => t.Key === "alpha.eksctl.io/nodegroup-name")!.Value;

async function nodegroupNames(): Promise<string[]> {
  return (await asgs()).map(nodegroupOf).sort();
}

async function describeCluster() {
  return (await aws(["eks", "describe-cluster", "--name", ENV])).cluster;
}

/** Flux's GitRepository and Kustomization flux-system, from the cluster's API server through the environment's kubeconfig. */
async function fluxSync(): Promise<{ url?: string; branch?: string; path?: string }> {
  const kubeconfig = parse(await readFile(join(project, "build", ENV, "kubeconfig"), "utf8"));
  const server = kubeconfig.clusters[0].cluster.server as string;
  expect(server.startsWith(suite.cloud.kube.url)).toBe(true);
  const get = async (path: string) => (await fetch(`${server}/apis/${path}/flux-system`)).json();
  const source = await get("source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories");
  const sync = await get("kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations");
  return { url: source.spec?.url, branch: source.spec?.ref?.branch, path: sync.spec?.path };
}

beforeAll(async () => {
  suite = await startE2eSuite({
    projectPrefix: "eksbox-converge-",
    githubToken: "ghp_convergeFAKEtoken1234567890abcdefAB",
    region: REGION,
  });
  project = suite.project;
  config = parse(bornEnvironmentYaml(suite.cloud.awsUrl, REGION));
  await writeConfig();
}, 900_000);

afterAll(async () => {
  await suite?.stop();
});

// Each case runs several eksbox commands; a loaded 2-core machine makes one take a minute.
describe("converge: the config stays the truth after born", { timeout: 900_000 }, () => {
  let version: string;

  it("born, then diff --exit-code finds nothing and plan lists no change", async () => {
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    const names = await nodegroupNames();
    expect(names).toHaveLength(2);
    version = /-([a-z0-9]+)$/.exec(names[0]!)![1]!;
    const diff = await eksbox(["diff", "--env", ENV, "--exit-code"]);
    expect(diff.exitCode, diff.stderr + diff.stdout).toBe(0);
    expect(diff.stdout).toContain("no differences");
    expect(await plannedChanges()).toEqual([]);
  });

  it("in place: worker.maxSize 3 -> 5 is planned for each nodegroup, applied by born, seen in the ASGs", async () => {
    config.worker.maxSize = 5;
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual([
      `inPlace nodegroup worker-1a-${version} maxSize`,
      `inPlace nodegroup worker-1b-${version} maxSize`,
    ]);
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect(born.stderr).toMatch(/\[nodegroups\] done/);
    expect((await asgs()).map((g) => g.MaxSize)).toEqual([5, 5]);
    expect(await plannedChanges()).toEqual([]);
  });

  it("in place: control-plane logging [api] and a log retention, through eksctl and the logs API", async () => {
    config.cluster.logging = ["api"];
    config.cluster.logRetentionInDays = 7;
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual([`inPlace cluster ${ENV} logRetentionInDays`, `inPlace cluster ${ENV} logging`]);
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    const logging = (await describeCluster()).logging.clusterLogging;
    expect(logging.filter((l: { enabled: boolean }) => l.enabled).flatMap((l: { types: string[] }) => l.types)).toEqual(["api"]);
    const groups = (await aws(["logs", "describe-log-groups", "--log-group-name-prefix", `/aws/eks/${ENV}/cluster`])).logGroups;
    expect(groups[0].retentionInDays).toBe(7);
    expect(await plannedChanges()).toEqual([]);
  });

  it("in place: tightened publicAccessCIDRs and a cluster tag", async () => {
    config.cluster.endpoint = { publicAccessCIDRs: ["203.0.113.0/24"] };
    config.cluster.tags = { team: "platform" };
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual([
      `inPlace cluster ${ENV} endpoint.publicAccessCIDRs`,
      `inPlace cluster ${ENV} tags.team`,
    ]);
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    const cluster = await describeCluster();
    expect(cluster.resourcesVpcConfig.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
    expect(cluster.tags.team).toBe("platform");
    expect(await plannedChanges()).toEqual([]);
  });

  it("in place: a service account's policies", async () => {
    config.cluster.serviceAccounts[0].attachPolicyARNs = ["arn:aws:iam::aws:policy/AmazonRoute53ReadOnlyAccess"];
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual(["inPlace serviceaccount kube-system/external-dns attachPolicyARNs"]);
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    const roles = (await aws(["iam", "list-roles"])).Roles.map((r: { RoleName: string }) => r.RoleName);
    const role = roles.find((r: string) => r.includes("kube-system-external-dns"));
    const attached = (await aws(["iam", "list-attached-role-policies", "--role-name", role])).AttachedPolicies.map(
      (p: { PolicyArn: string }) => p.PolicyArn,
    );
    expect(attached).toEqual(["arn:aws:iam::aws:policy/AmazonRoute53ReadOnlyAccess"]);
    expect(await plannedChanges()).toEqual([]);
  });

  it("drift made by hand: diff exits 2 and names it, born restores it, diff exits 0", async () => {
    const group = (await asgs())[0]!;
    await aws(["autoscaling", "update-auto-scaling-group", "--auto-scaling-group-name", group.AutoScalingGroupName, "--max-size", "9"]);
    const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
    expect(drift.exitCode, drift.stderr).toBe(2);
    expect(drift.stdout).toContain(`nodegroup ${nodegroupOf(group)} maxSize: 9 → 5`);
    expect(drift.stdout).toContain("1 difference(s)");
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect((await asgs()).map((g) => g.MaxSize)).toEqual([5, 5]);
    expect((await eksbox(["diff", "--env", ENV, "--exit-code"])).exitCode).toBe(0);
  });

  it("gitops: branch and path changed in the config are planned, flux bootstraps again, the cluster holds them", async () => {
    const before = await fluxSync();
    expect(before).toEqual({ url: "ssh://git@github.com/example-org/fleet", branch: "main", path: `./clusters/${ENV}` });
    config.gitops.branch = "release";
    config.gitops.path = "clusters/cv-next";
    await writeConfig();
    const planned = await plannedChanges();
    expect(brief(planned)).toEqual(["inPlace gitops flux-system branch", "inPlace gitops flux-system path"]);
    expect(planned.find((c) => c.field === "path")).toMatchObject({ live: `clusters/${ENV}`, wanted: "clusters/cv-next" });
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect(born.stderr).toMatch(/\[gitops\] done/);
    expect(await fluxSync()).toEqual({ url: "ssh://git@github.com/example-org/fleet", branch: "release", path: "./clusters/cv-next" });
    expect(await plannedChanges()).toEqual([]);
  });

  it("a cluster tag added by hand is extra: diff exits 2 naming it, born keeps it, born --prune --yes removes it", async () => {
    const arn = (await describeCluster()).arn;
    await aws(["eks", "tag-resource", "--resource-arn", arn, "--tags", "added-by=hand"]);
    const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
    expect(drift.exitCode, drift.stderr).toBe(2);
    expect(drift.stdout).toContain(`cluster ${ENV} tags.added-by: hand → (none)`);
    expect(drift.stdout).toContain("1 difference(s)");
    const kept = await eksbox(["born", "--env", ENV]);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect((await describeCluster()).tags["added-by"]).toBe("hand");
    const unconfirmed = await eksbox(["born", "--env", ENV, "--prune"]);
    expect(unconfirmed.exitCode).not.toBe(0);
    expect((await describeCluster()).tags["added-by"]).toBe("hand");
    const pruned = await eksbox(["born", "--env", ENV, "--prune", "--yes"]);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    const tags = (await describeCluster()).tags;
    expect(tags["added-by"]).toBeUndefined();
    expect(tags.team).toBe("platform");
    expect((await eksbox(["diff", "--env", ENV, "--exit-code"])).exitCode).toBe(0);
  });

  it("a saved plan is refused once the cluster changed underneath, and applied when it has not", async () => {
    config.worker.maxSize = 4;
    await writeConfig();
    const planned = await eksbox(["plan", "born", "--env", ENV, "--out", "plan.json"]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    const group = (await asgs())[0]!;
    await aws(["autoscaling", "update-auto-scaling-group", "--auto-scaling-group-name", group.AutoScalingGroupName, "--min-size", "2"]);
    const refused = await eksbox(["born", "--env", ENV, "--plan", "plan.json"]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/has changed since plan\.json was made; nothing was applied/);
    expect((await asgs()).map((g) => g.MaxSize)).toEqual([5, 5]);

    await aws([
      "autoscaling",
      "update-auto-scaling-group",
      "--auto-scaling-group-name",
      group.AutoScalingGroupName,
      "--min-size",
      "1",
      "--desired-capacity",
      "1",
    ]);
    const again = await eksbox(["plan", "born", "--env", ENV, "--out", "plan.json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    const saved = JSON.parse(await readFile(join(project, "plan.json"), "utf8"));
    expect(saved.changes.map((c: PlannedChange) => c.field)).toEqual(["maxSize", "maxSize"]);
    const applied = await eksbox(["born", "--env", ENV, "--plan", "plan.json"]);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect((await asgs()).map((g) => g.MaxSize)).toEqual([4, 4]);
  });

  it("a roll change: born says a roll is needed and changes nothing; born --roll leaves one set with the new spec", async () => {
    const before = await nodegroupNames();
    const hashesBefore = new Set((await asgs()).map((g) => g.Tags.find((t) => t.Key === "eksbox.io/spec-hash")!.Value));
    config.worker.instanceTypes = ["m5.large", "c5.large", "r5.large"];
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual(before.map((n) => `roll nodegroup ${n} launch spec`));
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect(born.stderr).toMatch(/a roll is needed for/);
    expect(await nodegroupNames()).toEqual(before);

    // Without --yes (no terminal here) the roll is planned with born, before born runs: both plans are
    // printed, the one refusal names the nodegroups it would replace, and nothing is changed.
    const unconfirmed = await eksbox(["born", "--env", ENV, "--roll"]);
    expect(unconfirmed.exitCode, unconfirmed.stderr).toBe(2);
    expect(unconfirmed.stdout).toContain(`plan: born --env ${ENV}`);
    expect(unconfirmed.stdout).toContain(`plan: nodegroup roll --env ${ENV}`);
    expect(unconfirmed.stderr).toContain(`no terminal to ask on; it would:\n  - drain and delete nodegroup(s) ${before.join(", ")}`);
    expect(unconfirmed.stderr).not.toContain("born is done");
    expect(await nodegroupNames()).toEqual(before);

    const rolled = await eksbox(["born", "--env", ENV, "--roll", "--yes"]);
    expect(rolled.exitCode, rolled.stderr).toBe(0);
    const after = await nodegroupNames();
    expect(after).toEqual([`worker-1a-${version}b`, `worker-1b-${version}b`]);
    const hashesAfter = new Set((await asgs()).map((g) => g.Tags.find((t) => t.Key === "eksbox.io/spec-hash")!.Value));
    expect(hashesAfter.size).toBe(1);
    expect([...hashesAfter][0]).not.toBe([...hashesBefore][0]);
    expect(await plannedChanges()).toEqual([]);
    version = `${version}b`;
  });

  it("a zone added gets its nodegroup; removing it is destructive and needs --yes", async () => {
    config.worker.zones = [`${REGION}a`, `${REGION}b`, `${REGION}c`];
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual([`zoneAdd nodegroup worker-1c-${version} (nodegroup)`]);
    expect((await eksbox(["born", "--env", ENV])).exitCode).toBe(0);
    expect(await nodegroupNames()).toContain(`worker-1c-${version}`);

    config.worker.zones = [`${REGION}a`, `${REGION}b`];
    await writeConfig();
    expect(brief(await plannedChanges())).toEqual([`zoneRemove nodegroup worker-1c-${version} (nodegroup)`]);
    const unconfirmed = await eksbox(["born", "--env", ENV]);
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stderr).toMatch(/confirmation/);
    expect(await nodegroupNames()).toContain(`worker-1c-${version}`);
    const confirmed = await eksbox(["born", "--env", ENV, "--yes"]);
    expect(confirmed.exitCode, confirmed.stderr).toBe(0);
    expect(await nodegroupNames()).toEqual([`worker-1a-${version}`, `worker-1b-${version}`]);
    expect(await plannedChanges()).toEqual([]);
  });

  it("an immutable change (renaming the cluster) is refused with file, key and reason; nothing is created", async () => {
    config.cluster.name = `${ENV}-renamed`;
    await writeConfig();
    for (const args of [
      ["plan", "born", "--env", ENV],
      ["born", "--env", ENV],
    ]) {
      const refused = await eksbox(args);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr + refused.stdout).toMatch(new RegExp(`config/environments/${ENV}\\.yaml: cluster\\.name: .*cannot be renamed`));
    }
    expect((await aws(["eks", "list-clusters"])).clusters).toEqual([ENV]);
    config.cluster.name = ENV;
    await writeConfig();
  });

  it("cleans up", async () => {
    const result = await eksbox(["destroy", "--env", ENV, "--yes"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(await suite.leftoverContainers(ENV)).toBe("");
  });
});
