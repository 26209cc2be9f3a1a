// The lifecycle tasks' decisions and resumption, against a fake cloud behind the Toolbox interface.
// test/e2e/ runs the same scenarios through the real runtime, moto and the eksctl/flux doubles.
import { cp, mkdir, mkdtemp, readFile, writeFile, access } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { StepFailedError, UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { bornTask } from "../../../src/steps/born.js";
import { destroyTask } from "../../../src/steps/destroy.js";
import { CloudFacts } from "../../../src/steps/cloud.js";
import type { LifecycleContext } from "../../../src/steps/lifecycle.js";
import type { Task } from "../../../src/steps/model.js";
import { rollContext, rollTask, type RollOptions } from "../../../src/steps/roll.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import { FakeCloud } from "./fake-cloud.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

const envYaml = `
aws:
  region: ap-northeast-1
  accountId: "123456789012"
cluster:
  vpc:
    subnets:
      public:
        ap-northeast-1b: { id: subnet-0aaa }
        ap-northeast-1c: { id: subnet-0bbb }
  serviceAccounts:
  - name: cluster-autoscaler
    namespace: kube-system
    attachPolicyARNs: ["arn:aws:iam::123456789012:policy/autoscaler"]
worker:
  version: "VERSION"
  zones: [ap-northeast-1b, ap-northeast-1c]
  desiredCapacity: 2
gitops:
  provider: github
  owner: example
  repository: fleet
`;

async function makeProject(version?: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "eksbox-lifecycle-"));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  const text = version ? envYaml.replace("VERSION", version) : envYaml.replace(`\n  version: "VERSION"`, "");
  await writeFile(join(root, "config", "environments", "unit.yaml"), text);
  return root;
}

