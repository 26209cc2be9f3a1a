// EKS Auto Mode on a live cluster: the comparison (cluster.yaml's autoModeConfig against
// describe-cluster's computeConfig) and the switches eksbox refuses. The capacity step's waits:
// auto-mode-switch.test.ts.
import { describe, expect, it } from "vitest";
import { describeChange, diff, type DesiredState, type DiffContext, type LiveState } from "../../../src/steps/converge/diff.js";
import type { Change } from "../../../src/steps/converge/change.js";
import { autoModeChanges } from "../../../src/steps/converge/auto-mode.js";
import { refuseUnsupportedSwitch } from "../../../src/steps/converge/mode-switch.js";
import { UserError } from "../../../src/core/errors.js";

const V = "20261126";
const ctx: DiffContext = {
  envName: "am",
  paths: { cluster: "build/am/cluster.yaml", nodegroups: "build/am/nodegroups.yaml", kubeconfig: "build/am/kubeconfig" },
  versionOf: (name) => /^system-([a-z0-9]+)$/.exec(name)?.[1],
  poolOf: (name) => (/^system-[a-z0-9]+$/.test(name) ? "system" : undefined),
};
const UPDATE = ["eksctl", "update", "auto-mode-config", "-f", "build/am/cluster.yaml"];

function desired(autoMode: { enabled: boolean; nodePools: string[] }, withWorkers = false): DesiredState {
  const group = (name: string, managed: boolean) => ({
    name,
    managed,
    minSize: 1,
    maxSize: 3,
    desiredCapacity: 1,
    labels: {},
    taints: [],
    specHash: "h",
    pool: name.split("-")[0],
  });
  return {
    cluster: {
      name: "am",
      region: "us-east-1",
      version: "1.34",
      logging: [],
      privateAccess: false,
      publicAccess: true,
      publicAccessCIDRs: [],
      tags: {},
      subnetIds: [],
      autoMode,
    },
    workerVersion: V,
    nodegroups: [group(`system-${V}`, true), ...(withWorkers ? [group(`workers-1a-${V}`, false)] : [])],
    serviceAccounts: [],
    addons: autoMode.enabled ? [] : [{ name: "vpc-cni", version: "latest", configurationValues: "" }],
  };
}

function live(autoMode: boolean | undefined, nodePools?: string[], nodegroups = [`system-${V}`, `workers-1a-${V}`]): LiveState {
  return {
    cluster: {
      name: "am",
      arn: "arn:aws:eks:us-east-1:1:cluster/am",
      version: "1.34",
      logging: [],
      privateAccess: false,
      publicAccess: true,
      publicAccessCIDRs: ["0.0.0.0/0"],
      tags: {},
      subnetIds: [],
      autoMode,
      autoModeNodePools: nodePools,
    },
    nodegroups: nodegroups.map((name) => ({
      name,
      managed: name.startsWith("system"),
      minSize: 1,
      maxSize: 3,
      desiredCapacity: 1,
      specHash: "h",
    })),
    serviceAccounts: [],
    addons: [{ name: "vpc-cni", version: "v1.19.0-eksbuild.1", configurationValues: "" }],
  };
}

const ON = { enabled: true, nodePools: ["general-purpose", "system"] };
const OFF = { enabled: false, nodePools: [] };
const summary = (changes: Change[]) => changes.map((c) => `${c.step} ${c.kind} ${c.resource} ${c.field} ${c.destructive}`);

