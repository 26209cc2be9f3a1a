// Switching autoscaling.mode on a live cluster, as a planned converge change. clusterAutoscaler →
// karpenter: the pools other than `system` become Karpenter NodePools (applied by the karpenter
// step); their old nodegroups are drained and deleted (destructive: --yes, and --allow-protected on a
// protected environment), and only once every such NodePool has Ready nodes, asked of the cluster
// through kubectl. Karpenter itself must be running: eksctl installs it only when it creates a
// cluster, so on a live one eksbox checks that the Karpenter API is served and refuses otherwise.
// karpenter → clusterAutoscaler: the nodegroups step creates the pools' nodegroups from the config;
// once each has a Ready node (the roll's check), eksbox's NodePools and EC2NodeClasses are deleted and
// Karpenter's leftover instances terminated (destroy's removal); the Karpenter controller stays.
// To and from EKS Auto Mode: auto-mode.ts and auto-mode-switch.ts. Karpenter <-> autoMode directly is
// refused with the reason.
import { AbortedError, StepFailedError, UserError } from "../../core/errors.js";
import { probeOutput, runJson } from "../cloud.js";
import { karpenterCapacityRemoval, removeKarpenterCapacity } from "../destroy.js";
import { nodegroupReadyQuery, readyNodesByNodegroup, type NodeList as NodegroupNodeList } from "../roll.js";
import type { LifecycleContext } from "../lifecycle.js";
import { runDecision, skipDecision, stepId, type Step } from "../model.js";
import { convergeFor } from "./converge.js";
import { commandsOf, describeChange } from "./diff.js";
import { refuseUnconfirmed } from "./guard.js";
import { pollUntilDone } from "../../core/sleep.js";
import { kubectl } from "./karpenter-live.js";
import { autoModeCapacityDecision, isAutoModeSwitch, runAutoModeCapacity, type UntilReady } from "./auto-mode-switch.js";

const KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery";

/** The label Karpenter puts on every node it launches, naming its NodePool. */
export const KARPENTER_NODEPOOL_LABEL = "karpenter.sh/nodepool";

const DEFAULT_READY_TIMEOUT_MS = 20 * 60_000;

function readyQuery(ctx: LifecycleContext, pools: readonly string[]): string[] {
  return [...kubectl(ctx), "get", "nodes", "-l", `${KARPENTER_NODEPOOL_LABEL} in (${pools.join(",")})`, "-o", "json"];
}

