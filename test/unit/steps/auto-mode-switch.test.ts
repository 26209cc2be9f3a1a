// The capacity step's share of an EKS Auto Mode switch: nothing is removed (no nodegroup deleted, Auto
// Mode not turned off) before the new capacity has a Ready node. The converge result is stubbed (its
// own tests cover it); the toolbox is a recorder that answers kubectl as the cluster would.
import { describe, expect, it, vi } from "vitest";
import type { Change } from "../../../src/steps/converge/change.js";

const UPDATE = ["eksctl", "update", "auto-mode-config", "-f", "build/am/cluster.yaml"];
const workersRemoval: Change = {
  step: "capacity",
  resource: "nodegroup workers-1a-1",
  field: "(nodegroup)",
  live: "workers-1a-1",
  wanted: null,
  kind: "modeSwitch",
  destructive: true,
  key: "autoscaling.mode",
  argv: [
    "eksctl",
    "delete",
    "nodegroup",
    "--cluster",
    "am",
    "--region",
    "us-east-1",
    "--name",
    "workers-1a-1",
    "--drain",
    "--approve",
    "--wait",
  ],
};
const autoModeOff: Change = {
  step: "capacity",
  resource: "cluster am",
  field: "autoModeConfig.enabled",
  live: true,
  wanted: false,
  kind: "modeSwitch",
  destructive: true,
  key: "autoscaling.mode",
  argv: UPDATE,
};

const state = vi.hoisted(() => ({ changes: [] as unknown[], nodegroups: [] as { name: string; pool: string }[] }));
vi.mock("../../../src/steps/converge/converge.js", () => ({
  convergeFor: async () => ({ desired: { nodegroups: state.nodegroups }, changes: state.changes }),
  forgetConverge() {},
}));

const { capacitySwitchStep } = await import("../../../src/steps/converge/mode-switch.js");

type Node = { labels: Record<string, string>; ready: boolean };
const asList = (nodes: Node[]) =>
  JSON.stringify({
    items: nodes.map((n) => ({
      metadata: { labels: n.labels },
      status: { conditions: [{ type: "Ready", status: n.ready ? "True" : "False" }] },
    })),
  });

function fakeContext(mode: string, nodes: Node[]) {
  const ran: string[] = [];
  const answer = (argv: string[]) => {
    ran.push(argv.join(" "));
    return argv.includes("get") && argv.includes("nodes") ? asList(nodes) : "";
  };
  const ctx = {
    step: "capacity",
    env: { name: "am", config: { autoscaling: { mode }, protected: false } },
    facts: { clusterName: "am", region: "us-east-1", cluster: async () => ({ name: "am", tags: {} }), forget() {} },
    events: { emit() {} },
    signal: new AbortController().signal,
    converge: { yes: true },
    planning: false,
    toolbox: {
      run: async (request: { argv: string[] }) => ({ exitCode: 0, stdout: answer(request.argv), stderr: "" }),
      runOrFail: async (request: { argv: string[] }) => ({ exitCode: 0, stdout: answer(request.argv), stderr: "" }),
    },
  } as unknown as Parameters<ReturnType<typeof capacitySwitchStep>["decide"]>[0];
  return { ctx, ran };
}

const step = () => capacitySwitchStep({ readyTimeoutMs: 0, pollIntervalMs: 1 });
const auto = (ready: boolean): Node => ({
  labels: { "eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": "general-purpose" },
  ready,
});
const group = (name: string): Node => ({ labels: { "alpha.eksctl.io/nodegroup-name": name }, ready: true });

describe("a switch to autoMode (capacity step)", () => {
  it("plans the wait for Auto Mode's nodes, then the removals", async () => {
    state.changes = [workersRemoval];
    const decision = await step().decide(fakeContext("autoMode", []).ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    expect(decision.reason).toBe("autoscaling.mode autoMode: workers-1a-1 give way to EKS Auto Mode's nodes");
    expect(decision.commands.map((c) => c.argv.join(" "))).toEqual([
      "kubectl --kubeconfig build/am/kubeconfig get nodes -l eks.amazonaws.com/compute-type=auto -o json",
      workersRemoval.argv!.join(" "),
    ]);
    expect(decision.destructive).toMatch(/nodegroup workers-1a-1 \(modeSwitch, destructive\)/);
  });

  it("removes nothing while Auto Mode has no Ready node, and says to cordon the old nodes", async () => {
    state.changes = [workersRemoval];
    const { ctx, ran } = fakeContext("autoMode", [auto(false), group("workers-1a-1")]);
    const decision = await step().decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    const failure = step().run(ctx, decision);
    await expect(failure).rejects.toThrow(/EKS Auto Mode has no Ready node yet; the old nodegroups were left untouched/);
    await expect(step().run(ctx, decision)).rejects.toMatchObject({ hint: expect.stringMatching(/kubectl cordon -l alpha\.eksctl\.io/) });
    expect(ran.filter((l) => l.includes("delete"))).toEqual([]);
  });

  it("once Auto Mode has one, drains and deletes the old nodegroups", async () => {
    state.changes = [workersRemoval];
    const { ctx, ran } = fakeContext("autoMode", [auto(true)]);
    const decision = await step().decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    await step().run(ctx, decision);
    expect(ran.filter((l) => l.includes("delete"))).toEqual([workersRemoval.argv!.join(" ")]);
  });

  it("nothing to remove: skipped", async () => {
    state.changes = [];
    expect((await step().decide(fakeContext("autoMode", []).ctx)).action).toBe("skip");
  });
});

describe("a switch away from autoMode (capacity step)", () => {
  it("plans the wait for every nodegroup of the config, then Auto Mode off", async () => {
    state.changes = [autoModeOff];
    state.nodegroups = [
      { name: "system-1", pool: "system" },
      { name: "workers-1a-2", pool: "workers" },
    ];
    const decision = await step().decide(fakeContext("clusterAutoscaler", []).ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    expect(decision.commands.map((c) => c.argv.join(" "))).toEqual([
      expect.stringContaining("get nodes -l alpha.eksctl.io/nodegroup-name in (system-1,workers-1a-2)"),
      UPDATE.join(" "),
    ]);
  });

  it("leaves Auto Mode on while a nodegroup has no Ready node", async () => {
    state.changes = [autoModeOff];
    const { ctx, ran } = fakeContext("clusterAutoscaler", [group("system-1"), auto(true)]);
    const decision = await step().decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    await expect(step().run(ctx, decision)).rejects.toThrow(
      /nodegroup\(s\) workers-1a-2 have no Ready node yet; EKS Auto Mode was left on/,
    );
    expect(ran.filter((l) => l.startsWith("eksctl update"))).toEqual([]);
  });

  it("turns it off once each has one", async () => {
    state.changes = [autoModeOff];
    const { ctx, ran } = fakeContext("clusterAutoscaler", [group("system-1"), group("workers-1a-2")]);
    const decision = await step().decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    await step().run(ctx, decision);
    expect(ran.filter((l) => l.startsWith("eksctl update"))).toEqual([UPDATE.join(" ")]);
  });
});
