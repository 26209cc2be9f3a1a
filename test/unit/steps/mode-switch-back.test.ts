// The switch back from karpenter to clusterAutoscaler (the capacity step's run): nothing of Karpenter's
// is removed before each of the pool's new nodegroups has a Ready node; then destroy's removal runs.
// The converge result is stubbed (its own tests cover it); the toolbox is a recorder that answers
// kubectl and aws as the cluster would.
import { describe, expect, it, vi } from "vitest";
import type { Change } from "../../../src/steps/converge/change.js";

const nodepoolRemoval: Change = {
  step: "capacity",
  resource: "nodepool workers",
  field: "(nodepool)",
  live: "workers",
  wanted: null,
  kind: "modeSwitch",
  destructive: true,
  key: "autoscaling.mode",
  argv: ["kubectl", "--kubeconfig", "build/pools/kubeconfig", "delete", "nodepools.karpenter.sh,ec2nodeclasses.karpenter.k8s.aws"],
};

vi.mock("../../../src/steps/converge/converge.js", () => ({
  convergeFor: async () => ({
    desired: {
      nodegroups: [
        { name: "system-1", pool: "system" },
        { name: "workers-1a-2", pool: "workers" },
        { name: "workers-1b-2", pool: "workers" },
      ],
    },
    changes: [nodepoolRemoval],
  }),
}));

const { capacitySwitchStep } = await import("../../../src/steps/converge/mode-switch.js");

const readyNode = (group: string) => ({
  metadata: { labels: { "alpha.eksctl.io/nodegroup-name": group } },
  status: { conditions: [{ type: "Ready", status: "True" }] },
});

function fakeContext(readyGroups: string[]) {
  const ran: string[] = [];
  const answer = (argv: string[]) => {
    const line = argv.join(" ");
    ran.push(line);
    if (line.includes("get nodes")) return JSON.stringify({ items: readyGroups.map(readyNode) });
    if (line.includes(" get nodepools.karpenter.sh,ec2nodeclasses"))
      return "nodepool.karpenter.sh/workers\nec2nodeclass.karpenter.k8s.aws/workers\n";
    // The nodegroup's instance carries the cluster's tag but no NodePool: however the API applied
    // the filters, it is not Karpenter's.
    if (line.includes("describe-instances"))
      return ran.some((l) => l.includes("terminate-instances"))
        ? "[]"
        : JSON.stringify([
            {
              id: "i-karpenter",
              tags: [
                { Key: "karpenter.sh/nodepool", Value: "workers" },
                { Key: "kubernetes.io/cluster/pools", Value: "owned" },
              ],
            },
            { id: "i-nodegroup", tags: [{ Key: "kubernetes.io/cluster/pools", Value: "owned" }] },
          ]);
    return "";
  };
  const ctx = {
    step: "capacity",
    env: { name: "pools", config: { autoscaling: { mode: "clusterAutoscaler" }, protected: false } },
    facts: { clusterName: "pools", region: "us-east-1", cluster: async () => ({ name: "pools", tags: {} }), forget() {} },
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

describe("autoscaling.mode switch back to clusterAutoscaler", () => {
  it("plans the wait for the pool's nodegroups, then the removal; the controller stays", async () => {
    const { ctx } = fakeContext([]);
    const decision = await capacitySwitchStep().decide(ctx);
    expect(decision.action).toBe("run");
    if (decision.action !== "run") return;
    expect(decision.reason).toMatch(
      /NodePool\(s\) workers give way to nodegroup\(s\) workers-1a-2, workers-1b-2; the Karpenter controller stays/,
    );
    expect(decision.commands.map((c) => c.argv.join(" "))).toEqual([
      expect.stringContaining("get nodes -l alpha.eksctl.io/nodegroup-name in (workers-1a-2,workers-1b-2)"),
      nodepoolRemoval.argv!.join(" "),
    ]);
  });

  it("removes nothing while a new nodegroup has no Ready node", async () => {
    const { ctx, ran } = fakeContext(["system-1", "workers-1a-2"]);
    const step = capacitySwitchStep({ readyTimeoutMs: 0, pollIntervalMs: 1 });
    const decision = await step.decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    await expect(step.run(ctx, decision)).rejects.toThrow(
      /nodegroup\(s\) workers-1b-2 have no Ready node yet; Karpenter's NodePools were left untouched/,
    );
    expect(ran.filter((l) => / delete |terminate-instances/.test(l))).toEqual([]);
  });

  it("once each has one, deletes eksbox's NodePools and EC2NodeClasses and terminates Karpenter's leftover instances", async () => {
    const { ctx, ran } = fakeContext(["workers-1a-2", "workers-1b-2"]);
    const step = capacitySwitchStep({ readyTimeoutMs: 0, pollIntervalMs: 1 });
    const decision = await step.decide(ctx);
    if (decision.action !== "run") throw new Error("expected a run");
    await step.run(ctx, decision);
    const acts = ran.filter((l) => / delete |terminate-instances|wait instance-terminated/.test(l));
    expect(acts).toEqual([
      expect.stringMatching(
        /^kubectl .* delete nodepools\.karpenter\.sh,ec2nodeclasses\.karpenter\.k8s\.aws -l app\.kubernetes\.io\/managed-by=eksbox/,
      ),
      expect.stringContaining("terminate-instances --instance-ids i-karpenter"),
      expect.stringContaining("wait instance-terminated --instance-ids i-karpenter"),
    ]);
    expect(acts.filter((l) => l.includes("i-nodegroup"))).toEqual([]);
  });
});