interface NodeList {
  items?: { metadata?: { labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/** The pools among `pools` without a Ready node of their NodePool. */
export function poolsWithoutReadyNodes(list: NodeList, pools: readonly string[]): string[] {
  const ready = new Set<string>();
  for (const node of list.items ?? []) {
    const pool = node.metadata?.labels?.[KARPENTER_NODEPOOL_LABEL];
    if (pool && node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")) ready.add(pool);
  }
  return pools.filter((pool) => !ready.has(pool));
}

/**
 * Refuses, before anything is applied, the switches eksbox cannot make on a live cluster: between
 * Karpenter and EKS Auto Mode directly, either way (both run Karpenter's NodePools; to karpenter where
 * Karpenter is not installed: refuseWithoutKarpenter).
 */
export async function refuseUnsupportedSwitch(ctx: LifecycleContext): Promise<void> {
  const cluster = await ctx.facts.cluster();
  if (!cluster) return;
  const mode = ctx.env.config.autoscaling.mode;
  const envFile = `config/environments/${ctx.env.name}.yaml`;
  // eksbox tags a cluster born in karpenter mode so; the tag stays with the Karpenter controller after a switch back.
  const karpenterTag = cluster.tags?.[KARPENTER_DISCOVERY_TAG];
  if (mode === "autoMode" && cluster.autoMode !== true && karpenterTag !== undefined) {
    throw new UserError(
      `switching cluster ${cluster.name} to autoscaling.mode autoMode while Karpenter is installed in it is refused; nothing was changed`,
      {
        hint: `EKS Auto Mode runs its own Karpenter, and eksctl refuses to move nodes to it while Karpenter's pods run; first set autoscaling.mode clusterAutoscaler in ${envFile} and run eksbox born --env ${ctx.env.name} --yes (the NodePools give way to nodegroups), then uninstall Karpenter (helm uninstall karpenter -n karpenter, and its stack eksctl-${cluster.name}-karpenter) and remove the cluster's ${KARPENTER_DISCOVERY_TAG} tag (aws eks untag-resource), then switch to autoMode`,
      },
    );
  }
  if (mode === "karpenter" && cluster.autoMode === true) {
    throw new UserError(
      `switching cluster ${cluster.name} from EKS Auto Mode to autoscaling.mode karpenter is refused; nothing was changed`,
      {
        hint: `eksctl installs Karpenter only when it creates a cluster, and Auto Mode runs Karpenter's NodePools itself: set autoscaling.mode clusterAutoscaler in ${envFile} (eksbox born turns Auto Mode off once the nodegroups are Ready), or keep autoMode`,
      },
    );
  }
}

/**
 * Before NodePools are applied to a live cluster that was not born in karpenter mode: the Karpenter
 * API must be served (eksctl installs Karpenter at cluster creation only).
 */
export async function refuseWithoutKarpenter(ctx: LifecycleContext): Promise<void> {
  const probe = await ctx.toolbox.run({
    step: stepId(ctx),
    argv: [...kubectl(ctx), "api-resources", "--api-group=karpenter.sh", "-o", "name"],
    captureStdout: true,
    output: probeOutput(ctx.events, stepId(ctx)),
  });
  if (probe.exitCode === 0 && /\bnodepools\b/.test(probe.stdout)) return;
  throw new UserError(
    `Karpenter is not installed in cluster ${ctx.facts.clusterName} (the cluster does not serve karpenter.sh NodePools); nothing was changed`,
    {
      hint: `eksctl installs Karpenter only when it creates a cluster (its karpenter: block), not on a live one: install Karpenter as Karpenter's "Migrating from Cluster Autoscaler" guide says (its controller, IAM roles and the karpenter.sh/discovery tags), then rerun eksbox born --env ${ctx.env.name}; or set autoscaling.mode back to clusterAutoscaler`,
    },
  );
}

/**
 * The switch's removals. To karpenter: each old nodegroup of a pool Karpenter provisions now is
 * drained and deleted, once every such pool's NodePool has a Ready node. Back to clusterAutoscaler:
 * eksbox's NodePools and EC2NodeClasses are deleted and Karpenter's leftover instances terminated,
 * once the pools' nodegroups (made by the nodegroups step) have a Ready node each. Planned (and shown)
 * with what it waits for; resumable (a rerun finds what is left).
 */
export function capacitySwitchStep(opts: { readyTimeoutMs?: number; pollIntervalMs?: number } = {}): Step<LifecycleContext> {
  const readyTimeoutMs = (ctx: LifecycleContext) => opts.readyTimeoutMs ?? ctx.converge?.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;

  /** Polls until `wait.waiting` answers none; the removals wait for it. */
  const untilReady: UntilReady = (ctx, query, wait) =>
    pollUntilDone<string[]>({
      signal: ctx.signal,
      events: ctx.events,
      timeoutMs: readyTimeoutMs(ctx),
      intervalMs: opts.pollIntervalMs ?? 10_000,
      look: async () => {
        const left = wait.waiting(await runJson<unknown>(ctx.toolbox, stepId(ctx), [...query]));
        return left.length === 0 ? undefined : left;
      },
      waiting: (left) => `waiting for Ready nodes of ${wait.of}${left.join(", ")}`,
      aborted: () => new AbortedError(`stopped waiting for ${wait.what}: interrupted; ${wait.untouched}`),
      timedOut: (left) =>
        new StepFailedError({
          step: stepId(ctx),
          argv: [...query],
          message: `timed out: ${wait.of}${left.join(", ")} ${left.length === 1 && !wait.of ? "has" : "have"} no Ready node yet; ${wait.untouched}`,
          hint: wait.hint,
        }),
    });

  return {
    id: "capacity",
    description: "after a switch of autoscaling.mode: remove the old capacity once the new capacity has Ready nodes",
    needs: ["karpenter"],
    async decide(ctx) {
      // The switch's changes are the converge result's (diff.ts capacityChanges), so diff and a saved plan hold them too.
      const converge = await convergeFor(ctx);
      const changes = converge.changes.filter((c) => c.step === "capacity");
      const removals = changes.filter((c) => c.destructive);
      const oldNodegroups = removals.filter((c) => c.resource.startsWith("nodegroup ")).map((c) => String(c.live));
      const oldNodePools = removals.filter((c) => c.resource.startsWith("nodepool ")).map((c) => String(c.live));
      if (removals.length === 0) return skipDecision(`autoscaling.mode ${ctx.env.config.autoscaling.mode}: no capacity to move away from`);
      if (!ctx.planning) await refuseUnconfirmed(ctx, removals, `eksbox born --env ${ctx.env.name}`);
      if (isAutoModeSwitch(ctx, changes)) return autoModeCapacityDecision(ctx, converge, changes);
      if (oldNodePools.length > 0) {
        const nodegroups = newNodegroupsOf(converge.desired.nodegroups, oldNodePools);
        const query = nodegroupReadyQuery(ctx.env.name, nodegroups.length > 0 ? nodegroups : ["-"]);
        return runDecision(
          `autoscaling.mode clusterAutoscaler: NodePool(s) ${oldNodePools.join(", ")} give way to nodegroup(s) ${nodegroups.join(", ") || "(none)"}; the Karpenter controller stays`,
          [query, ...commandsOf(removals)],
          {
            changes,
            destructive: removals.map(describeChange).join("; "),
            done: `nodegroup(s) ${nodegroups.join(", ") || "(none)"} have Ready nodes; deleted NodePool(s) ${oldNodePools.join(", ")} and their EC2NodeClasses`,
          },
        );
      }
      const pools = changes.filter((c) => c.kind === "create").map((c) => String(c.wanted));
      return runDecision(
        `autoscaling.mode karpenter: ${oldNodegroups.join(", ")} give way to NodePool(s) ${pools.join(", ")}`,
        [readyQuery(ctx, pools), ...commandsOf(removals)],
        {
          changes,
          destructive: removals.map(describeChange).join("; "),
          done: `NodePool(s) ${pools.join(", ")} have Ready nodes; drained and deleted ${oldNodegroups.join(", ")}`,
        },
      );
    },
    async run(ctx, decision) {
      const [query, ...deletes] = decision.commands.map((c) => c.argv);
      const changes = decision.changes ?? [];
      if (isAutoModeSwitch(ctx, changes)) return runAutoModeCapacity(ctx, decision, untilReady);
      const oldNodePools = changes.filter((c) => c.kind === "modeSwitch" && c.resource.startsWith("nodepool ")).map((c) => String(c.live));
      if (oldNodePools.length > 0) {
        const nodegroups = newNodegroupsOf((await convergeFor(ctx)).desired.nodegroups, oldNodePools);
        await untilReady(ctx, query!, {
          waiting: (json) => {
            const counts = readyNodesByNodegroup(json as NodegroupNodeList);
            return nodegroups.filter((name) => (counts.get(name) ?? 0) < 1);
          },
          of: "nodegroup(s) ",
          what: "the new nodegroups' nodes",
          untouched: "Karpenter's NodePools were left untouched",
          hint: `look at the nodegroups' instances and kubelet logs, then rerun eksbox born --env ${ctx.env.name} --yes`,
        });
        // destroy's removal, read again now: the NodePools and EC2NodeClasses, then every instance Karpenter left.
        const removal = await karpenterCapacityRemoval(ctx);
        if (removal.action === "run") await removeKarpenterCapacity(ctx, removal);
        return;
      }
      const pools = [...new Set(changes.filter((c) => c.kind === "create").map((c) => String(c.wanted)))];
      await untilReady(ctx, query!, {
        waiting: (json) => poolsWithoutReadyNodes(json as NodeList, pools),
        of: "NodePool(s) ",
        what: "Karpenter's nodes",
        untouched: "the old nodegroups were left untouched",
        hint: `Karpenter launches nodes for pending pods: cordon the old nodes (kubectl cordon -l alpha.eksctl.io/nodegroup-name=<name>) so new pods go to Karpenter, check Karpenter's logs (kubectl logs -n karpenter deploy/karpenter), then rerun eksbox born --env ${ctx.env.name} --yes`,
      });
      for (const argv of deletes) await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
      ctx.facts.forget("nodegroups", "asgs", "managed");
    },
  };
}

/** The config's nodegroups of the pools whose NodePools a switch back to clusterAutoscaler removes. */
function newNodegroupsOf(desired: readonly { name: string; pool?: string }[], nodePools: readonly string[]): string[] {
  const pools = new Set(nodePools);
  return desired.filter((ng) => ng.pool !== undefined && pools.has(ng.pool)).map((ng) => ng.name);
}