describe("Auto Mode compared", () => {
  it("to autoMode: Auto Mode on (cluster step, in place), and the nodegroups no pool names any more removed (capacity, destructive)", () => {
    const changes = autoModeChanges(desired(ON), live(undefined), ctx);
    expect(summary(changes)).toEqual([
      "cluster inPlace cluster am autoModeConfig.enabled false",
      `capacity modeSwitch nodegroup workers-1a-${V} (nodegroup) true`,
    ]);
    expect(changes[0]!.argv).toEqual(UPDATE);
    expect(changes[0]!.key).toBe("autoscaling.mode");
    expect(changes[1]!.argv).toEqual([
      "eksctl",
      "delete",
      "nodegroup",
      "--cluster",
      "am",
      "--region",
      "us-east-1",
      "--name",
      `workers-1a-${V}`,
      "--drain",
      "--approve",
      "--wait",
    ]);
    expect(describeChange(changes[0]!)).toMatch(/^~ cluster am autoModeConfig\.enabled: false → true \(inPlace\): EKS Auto Mode on/);
    // computeConfig.enabled false says the same as no computeConfig.
    expect(summary(autoModeChanges(desired(ON), live(false), ctx))).toEqual(summary(changes));
  });

  it("a nodegroup eksbox did not make (no spec hash) is never removed", () => {
    const state = live(true, ["general-purpose", "system"]);
    state.nodegroups[1]!.specHash = undefined;
    expect(autoModeChanges(desired(ON), state, ctx)).toEqual([]);
  });

  it("on, with the same node pools and no old nodegroups: nothing (a rerun is a no-op)", () => {
    expect(autoModeChanges(desired(ON), live(true, ["system", "general-purpose"], [`system-${V}`]), ctx)).toEqual([]);
  });

  it("its node pools changed: in place, through the same eksctl command", () => {
    const changes = autoModeChanges(
      desired({ enabled: true, nodePools: ["general-purpose"] }),
      live(true, ["general-purpose", "system"], [`system-${V}`]),
      ctx,
    );
    expect(summary(changes)).toEqual(["cluster inPlace cluster am autoModeConfig.nodePools false"]);
    expect(changes[0]).toMatchObject({
      live: ["general-purpose", "system"],
      wanted: ["general-purpose"],
      argv: UPDATE,
      key: "autoscaling.autoModeNodePools",
    });
  });

  it("away from autoMode: Auto Mode off is the capacity step's, destructive; off already: nothing", () => {
    const changes = autoModeChanges(desired(OFF, true), live(true, ["general-purpose"]), ctx);
    expect(summary(changes)).toEqual(["capacity modeSwitch cluster am autoModeConfig.enabled true"]);
    expect(changes[0]!.argv).toEqual(UPDATE);
    expect(describeChange(changes[0]!)).toMatch(
      /^- cluster am autoModeConfig\.enabled: true → false \(modeSwitch, destructive\): .*terminated/,
    );
    expect(autoModeChanges(desired(OFF, true), live(false), ctx)).toEqual([]);
    expect(autoModeChanges(desired(OFF, true), live(undefined), ctx)).toEqual([]);
  });

  it("no cluster yet: nothing (eksctl create cluster sets it)", () => {
    const none: LiveState = { nodegroups: [], serviceAccounts: [], addons: [] };
    expect(autoModeChanges(desired(ON), none, ctx)).toEqual([]);
  });

  it("in autoMode the core networking addons left from before are reported only, never counted or pruned", () => {
    const changes = diff(desired(ON), live(true, ["general-purpose", "system"], [`system-${V}`]), ctx);
    expect(changes.map((c) => `${c.resource} ${c.kind} ${c.reportOnly ?? false}`)).toEqual(["addon vpc-cni extra true"]);
    expect(changes[0]!.argv).toBeUndefined();
  });
});

describe("switches eksbox refuses on a live cluster", () => {
  const ctxFor = (mode: string, cluster: { autoMode?: boolean; tags?: Record<string, string> }) =>
    ({
      env: { name: "am", config: { autoscaling: { mode } } },
      facts: { cluster: async () => ({ name: "am", status: "ACTIVE", ...cluster }) },
    }) as unknown as Parameters<typeof refuseUnsupportedSwitch>[0];

  it("to autoMode while Karpenter is installed (its discovery tag), with what to do first", async () => {
    const ctx = ctxFor("autoMode", { autoMode: false, tags: { "karpenter.sh/discovery": "am" } });
    await expect(refuseUnsupportedSwitch(ctx)).rejects.toThrow(UserError);
    await expect(refuseUnsupportedSwitch(ctx)).rejects.toThrow(/while Karpenter is installed in it is refused; nothing was changed/);
  });

  it("from Auto Mode to karpenter", async () => {
    await expect(refuseUnsupportedSwitch(ctxFor("karpenter", { autoMode: true }))).rejects.toThrow(
      /from EKS Auto Mode to autoscaling\.mode karpenter/,
    );
  });

  it("but not clusterAutoscaler to autoMode, nor autoMode back to clusterAutoscaler", async () => {
    await expect(refuseUnsupportedSwitch(ctxFor("autoMode", { autoMode: false, tags: {} }))).resolves.toBeUndefined();
    await expect(refuseUnsupportedSwitch(ctxFor("clusterAutoscaler", { autoMode: true }))).resolves.toBeUndefined();
  });
});
