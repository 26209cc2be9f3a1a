// The capacity step's share of an EKS Auto Mode switch on a live cluster (auto-mode.ts plans it):
//   to autoMode: once Auto Mode has a Ready node (a node labelled eks.amazonaws.com/compute-type=auto,
//     asked of the cluster through kubectl), the old nodegroups are drained and deleted;
//   away from autoMode: once each of the config's nodegroups has a Ready node (the roll's check),
//     `eksctl update auto-mode-config` turns Auto Mode off.
// Nothing is removed before the new capacity is Ready; a timeout or Ctrl-C leaves the old untouched.
import { nodegroupReadyQuery, readyNodesByNodegroup, type NodeList } from "../roll.js";
import type { LifecycleContext } from "../lifecycle.js";
import { runDecision, stepId, type StepDecision } from "../model.js";
import { AUTO_MODE_COMPUTE_LABEL, AUTO_MODE_FIELD } from "./auto-mode.js";
import { convergeFor, forgetConverge, type ConvergeResult } from "./converge.js";
import type { Change } from "./change.js";
import { commandsOf, describeChange } from "./diff.js";
import { kubectl } from "./karpenter-live.js";

/** What the capacity step waits for before it removes anything, and how it words a timeout. */
export interface ReadyWait {
  /** The names still without a Ready node, from the query's JSON. */
  waiting(json: unknown): string[];
  of: string;
  what: string;
  untouched: string;
  hint: string;
}

export type UntilReady = (ctx: LifecycleContext, query: readonly string[], wait: ReadyWait) => Promise<void>;

const AUTO_MODE = "EKS Auto Mode";

const isAutoModeOff = (c: Change) => c.resource.startsWith("cluster ") && c.field === AUTO_MODE_FIELD && c.kind === "modeSwitch";

/** Whether the capacity step's changes are an Auto Mode switch's (to autoMode in the config, or Auto Mode turned off). */
export function isAutoModeSwitch(ctx: LifecycleContext, changes: readonly Change[]): boolean {
  return ctx.env.config.autoscaling.mode === "autoMode" || changes.some(isAutoModeOff);
}

function autoNodesQuery(ctx: LifecycleContext): string[] {
  return [...kubectl(ctx), "get", "nodes", "-l", `${AUTO_MODE_COMPUTE_LABEL}=auto`, "-o", "json"];
}

function hasReadyAutoNode(list: NodeList): boolean {
  return (list.items ?? []).some(
    (node) =>
      node.metadata?.labels?.[AUTO_MODE_COMPUTE_LABEL] === "auto" &&
      !!node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );
}

export function autoModeCapacityDecision(ctx: LifecycleContext, converge: ConvergeResult, changes: Change[]): StepDecision {
  const removals = changes.filter((c) => c.destructive);
  const destructive = removals.map(describeChange).join("; ");
  if (changes.some(isAutoModeOff)) {
    const nodegroups = converge.desired.nodegroups.map((ng) => ng.name);
    return runDecision(
      `autoscaling.mode ${ctx.env.config.autoscaling.mode}: ${AUTO_MODE} gives way to nodegroup(s) ${nodegroups.join(", ")}`,
      [nodegroupReadyQuery(ctx.env.name, nodegroups.length > 0 ? nodegroups : ["-"]), ...commandsOf(removals)],
      { changes, destructive, done: `nodegroup(s) ${nodegroups.join(", ")} have Ready nodes; turned ${AUTO_MODE} off` },
    );
  }
  const old = removals.map((c) => String(c.live));
  return runDecision(
    `autoscaling.mode autoMode: ${old.join(", ")} give way to ${AUTO_MODE}'s nodes`,
    [autoNodesQuery(ctx), ...commandsOf(removals)],
    { changes, destructive, done: `${AUTO_MODE} has Ready nodes; drained and deleted ${old.join(", ")}` },
  );
}

export async function runAutoModeCapacity(
  ctx: LifecycleContext,
  decision: Extract<StepDecision, { action: "run" }>,
  untilReady: UntilReady,
): Promise<void> {
  const [query, ...commands] = decision.commands.map((c) => c.argv);
  const changes = decision.changes ?? [];
  if (changes.some(isAutoModeOff)) {
    const nodegroups = (await convergeFor(ctx)).desired.nodegroups.map((ng) => ng.name);
    await untilReady(ctx, query!, {
      waiting: (json) => {
        const counts = readyNodesByNodegroup(json as NodeList);
        return nodegroups.filter((name) => (counts.get(name) ?? 0) < 1);
      },
      of: "nodegroup(s) ",
      what: "the new nodegroups' nodes",
      untouched: `${AUTO_MODE} was left on`,
      hint: `look at the nodegroups' instances and kubelet logs, then rerun eksbox born --env ${ctx.env.name} --yes`,
    });
  } else {
    await untilReady(ctx, query!, {
      waiting: (json) => (hasReadyAutoNode(json as NodeList) ? [] : [AUTO_MODE]),
      of: "",
      what: `${AUTO_MODE}'s nodes`,
      untouched: "the old nodegroups were left untouched",
      hint: `${AUTO_MODE} launches nodes for pending pods: cordon the old nodes (kubectl cordon -l alpha.eksctl.io/nodegroup-name=<name>) so new pods go to Auto Mode, check that it is on (aws eks describe-cluster --name ${ctx.facts.clusterName} --query cluster.computeConfig), then rerun eksbox born --env ${ctx.env.name} --yes`,
    });
  }
  for (const argv of commands) await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
  ctx.facts.forget("cluster", "nodegroups", "asgs", "managed");
  forgetConverge(ctx);
}