async function contextFor(
  root: string,
  cloud: FakeCloud,
  opts: { planning?: boolean; processEnv?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<LifecycleContext & { sink: MemorySink }> {
  const env = await loadEnvironment(root, "unit");
  const sink = new MemorySink();
  return {
    toolbox: cloud,
    events: sink,
    sink,
    signal: opts.signal ?? new AbortController().signal,
    planning: opts.planning ?? false,
    projectRoot: root,
    env,
    facts: new CloudFacts(cloud, env.config.cluster.name, env.config.aws.region),
    processEnv: opts.processEnv ?? { GITHUB_TOKEN: "ghp_faketoken0000" },
  };
}

async function run<C extends LifecycleContext>(task: Task<C>, ctx: C) {
  return runTask(task, ctx);
}

function withCloud(root: string): FakeCloud {
  const cloud = new FakeCloud(root);
  cloud.subnets.set("subnet-0aaa", "ap-northeast-1b");
  cloud.subnets.set("subnet-0bbb", "ap-northeast-1c");
  return cloud;
}

const statusOf = (result: Awaited<ReturnType<typeof runTask>>) => Object.fromEntries(result.outcomes.map((o) => [o.id, o.status]));

describe("born", () => {
  let root: string;
  let cloud: FakeCloud;
  beforeEach(async () => {
    root = await makeProject("20261101");
    cloud = withCloud(root);
  });

  it("creates everything in order from nothing, then a rerun changes nothing", async () => {
    const first = await run(bornTask(), await contextFor(root, cloud));
    expect(first.status).toBe("done");
    const mutations = cloud.mutations().map((a) => a.slice(0, 3).join(" "));
    expect(mutations[0]).toBe("eksctl create cluster");
    // nodegroups and service accounts run side by side, in either order
    expect(mutations.slice(1, 3).sort()).toEqual(["eksctl create iamserviceaccount", "eksctl create nodegroup"]);
    expect(mutations.slice(3)).toEqual(["flux bootstrap github"]);
    const createNodegroup = cloud.mutations().find((a) => a[2] === "nodegroup")!;
    expect(createNodegroup).toEqual([
      "eksctl",
      "create",
      "nodegroup",
      "-f",
      "build/unit/nodegroups.yaml",
      "--include=worker-1b-20261101,worker-1c-20261101",
    ]);
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261101", "worker-1c-20261101"]);
    expect(cloud.serviceAccounts).toEqual(new Set(["kube-system/cluster-autoscaler"]));
    expect(cloud.fluxBootstrapped).toBe(true);
    await access(join(root, "build/unit/cluster.yaml"));
    await access(join(root, "build/unit/kubeconfig"));
    // Written after the toolbox opened: shared with it, or a copied-in workspace would lack them.
    expect(cloud.shared.slice(0, 2)).toEqual([join(root, "build/unit/cluster.yaml"), join(root, "build/unit/nodegroups.yaml")]);
    expect(statusOf(first).kubeconfig).toBe("skipped"); // create cluster wrote it

    const before = cloud.mutations().length;
    const second = await run(bornTask(), await contextFor(root, cloud));
    expect(second.status, String(second.error)).toBe("done");
    expect(cloud.mutations().length).toBe(before);
    expect(statusOf(second)).toEqual({
      preflight: "done",
      generate: "done",
      cluster: "skipped",
      nodegroups: "skipped",
      serviceaccounts: "skipped",
      addons: "skipped",
      podidentity: "skipped",
      access: "skipped",
      kubeconfig: "skipped",
      karpenter: "skipped",
      capacity: "skipped",
      support: "skipped",
      gitops: "skipped",
    });
  });

  it.each([
    ["create cluster", "cluster"],
    ["create nodegroup", "nodegroups"],
    ["create iamserviceaccount", "serviceaccounts"],
    ["write-kubeconfig", "kubeconfig"],
    ["flux bootstrap", "gitops"],
  ])("a failure at %s stops there, and a rerun finishes without redoing finished work", async (fragment, step) => {
    if (fragment === "write-kubeconfig") {
      // Only reached when the kubeconfig is missing: create the cluster out of band first, as the
      // rendered config says (born's live reads start in preflight, before its generate writes the file).
      const { loadEnvironment } = await import("../../../src/config/load.js");
      const { generateEnvironment } = await import("../../../src/render/render.js");
      await generateEnvironment(root, await loadEnvironment(root, "unit"));
      cloud.clusters.set("unit", { status: "ACTIVE", version: "1.34" });
    }
    cloud.failOnce(fragment);
    const failed = await run(bornTask(), await contextFor(root, cloud));
    expect(failed.status).toBe("failed");
    expect(failed.error).toBeInstanceOf(StepFailedError);
    expect((failed.error as StepFailedError).step).toBe(step);
    expect(statusOf(failed)[step]).toBe("failed");

    const rerun = await run(bornTask(), await contextFor(root, cloud));
    expect(rerun.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261101", "worker-1c-20261101"]);
    expect(cloud.fluxBootstrapped).toBe(true);
    const creates = (what: string) => cloud.calls.filter((a) => a.slice(0, 3).join(" ") === `eksctl create ${what}`).length;
    // What succeeded once was not done again; what failed was done again once.
    expect(creates("cluster")).toBe(fragment === "create cluster" ? 2 : fragment === "write-kubeconfig" ? 0 : 1);
    expect(creates("nodegroup")).toBe(fragment === "create nodegroup" ? 2 : 1);
  });

  it("a done line says what was done, not the reason the step decided to run", async () => {
    const { plainEventLine } = await import("../../../src/core/events.js");
    const ctx = await contextFor(root, cloud);
    expect((await run(bornTask(), ctx)).status).toBe("done");
    const doneLines = Object.fromEntries(
      ctx.sink.events.flatMap((e) =>
        e.type === "step-end" && e.status === "done" ? [[e.step, plainEventLine(e)!.replace(/\(\d+\.\ds\)/, "(t)")]] : [],
      ),
    );
    expect(doneLines).toMatchObject({
      cluster: "[cluster] done (t): created cluster unit",
      nodegroups: "[nodegroups] done (t): created worker-1b-20261101, worker-1c-20261101",
      serviceaccounts: "[serviceaccounts] done (t): created kube-system/cluster-autoscaler",
      gitops: "[gitops] done (t): bootstrapped Flux from example/fleet",
    });
    // The decision stays in the event (the run record keeps it).
    expect(ctx.sink.events.find((e) => e.type === "step-end" && e.step === "cluster")).toMatchObject({
      reason: "cluster unit does not exist",
    });

    const destroyCtx = await contextFor(root, cloud);
    expect((await run(destroyTask(), destroyCtx)).status).toBe("done");
    const destroyLines = destroyCtx.sink.events.flatMap((e) => (e.type === "step-end" && e.status === "done" ? [plainEventLine(e)!] : []));
    expect(destroyLines.find((l) => l.startsWith("[delete-cluster]"))).toMatch(/: deleted cluster unit$/);
    expect(destroyLines.find((l) => l.startsWith("[delete-nodegroups]"))).toMatch(/: deleted worker-1b-20261101, worker-1c-20261101$/);
  });

  it("rewrites a kubeconfig that names the cluster but points at an old endpoint", async () => {
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
    const path = join(root, "build/unit/kubeconfig");
    await writeFile(path, (await readFile(path, "utf8")).replace("https://fake.eks", "https://old-endpoint.eks"));
    const rerun = await run(bornTask(), await contextFor(root, cloud));
    expect(statusOf(rerun).kubeconfig).toBe("done");
    expect(cloud.mutations().at(-1)!.slice(0, 3)).toEqual(["eksctl", "utils", "write-kubeconfig"]);
    expect(await readFile(path, "utf8")).toContain("server: https://fake.eks");
    const third = await run(bornTask(), await contextFor(root, cloud));
    expect(statusOf(third).kubeconfig).toBe("skipped");
  });

  it("refuses another account before changing anything", async () => {
    cloud.account = "999999999999";
    const result = await run(bornTask(), await contextFor(root, cloud));
    expect(result.error).toBeInstanceOf(UserError);
    expect((result.error as Error).message).toMatch(
      /credentials are for account 999999999999, but environment unit is in account 123456789012/,
    );
    expect(cloud.mutations()).toEqual([]);
  });

  it("refuses subnets that are missing or in another zone, naming the key", async () => {
    cloud.subnets.set("subnet-0bbb", "ap-northeast-1d");
    const result = await run(bornTask(), await contextFor(root, cloud));
    expect((result.error as Error).message).toMatch(
      /cluster\.vpc\.subnets\.public\.ap-northeast-1c: subnet subnet-0bbb is in ap-northeast-1d, not ap-northeast-1c/,
    );
    expect(cloud.mutations()).toEqual([]);
  });

  it("reports a cluster stuck CREATING with what to do", async () => {
    cloud.clusters.set("unit", { status: "CREATING", version: "1.34" });
    const result = await run(bornTask(), await contextFor(root, cloud));
    expect(result.error).toMatchObject({
      message: "cluster unit is still being created (CREATING)",
      hint: expect.stringContaining("then rerun born"),
    });
  });

  it("asks for the flux token instead of failing inside flux", async () => {
    const result = await run(bornTask(), await contextFor(root, cloud, { processEnv: {} }));
    expect(statusOf(result).gitops).toBe("failed");
    expect((result.error as Error).message).toMatch(/needs a token in GITHUB_TOKEN/);
  });

  it("plan decides every step and changes nothing, not even build/", async () => {
    const ctx = await contextFor(root, cloud, { planning: true });
    const entries = await planTask(bornTask(), ctx);
    expect(cloud.mutations()).toEqual([]);
    await expect(access(join(root, "build"))).rejects.toThrow();
    expect(entries.map((e) => [e.id, e.decision?.action])).toEqual([
      ["preflight", "run"],
      ["generate", "run"],
      ["cluster", "run"],
      ["nodegroups", "run"],
      ["serviceaccounts", "run"],
      ["addons", "skip"],
      ["podidentity", "skip"],
      ["access", "skip"],
      ["kubeconfig", "run"],
      ["karpenter", "skip"],
      ["capacity", "skip"],
      ["support", "skip"],
      ["gitops", "run"],
    ]);
    const cluster = entries.find((e) => e.id === "cluster")!.decision!;
    expect(cluster.action === "run" && cluster.commands[0]!.argv).toEqual([
      "eksctl",
      "create",
      "cluster",
      "-f",
      "build/unit/cluster.yaml",
      "--kubeconfig",
      "build/unit/kubeconfig",
    ]);
  });
});

describe("born converges a live environment", () => {
  let root: string;
  let cloud: FakeCloud;
  beforeEach(async () => {
    root = await makeProject("20261101");
    cloud = withCloud(root);
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
  });

  const setEnv = async (from: string, to: string) => {
    const file = join(root, "config", "environments", "unit.yaml");
    await writeFile(file, (await readFile(file, "utf8")).replace(from, to));
  };

  it("plan lists a maxSize change under nodegroups; born scales in place; then nothing is left", async () => {
    await setEnv("  desiredCapacity: 2\n", "  desiredCapacity: 2\n  maxSize: 7\n");
    const planned = await planTask(bornTask(), await contextFor(root, cloud, { planning: true }));
    const nodegroups = planned.find((e) => e.id === "nodegroups")!.decision!;
    expect(nodegroups.action).toBe("run");
    expect(nodegroups.changes!.map((c) => `${c.kind} ${c.resource} ${c.field}`)).toEqual([
      "inPlace nodegroup worker-1b-20261101 maxSize",
      "inPlace nodegroup worker-1c-20261101 maxSize",
    ]);
    expect(planned.filter((e) => e.decision?.changes?.length).map((e) => e.id)).toEqual(["nodegroups"]);
    const before = cloud.calls.length;
    const born = await run(bornTask(), await contextFor(root, cloud));
    expect(born.status, String(born.error)).toBe("done");
    expect(
      cloud.calls
        .slice(before)
        .filter((a) => a[1] === "scale")
        .map((a) => a.join(" ")),
    ).toEqual([
      "eksctl scale nodegroup --cluster unit --region ap-northeast-1 --name worker-1b-20261101 --nodes-min=1 --nodes-max=7",
      "eksctl scale nodegroup --cluster unit --region ap-northeast-1 --name worker-1c-20261101 --nodes-min=1 --nodes-max=7",
    ]);
    expect(cloud.nodegroups.get("worker-1b-20261101")!.maxSize).toBe(7);
    const again = await planTask(bornTask(), await contextFor(root, cloud, { planning: true }));
    expect(again.flatMap((e) => e.decision?.changes ?? [])).toEqual([]);
  });

  it("a zone removed is refused without --yes (nothing deleted), done with it, and a protected env also needs --allow-protected", async () => {
    await setEnv("zones: [ap-northeast-1b, ap-northeast-1c]", "zones: [ap-northeast-1b]");
    const refused = await run(bornTask(), await contextFor(root, cloud));
    expect(refused.status).toBe("failed");
    expect(refused.error).toBeInstanceOf(UserError);
    expect((refused.error as Error).message).toMatch(/needs a confirmation[^\n]*\n.*zoneRemove/);
    expect(cloud.nodegroups.has("worker-1c-20261101")).toBe(true);

    await setEnv("aws:", "protected: true\naws:");
    const ctx = await contextFor(root, cloud);
    const guarded = await run(bornTask(), Object.assign(ctx, { converge: { yes: true } }));
    expect((guarded.error as Error).message).toMatch(/is protected/);
    expect(cloud.nodegroups.has("worker-1c-20261101")).toBe(true);

    const allowed = await run(bornTask(), Object.assign(await contextFor(root, cloud), { converge: { yes: true, allowProtected: true } }));
    expect(allowed.status, String(allowed.error)).toBe("done");
    expect([...cloud.nodegroups.keys()]).toEqual(["worker-1b-20261101"]);
  });

  it("renaming the cluster is refused with the file, key and reason, and nothing is created", async () => {
    await setEnv("\ncluster:\n", "\ncluster:\n  name: unit-renamed\n");
    const before = cloud.mutations().length;
    const refused = await run(bornTask(), await contextFor(root, cloud));
    expect(refused.status).toBe("failed");
    expect((refused.error as Error).message).toMatch(
      /config\/environments\/unit\.yaml: cluster\.name: the cluster is unit, the config now says unit-renamed: an EKS cluster cannot be renamed/,
    );
    expect(cloud.mutations().length).toBe(before);
    expect([...cloud.clusters.keys()]).toEqual(["unit"]);
  });

  it("a changed launch spec is a roll: born says so and changes nothing", async () => {
    await setEnv("  desiredCapacity: 2\n", "  desiredCapacity: 2\n  instanceTypes: [m5.large]\n");
    const before = cloud.mutations().length;
    const born = await run(bornTask(), await contextFor(root, cloud));
    expect(born.status, String(born.error)).toBe("done");
    expect(cloud.mutations().length).toBe(before);
    const nodegroups = born.outcomes.find((o) => o.id === "nodegroups")!;
    expect(nodegroups.decision!.reason).toMatch(/a roll is needed for worker-1b-20261101, worker-1c-20261101 .*--roll/);
  });
});

describe("nodegroup roll", () => {
  let root: string;
  let cloud: FakeCloud;
  beforeEach(async () => {
    root = await makeProject();
    cloud = withCloud(root);
    const ctx = await contextFor(root, cloud);
    // born on 2026-11-01 with no version in config: the version comes from the date.
    const { recordWorkerVersion } = await import("../../../src/core/state.js");
    await recordWorkerVersion(root, "unit", "20261101");
    expect((await run(bornTask(), ctx)).status).toBe("done");
  });

  const roll = async (opts: RollOptions) => run(rollTask(opts), rollContext(await contextFor(root, cloud)));

  it("creates the new version beside the old, waits for Ready nodes, then deletes the old", async () => {
    const result = await roll({ now: new Date("2026-11-25T09:00:00Z"), pollIntervalMs: 1 });
    expect(result.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261125", "worker-1c-20261125"]);
    const order = cloud
      .mutations()
      .slice(-3)
      .map((a) => `${a[1]} ${a[2]} ${a.find((x) => x.startsWith("worker-") || x.startsWith("--include")) ?? ""}`);
    expect(order).toEqual([
      "create nodegroup --include=worker-1b-20261125,worker-1c-20261125",
      "delete nodegroup worker-1b-20261101",
      "delete nodegroup worker-1c-20261101",
    ]);
    const state = JSON.parse(await readFile(join(root, ".eksbox/state/unit.json"), "utf8"));
    expect(state.workerVersion).toBe("20261125");

    // Asked for again the same day, a roll moves to a new version: today's is taken, so a letter is added.
    const again = await roll({ now: new Date("2026-11-25T10:00:00Z"), pollIntervalMs: 1 });
    expect(again.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261125b", "worker-1c-20261125b"]);
  });

  it("on the day of born, a roll moves to a free suffix instead of reporting done with nothing rolled", async () => {
    const root2 = await makeProject();
    const cloud2 = withCloud(root2);
    const { recordWorkerVersion } = await import("../../../src/core/state.js");
    await recordWorkerVersion(root2, "unit", "20261126");
    expect((await run(bornTask(), await contextFor(root2, cloud2))).status).toBe("done");
    const result = await run(
      rollTask({ now: new Date("2026-11-26T15:00:00Z"), pollIntervalMs: 1 }),
      rollContext(await contextFor(root2, cloud2)),
    );
    expect(result.status).toBe("done");
    expect([...cloud2.nodegroups.keys()].sort()).toEqual(["worker-1b-20261126b", "worker-1c-20261126b"]);
    expect(
      cloud2
        .mutations()
        .filter((a) => a[1] === "delete")
        .map((a) => a[a.indexOf("--name") + 1]),
    ).toEqual(["worker-1b-20261126", "worker-1c-20261126"]);
  });

  it("refuses a roll to the version the nodegroups already run, with the --to-version hint", async () => {
    const result = await roll({ toVersion: "20261101", pollIntervalMs: 1 });
    expect(result.error).toBeInstanceOf(UserError);
    expect(result.error).toMatchObject({
      message: "the nodegroups run version 20261101 already: a roll to it would change nothing",
      hint: expect.stringContaining("eksbox nodegroup roll --env unit --to-version "),
    });
    expect(cloud.mutations().filter((a) => a[1] === "delete")).toEqual([]);
  });

  it("never deletes the old set while the new nodes are not Ready, and a later rerun finishes the same roll", async () => {
    cloud.notReady.add("worker-1c-20261125");
    const stuck = await roll({ now: new Date("2026-11-25T09:00:00Z"), readyTimeoutMs: 5, pollIntervalMs: 1 });
    expect(stuck.status).toBe("failed");
    expect((stuck.error as Error).message).toMatch(/worker-1c-20261125 still have fewer than 1 Ready node/);
    expect([...cloud.nodegroups.keys()].sort()).toEqual([
      "worker-1b-20261101",
      "worker-1b-20261125",
      "worker-1c-20261101",
      "worker-1c-20261125",
    ]);
    // The target is on the cluster, where any machine finds it.
    expect(cloud.clusters.get("unit")!.tags).toEqual({ "eksbox.io/roll-target": "20261125" });

    cloud.notReady.clear();
    // The next day: the roll in progress is finished, not a new one started.
    const finished = await roll({ now: new Date("2026-11-26T09:00:00Z"), pollIntervalMs: 1 });
    expect(finished.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261125", "worker-1c-20261125"]);
    expect(cloud.clusters.get("unit")!.tags).toEqual({});
  });

  it("a roll stopped part-way is finished from another checkout toward the same target, not a third version", async () => {
    cloud.notReady.add("worker-1c-20991231");
    const stuck = await roll({ toVersion: "20991231", now: new Date("2026-11-25T09:00:00Z"), readyTimeoutMs: 5, pollIntervalMs: 1 });
    expect(stuck.status).toBe("failed");
    cloud.notReady.clear();

    // Another machine: a fresh checkout with no .eksbox/, the same cloud, another day, no --to-version.
    const other = await makeProject();
    const otherCloud = withCloud(other);
    otherCloud.clusters = cloud.clusters;
    otherCloud.nodegroups = cloud.nodegroups;
    const finished = await run(
      rollTask({ now: new Date("2026-11-30T09:00:00Z"), pollIntervalMs: 1 }),
      rollContext(await contextFor(other, otherCloud)),
    );
    expect(finished.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20991231", "worker-1c-20991231"]);
    expect(otherCloud.mutations().filter((a) => a[1] === "create")).toEqual([]);
    expect(cloud.clusters.get("unit")!.tags).toEqual({});
  });

  it("without the tag, two versions live at once are a roll in progress toward the newer", async () => {
    cloud.notReady.add("worker-1c-20991231");
    expect((await roll({ toVersion: "20991231", readyTimeoutMs: 5, pollIntervalMs: 1 })).status).toBe("failed");
    cloud.notReady.clear();
    cloud.clusters.get("unit")!.tags = {};
    expect((await roll({ now: new Date("2026-11-30T09:00:00Z"), pollIntervalMs: 1 })).status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20991231", "worker-1c-20991231"]);
  });

  it("on a rerun whose new nodes are Ready already, wait-ready decides skip instead of waiting", async () => {
    expect((await roll({ now: new Date("2026-11-25T09:00:00Z"), pollIntervalMs: 1 })).status).toBe("done");
    cloud.clusters.get("unit")!.tags = { "eksbox.io/roll-target": "20261125" };
    const ctx = rollContext(await contextFor(root, cloud));
    const entries = await planTask(rollTask({ pollIntervalMs: 1 }), ctx);
    expect(entries.find((e) => e.id === "wait-ready")?.decision).toEqual({
      action: "skip",
      reason: "each new nodegroup has 1 Ready node(s) or more",
    });
  });

  it("Ctrl-C while waiting for Ready nodes ends the step aborted, not done, and deletes nothing", async () => {
    cloud.notReady.add("worker-1b-20261125");
    const controller = new AbortController();
    const ctx = rollContext(await contextFor(root, cloud, { signal: controller.signal }));
    const running = run(rollTask({ now: new Date("2026-11-25T09:00:00Z"), pollIntervalMs: 5 }), ctx);
    await waitUntil(() => ctx.sink.events.some((e) => e.type === "log" && e.message.startsWith("waiting for Ready nodes")));
    controller.abort();
    const result = await running;
    expect(result.status).toBe("aborted");
    expect(statusOf(result)["wait-ready"]).toBe("aborted");
    expect(statusOf(result)["delete-old"]).toBe("not-run");
    expect(cloud.nodegroups.has("worker-1b-20261101")).toBe(true);
  });

  it("leaves nodegroups that are not eksbox's alone", async () => {
    cloud.nodegroups.set("gpu-pool", { name: "gpu-pool", desiredCapacity: 1, minSize: 0, maxSize: 2, type: "managed" });
    const result = await roll({ now: new Date("2026-11-25T09:00:00Z"), pollIntervalMs: 1 });
    expect(result.status).toBe("done");
    expect(cloud.nodegroups.has("gpu-pool")).toBe(true);
  });

  it("refuses when there is no cluster", async () => {
    cloud.clusters.clear();
    cloud.nodegroups.clear();
    const result = await roll({ pollIntervalMs: 1 });
    expect(result.error).toMatchObject({
      message: expect.stringMatching(/cluster unit does not exist/),
      hint: expect.stringContaining("eksbox born --env unit"),
    });
  });
});

describe("nodegroup roll --pool", () => {
  let root: string;
  let cloud: FakeCloud;
  beforeEach(async () => {
    root = await makeProject();
    const text = await readFile(join(root, "config", "environments", "unit.yaml"), "utf8");
    const pools = `nodePools:
  system:
    type: managed
    perZone: false
    spot: { enabled: false, spotInstancePools: null }
    zones: [ap-northeast-1b, ap-northeast-1c]
  workers:
    zones: [ap-northeast-1b, ap-northeast-1c]
gitops:`;
    await writeFile(join(root, "config", "environments", "unit.yaml"), text.replace(/worker:\n[\s\S]*?\ngitops:/, pools));
    cloud = withCloud(root);
    const { recordPoolVersions } = await import("../../../src/core/state.js");
    await recordPoolVersions(root, "unit", { system: "20261101", workers: "20261101" });
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["system-20261101", "workers-1b-20261101", "workers-1c-20261101"]);
  });

  it("rolls only the pool asked for; the other keeps its nodegroups and its recorded version", async () => {
    const result = await run(
      rollTask({ pools: ["workers"], toVersion: "20261125", pollIntervalMs: 1 }),
      rollContext(await contextFor(root, cloud)),
    );
    expect(result.status, String(result.error)).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["system-20261101", "workers-1b-20261125", "workers-1c-20261125"]);
    const touched = cloud
      .mutations()
      .filter((a) => a[1] === "create" || a[1] === "delete")
      .map((a) => a.join(" "));
    expect(touched.filter((c) => c.includes("system-"))).toEqual([
      "eksctl create nodegroup -f build/unit/nodegroups.yaml --include=system-20261101,workers-1b-20261101,workers-1c-20261101",
    ]);
    const state = JSON.parse(await readFile(join(root, ".eksbox/state/unit.json"), "utf8"));
    expect(state.poolVersions).toEqual({ system: "20261101", workers: "20261125" });
    // born afterwards renders each pool at its own live version: nothing to create.
    const before = cloud.mutations().length;
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
    expect(cloud.mutations().length).toBe(before);
  });

  it("refuses a pool the environment does not have", async () => {
    const result = await run(rollTask({ pools: ["gpu"], pollIntervalMs: 1 }), rollContext(await contextFor(root, cloud)));
    expect(result.error).toMatchObject({
      message: expect.stringContaining("--pool gpu: environment unit has no such pool"),
      hint: "its pools: system, workers",
    });
  });
});

describe("destroy", () => {
  it("deletes the nodegroups, then the cluster, then local state; a rerun does nothing", async () => {
    const root = await makeProject("20261101");
    const cloud = withCloud(root);
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
    const result = await run(destroyTask(), await contextFor(root, cloud));
    expect(result.status).toBe("done");
    const deletes = cloud
      .mutations()
      .filter((a) => a[1] === "delete")
      .map((a) => `${a[2]} ${a[a.indexOf("--name") + 1]}`);
    expect(deletes).toEqual(["nodegroup worker-1b-20261101", "nodegroup worker-1c-20261101", "cluster unit"]);
    expect(cloud.clusters.size).toBe(0);
    await expect(access(join(root, "build/unit/kubeconfig"))).rejects.toThrow();

    const before = cloud.mutations().length;
    const again = await run(destroyTask(), await contextFor(root, cloud));
    expect(statusOf(again)).toMatchObject({ "delete-nodegroups": "skipped", "delete-cluster": "skipped" });
    expect(cloud.mutations().length).toBe(before);
  });

  it("forgets the environment's local state (the worker version); a roll's target goes with the cluster", async () => {
    const root = await makeProject("20261101");
    const cloud = withCloud(root);
    expect((await run(bornTask(), await contextFor(root, cloud))).status).toBe("done");
    const stateFile = ".eksbox/state/unit.json";
    await access(join(root, stateFile));
    // What an interrupted roll leaves behind is on the cluster, not in .eksbox/.
    cloud.clusters.get("unit")!.tags = { "eksbox.io/roll-target": "20261125" };
    expect((await run(destroyTask(), await contextFor(root, cloud))).status).toBe("done");
    await expect(access(join(root, stateFile))).rejects.toThrow();
    expect(cloud.clusters.has("unit")).toBe(false);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!condition()) throw new Error("condition never became true");
}
