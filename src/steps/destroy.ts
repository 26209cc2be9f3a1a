// destroy: Karpenter's capacity first (its NodePools, then any instance it left), nodegroups
// (drained), then the cluster, then the environment's local files.
// Confirmation and the protected-environment guard happen in the command, before any step runs.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { envPaths } from "../core/layout.js";
import { environmentStateFiles, forgetEnvironmentState } from "../core/state.js";
import type { LifecycleContext } from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type StepDecision, type Task, runPlannedCommands, stepId } from "./model.js";
import { probeOutput, runJson } from "./cloud.js";
import { preflightStep } from "./common-steps.js";
import { drainAndDeleteNodegroupArgv } from "./eksctl-argv.js";

/** The label on the NodePools and EC2NodeClasses eksbox applies. */
const MANAGED_BY_EKSBOX = "app.kubernetes.io/managed-by=eksbox";

/**
 * EC2 instances Karpenter launched for this cluster and that are not terminated: tagged with a
 * NodePool and either the cluster's kubernetes.io/cluster/<name> tag (Karpenter's own) or eksctl's
 * discovery tag. Left running, they hold the VPC's network interfaces and its deletion hangs.
 */
async function karpenterInstances(ctx: LifecycleContext): Promise<string[]> {
  const name = ctx.facts.clusterName;
  const query = (clusterFilter: string) => [
    "aws",
    "ec2",
    "describe-instances",
    "--region",
    ctx.facts.region,
    "--filters",
    "Name=tag-key,Values=karpenter.sh/nodepool",
    clusterFilter,
    "Name=instance-state-name,Values=pending,running,stopping,stopped",
    "--query",
    "Reservations[].Instances[].{id: InstanceId, tags: Tags}",
    "--output",
    "json",
  ];
  const [owned, discovered] = await Promise.all([
    runJson<TaggedInstance[]>(ctx.toolbox, stepId(ctx), query(`Name=tag-key,Values=kubernetes.io/cluster/${name}`)),
    runJson<TaggedInstance[]>(ctx.toolbox, stepId(ctx), query(`Name=tag:karpenter.sh/discovery,Values=${name}`)),
  ]);
  // Checked again here, whatever the API made of the filters: a nodegroup's instance (the cluster's
  // tag, no NodePool) must never be terminated as Karpenter's.
  const karpenters = [...(owned ?? []), ...(discovered ?? [])].filter((instance) => isKarpenterInstanceOf(instance, name));
  return [...new Set(karpenters.map((instance) => instance.id))].sort();
}

interface TaggedInstance {
  id: string;
  tags?: { Key: string; Value: string }[] | null;
}

export function isKarpenterInstanceOf(instance: TaggedInstance, clusterName: string): boolean {
  const tags = new Map((instance.tags ?? []).map((tag) => [tag.Key, tag.Value]));
  return (
    tags.has("karpenter.sh/nodepool") &&
    (tags.has(`kubernetes.io/cluster/${clusterName}`) || tags.get("karpenter.sh/discovery") === clusterName)
  );
}

function terminateArgv(ctx: LifecycleContext, ids: readonly string[]): string[][] {
  const region = ["--region", ctx.facts.region];
  return [
    ["aws", "ec2", "terminate-instances", "--instance-ids", ...ids, ...region, "--output", "json"],
    ["aws", "ec2", "wait", "instance-terminated", "--instance-ids", ...ids, ...region],
  ];
}

/**
 * Karpenter's capacity goes before the nodegroup that runs Karpenter: the NodePools are deleted
 * (Karpenter drains and terminates their nodes), then any instance it launched for the cluster and
 * did not terminate is terminated, so the VPC can be deleted with the cluster.
 */
const deleteKarpenterCapacityStep: Step<LifecycleContext> = {
  id: "delete-karpenter-capacity",
  description: "delete Karpenter's NodePools and terminate the instances Karpenter launched",
  needs: ["preflight"],
  async decide(ctx) {
    const cluster = await ctx.facts.cluster();
    const karpenterMode = ctx.env.config.autoscaling.mode === "karpenter" || cluster?.tags?.["karpenter.sh/discovery"] !== undefined;
    if (!karpenterMode) return skipDecision(`autoscaling.mode ${ctx.env.config.autoscaling.mode}: no Karpenter capacity`);
    return karpenterCapacityRemoval(ctx);
  },
  run: removeKarpenterCapacity,
};

