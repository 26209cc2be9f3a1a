// upgrade against the fake cloud: one minor version per hop, addons, the nodegroup roll, what to
// change in the config, and resumption from the live version.
import { access, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { StepFailedError, UserError } from "../../../src/core/errors.js";
import { todaysVersion } from "../../../src/config/worker-version.js";
import { bornTask } from "../../../src/steps/born.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import { upgradeContext, upgradePath, upgradeTask, type UpgradeOptions } from "../../../src/steps/upgrade.js";
import { contextFor, fakeCloud, makeProject, unitEnvYaml } from "./support.js";
import type { UpgradeFakeCloud } from "./fake-cloud-upgrade.js";

const statusOf = (result: Awaited<ReturnType<typeof runTask>>) => Object.fromEntries(result.outcomes.map((o) => [o.id, o.status]));
const envAt = (version: string) => unitEnvYaml.replace('version: "1.35"', `version: "${version}"`);

let root: string;
let cloud: UpgradeFakeCloud;
const born = todaysVersion(new Date());

async function upgrade(opts: UpgradeOptions = {}, planning = false) {
  const ctx = upgradeContext(await contextFor(root, cloud, { planning }));
  const task = upgradeTask({ pollIntervalMs: 1, ...opts });
  return { ctx, task, result: planning ? undefined : await runTask(task, ctx) };
}

async function setConfigVersion(version: string) {
  await writeFile(join(root, "config/environments/unit.yaml"), envAt(version));
}

beforeEach(async () => {
  root = await makeProject({ envYaml: envAt("1.33") });
  cloud = fakeCloud(root);
  expect((await runTask(bornTask(), await contextFor(root, cloud))).status).toBe("done");
  for (const name of ["vpc-cni", "coredns", "kube-proxy"]) cloud.addons.set(name, { version: "v1.0" });
  await setConfigVersion("1.35");
  cloud.calls = [];
});

describe("upgrade path", () => {
  it("goes one minor version at a time and refuses downgrades and unknown versions", () => {
    expect(upgradePath("1.33", "1.35")).toEqual(["1.34", "1.35"]);
    expect(upgradePath("1.35", "1.35")).toEqual([]);
    expect(() => upgradePath("1.35", "1.34")).toThrow("cannot downgrade: the cluster runs Kubernetes 1.35, the target is 1.34");
    expect(() => upgradePath("1.34", "1.36")).toThrow("Kubernetes 1.36 is newer than 1.35, the newest this eksctl knows");
  });
});

describe("upgrade", () => {
  it("upgrades 1.33 -> 1.34 -> 1.35, updates the addons, rolls the nodegroups; a rerun changes nothing", async () => {
    const { result } = await upgrade();
    expect(result!.status).toBe("done");
    expect(cloud.clusters.get("unit")!.version).toBe("1.35");
    expect(cloud.mutations().map((a) => a.join(" "))).toEqual([
      "eksctl upgrade cluster -f build/unit/upgrade/cluster-1.34.yaml --approve",
      "eksctl upgrade cluster -f build/unit/upgrade/cluster-1.35.yaml --approve",
      "eksctl update addon -f build/unit/upgrade/cluster-1.35.yaml",
      // born ran today, so the new nodegroups take today's version with a letter
      `eksctl create nodegroup -f build/unit/nodegroups.yaml --include=worker-1b-${born}b,worker-1c-${born}b`,
      `eksctl delete nodegroup --cluster unit --region ap-northeast-1 --name worker-1b-${born} --drain --approve --wait`,
      `eksctl delete nodegroup --cluster unit --region ap-northeast-1 --name worker-1c-${born} --drain --approve --wait`,
    ]);
    expect(cloud.addons.get("coredns")).toEqual({ version: "v1.0-k8s1.35" });
    expect(await readFile(join(root, "build/unit/upgrade/cluster-1.34.yaml"), "utf8")).toMatch(/version: "?1\.34"?/);
    expect(statusOf(result!).config).toBe("done");
    expect(cloud.clusters.get("unit")!.tags ?? {}).toEqual({});

    cloud.calls = [];
    const { result: again } = await upgrade();
    expect(again!.status).toBe("done");
    expect(cloud.mutations()).toEqual([]);
    expect(statusOf(again!)).toMatchObject({
      "control-plane": "skipped",
      addons: "skipped",
      "nodegroups.create-new": "skipped",
      config: "skipped",
    });
  });

  it("resumes at the hop that failed, deciding from the live version", async () => {
    cloud.failOnceHere("cluster-1.35.yaml --approve");
    const { result: failed } = await upgrade();
    expect(failed!.status).toBe("failed");
    expect((failed!.error as StepFailedError).step).toBe("control-plane");
    expect(cloud.clusters.get("unit")!.version).toBe("1.34");
    expect(statusOf(failed!)).toMatchObject({ addons: "not-run", "nodegroups.create-new": "not-run" });

    cloud.calls = [];
    const { result: rerun } = await upgrade();
    expect(rerun!.status).toBe("done");
    const controlPlane = rerun!.outcomes.find((o) => o.id === "control-plane")!.decision!;
    expect(controlPlane).toMatchObject({ reason: "Kubernetes 1.34 -> 1.35; upgrade insights for 1.35: 0 ERROR, 0 WARNING, 0 other" });
    expect(
      cloud
        .mutations()
        .filter((a) => a[1] === "upgrade")
        .map((a) => a[4]),
    ).toEqual(["build/unit/upgrade/cluster-1.35.yaml"]);
    expect(cloud.clusters.get("unit")!.version).toBe("1.35");
  });

  it("a rerun after the control plane finished still rolls the nodegroups (the upgrade is remembered)", async () => {
    cloud.failOnceHere("update addon");
    expect((await upgrade()).result!.status).toBe("failed");
    expect(cloud.clusters.get("unit")!.version).toBe("1.35");
    cloud.calls = [];
    const { result } = await upgrade();
    expect(result!.status).toBe("done");
    expect(statusOf(result!)).toMatchObject({
      "control-plane": "skipped",
      addons: "done",
      "nodegroups.create-new": "done",
      "nodegroups.delete-old": "done",
    });
  });

  it("never rolls twice: a rerun after the roll but before the last step only finishes", async () => {
    expect((await upgrade()).result!.status).toBe("done");
    // As if the run had stopped just before its config step cleared the upgrade in progress.
    cloud.clusters.get("unit")!.tags = { "eksbox.io/upgrade-to": "1.35", "eksbox.io/upgrade-roll-from": born };
    cloud.calls = [];
    const { result } = await upgrade();
    expect(statusOf(result!)).toMatchObject({ "nodegroups.create-new": "skipped", config: "done" });
    expect(cloud.mutations()).toEqual([]);
    expect(cloud.clusters.get("unit")!.tags ?? {}).toEqual({});
  });

  it("says which config line to change when --to differs from the config, and does not edit it", async () => {
    await setConfigVersion("1.34");
    const { ctx, result } = await upgrade({ to: "1.35" });
    expect(result!.status).toBe("done");
    const advice = 'config/environments/unit.yaml:6: change cluster.version from "1.34" to "1.35"';
    expect(result!.outcomes.find((o) => o.id === "config")!.decision).toMatchObject({ reason: advice });
    expect((ctx as unknown as { sink: { events: { type: string; level?: string; message?: string }[] } }).sink.events).toContainEqual({
      type: "log",
      level: "warn",
      message: `update your config: ${advice}`,
    });
    expect(await readFile(join(root, "config/environments/unit.yaml"), "utf8")).toContain('version: "1.34"');
  });

  it("plans every step, including the inlined roll, and changes nothing", async () => {
    const { ctx, task } = await upgrade({}, true);
    const entries = await planTask(task, ctx);
    expect(entries.map((e) => [e.id, e.error ? "error" : e.decision?.action, e.decision?.reason])).toEqual([
      ["preflight", "run", "account 123456789012, region ap-northeast-1, 2 subnet(s) checked"],
      [
        "control-plane",
        "run",
        "Kubernetes 1.33 -> 1.34 -> 1.35; upgrade insights for 1.34: 0 ERROR, 0 WARNING, 0 other; the insights for 1.35 are checked before each of those hops",
      ],
      ["addons", "run", "after the control plane reaches 1.35: vpc-cni, coredns, kube-proxy"],
      ["nodegroups.preflight", "run", "account 123456789012, region ap-northeast-1, 2 subnet(s) checked"],
      ["nodegroups.generate", "run", `nodegroup version ${born}b`],
      ["nodegroups.create-new", "run", `version ${born}b: missing worker-1b-${born}b, worker-1c-${born}b`],
      ["nodegroups.wait-ready", "run", `need 1 Ready node(s) in each of worker-1b-${born}b, worker-1c-${born}b`],
      ["nodegroups.delete-old", "run", `old: worker-1b-${born}, worker-1c-${born}`],
      ["nodegroups.record", "run", `record version ${born}b`],
      ["config", "run", "the config says Kubernetes 1.35"],
    ]);
    expect(cloud.mutations()).toEqual([]);
    await expect(access(join(root, "build/unit/upgrade"))).rejects.toThrow();
  });

  it("at the target already, only updates addons that are behind and leaves the nodegroups alone", async () => {
    cloud.clusters.get("unit")!.version = "1.35";
    cloud.addons.set("coredns", { version: "v1.0", newer: "v1.1,v1.2" });
    cloud.addons.set("kube-proxy", { version: "v1.0", newer: "-" });
    const { result } = await upgrade();
    expect(result!.status).toBe("done");
    expect(result!.outcomes.find((o) => o.id === "addons")!.decision).toMatchObject({ reason: "behind: coredns v1.0" });
    expect(result!.outcomes.find((o) => o.id === "nodegroups.create-new")!.decision).toEqual({
      action: "skip",
      reason: "the nodegroups were rolled for Kubernetes 1.35 (no upgrade in progress)",
    });
    expect(cloud.mutations().map((a) => a.slice(0, 3).join(" "))).toEqual(["eksctl update addon"]);
  });

  it("refuses a downgrade and a cluster that is not there, before changing anything", async () => {
    const { result } = await upgrade({ to: "1.32" });
    expect(result!.error).toBeInstanceOf(UserError);
    expect((result!.error as Error).message).toBe("cannot downgrade: the cluster runs Kubernetes 1.33, the target is 1.32");
    cloud.clusters.clear();
    const { result: missing } = await upgrade();
    expect((missing!.error as UserError).hint).toContain("eksbox born --env unit");
    expect(cloud.mutations()).toEqual([]);
  });
});
