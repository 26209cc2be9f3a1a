// The mode switch's pure parts: which NodePools have Ready nodes, and how its removals read in a plan.
import { describe, expect, it } from "vitest";
import { describeChange } from "../../../src/steps/converge/diff.js";
import { KARPENTER_NODEPOOL_LABEL, poolsWithoutReadyNodes, refuseWithoutKarpenter } from "../../../src/steps/converge/mode-switch.js";
import { UserError } from "../../../src/core/errors.js";

const node = (pool: string | undefined, ready: string) => ({
  metadata: { labels: (pool ? { [KARPENTER_NODEPOOL_LABEL]: pool } : {}) as Record<string, string> },
  status: {
    conditions: [
      { type: "MemoryPressure", status: "False" },
      { type: "Ready", status: ready },
    ],
  },
});

describe("autoscaling.mode switch", () => {
  it("a NodePool counts as ready only with a Ready node labelled with its name", () => {
    const list = { items: [node("workers", "True"), node("gpu", "False"), node(undefined, "True")] };
    expect(poolsWithoutReadyNodes(list, ["workers", "gpu", "spot"])).toEqual(["gpu", "spot"]);
    expect(poolsWithoutReadyNodes({}, ["workers"])).toEqual(["workers"]);
  });

  it("a removal reads as destructive, with why and when", () => {
    const line = describeChange({
      step: "capacity",
      resource: "nodegroup workers-1a-20261126",
      field: "(nodegroup)",
      live: "workers-1a-20261126",
      wanted: null,
      kind: "modeSwitch",
      destructive: true,
      note: "pool workers is Karpenter's now: drained and deleted once NodePool workers has Ready nodes",
    });
    expect(line).toBe(
      "- nodegroup workers-1a-20261126 (modeSwitch, destructive): pool workers is Karpenter's now: drained and deleted once NodePool workers has Ready nodes",
    );
  });
});

describe("a live cluster switched to karpenter", () => {
  const ctxAnswering = (stdout: string, exitCode = 0) => {
    const asked: string[][] = [];
    const ctx = {
      step: "karpenter",
      env: { name: "pools", config: { autoscaling: { mode: "karpenter" } } },
      facts: { clusterName: "pools" },
      events: { emit() {} },
      toolbox: {
        run: async (request: { argv: string[] }) => {
          asked.push(request.argv);
          return { exitCode, stdout, stderr: "" };
        },
      },
    } as unknown as Parameters<typeof refuseWithoutKarpenter>[0];
    return { ctx, asked };
  };

  it("is refused, naming why and what to do, when the cluster does not serve Karpenter's NodePools", async () => {
    const { ctx, asked } = ctxAnswering("");
    await expect(refuseWithoutKarpenter(ctx)).rejects.toThrow(UserError);
    await expect(refuseWithoutKarpenter(ctx)).rejects.toThrow(/Karpenter is not installed in cluster pools.*nothing was changed/);
    expect(asked[0]).toEqual([
      "kubectl",
      "--kubeconfig",
      "build/pools/kubeconfig",
      "api-resources",
      "--api-group=karpenter.sh",
      "-o",
      "name",
    ]);
    await expect(refuseWithoutKarpenter(ctxAnswering("", 1).ctx)).rejects.toThrow(UserError);
  });

  it("goes on when it does", async () => {
    const { ctx } = ctxAnswering("nodeclaims.karpenter.sh\nnodepools.karpenter.sh\n");
    await expect(refuseWithoutKarpenter(ctx)).resolves.toBeUndefined();
  });
});