/**
 * What removing Karpenter's capacity takes: deleting eksbox's NodePools and EC2NodeClasses, and
 * terminating the instances Karpenter launched for the cluster. destroy's first step, and the end of a
 * switch from karpenter to clusterAutoscaler (steps/converge/mode-switch.ts).
 */
export async function karpenterCapacityRemoval(ctx: LifecycleContext): Promise<StepDecision> {
  const cluster = await ctx.facts.cluster();
  const kubectl = ["kubectl", "--kubeconfig", envPaths(ctx.env.name).kubeconfig];
  const kinds = "nodepools.karpenter.sh,ec2nodeclasses.karpenter.k8s.aws";
  let nodePools: string[] = [];
  if (cluster) {
    const probe = await ctx.toolbox.run({
      step: stepId(ctx),
      argv: [...kubectl, "get", kinds, "-l", MANAGED_BY_EKSBOX, "-o", "name"],
      captureStdout: true,
      output: probeOutput(ctx.events, stepId(ctx)),
    });
    if (probe.exitCode === 0) nodePools = probe.stdout.split("\n").filter(Boolean);
  }
  const instances = await karpenterInstances(ctx);
  if (nodePools.length === 0 && instances.length === 0) return skipDecision("no NodePools of eksbox's and no instance Karpenter launched");
  const commands = [
    ...(nodePools.length > 0 ? [[...kubectl, "delete", kinds, "-l", MANAGED_BY_EKSBOX, "--ignore-not-found", "--wait=false"]] : []),
    ...(instances.length > 0 ? terminateArgv(ctx, instances) : []),
  ];
  const what = [
    nodePools.length > 0 ? `delete ${nodePools.join(", ")}` : undefined,
    instances.length > 0 ? `terminate Karpenter's instance(s) ${instances.join(", ")}` : undefined,
  ]
    .filter(Boolean)
    .join("; ");
  const done = [
    nodePools.length > 0 ? `deleted ${nodePools.join(", ")}` : undefined,
    instances.length > 0 ? `terminated Karpenter's instance(s) ${instances.join(", ")}` : undefined,
  ]
    .filter(Boolean)
    .join("; ");
  return runDecision(what, commands, { done, destructive: what });
}

/** Carries out karpenterCapacityRemoval's decision; Karpenter's instances are read again and waited for. */
export async function removeKarpenterCapacity(ctx: LifecycleContext, decision: Extract<StepDecision, { action: "run" }>): Promise<void> {
  const terminate = decision.commands.findIndex((c) => c.argv[2] === "terminate-instances");
  for (const { argv } of terminate < 0 ? decision.commands : decision.commands.slice(0, terminate))
    await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
  // Deleting the NodePools lets Karpenter start terminating its own nodes (not waited for: what it has
  // not finished, or a Karpenter that no longer runs left behind, is terminated here and waited for).
  const left = await karpenterInstances(ctx);
  for (const argv of left.length > 0 ? terminateArgv(ctx, left) : []) await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
}

const deleteNodegroupsStep: Step<LifecycleContext> = {
  id: "delete-nodegroups",
  description: "drain and delete every nodegroup",
  needs: ["delete-karpenter-capacity"],
  async decide(ctx) {
    const live = await ctx.facts.nodegroups();
    if (live.length === 0) return skipDecision((await ctx.facts.cluster()) ? "no nodegroups" : "no cluster");
    const names = live.map((ng) => ng.name).join(", ");
    return runDecision(
      `${live.length} nodegroup(s): ${names}`,
      live.map((ng) => drainAndDeleteNodegroupArgv(ctx.facts.clusterName, ctx.facts.region, ng.name)),
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
  return {
    name: "destroy",
    concurrency: 1,
    steps: [preflightStep, deleteKarpenterCapacityStep, deleteNodegroupsStep, deleteClusterStep, forgetLocalStep],
  };
}
