// destroy: nodegroups first (drained), then the cluster, then the environment's local files.
// Confirmation and the protected-environment guard happen in the command, before any step runs.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { envPaths } from "../core/layout.js";
import { environmentStateFiles, forgetEnvironmentState } from "../core/state.js";
import { clusterArgs, type LifecycleContext } from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type Task, runPlannedCommands } from "./model.js";
import { preflightStep } from "./common-steps.js";

const deleteNodegroupsStep: Step<LifecycleContext> = {
  id: "delete-nodegroups",
  description: "drain and delete every nodegroup",
  needs: ["preflight"],
  async decide(ctx) {
    const live = await ctx.facts.nodegroups();
    if (live.length === 0) return skipDecision((await ctx.facts.cluster()) ? "no nodegroups" : "no cluster");
    const names = live.map((ng) => ng.name).join(", ");
    return runDecision(
      `${live.length} nodegroup(s): ${names}`,
      live.map((ng) => ["eksctl", "delete", "nodegroup", ...clusterArgs(ctx), "--name", ng.name, "--drain", "--approve", "--wait"]),
      { done: `deleted ${names}`, destructive: `drain and delete nodegroup(s) ${names}` },
    );
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("nodegroups");
  },
};

const deleteClusterStep: Step<LifecycleContext> = {
  id: "delete-cluster",
  description: "delete the EKS cluster and what eksctl made for it",
  needs: ["delete-nodegroups"],
  async decide(ctx) {
    const cluster = await ctx.facts.cluster();
    if (!cluster) return skipDecision(`cluster ${ctx.facts.clusterName} does not exist`);
    return runDecision(
      `cluster ${cluster.name} is ${cluster.status}`,
      [["eksctl", "delete", "cluster", "--name", ctx.facts.clusterName, "--region", ctx.facts.region, "--wait"]],
      {
        done: `deleted cluster ${ctx.facts.clusterName}`,
        destructive: `delete cluster ${ctx.facts.clusterName} and what eksctl made for it`,
      },
    );
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("cluster", "nodegroups", "serviceaccounts");
  },
};

const forgetLocalStep: Step<LifecycleContext> = {
  id: "forget-local",
  description: "remove the environment's kubeconfig and recorded state",
  needs: ["delete-cluster"],
  async decide(ctx) {
    return runDecision("the cluster is gone", [], {
      files: [envPaths(ctx.env.name).kubeconfig, ...environmentStateFiles(ctx.env.name)],
      done: `removed ${envPaths(ctx.env.name).kubeconfig} and the recorded state`,
    });
  },
  async run(ctx) {
    await rm(join(ctx.projectRoot, envPaths(ctx.env.name).kubeconfig), { force: true });
    await forgetEnvironmentState(ctx.projectRoot, ctx.env.name);
  },
};

export function destroyTask(): Task<LifecycleContext> {
  return { name: "destroy", concurrency: 1, steps: [preflightStep, deleteNodegroupsStep, deleteClusterStep, forgetLocalStep] };
}
