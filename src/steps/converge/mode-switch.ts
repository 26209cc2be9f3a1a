// Switching autoscaling.mode on a live cluster, as a planned converge change. clusterAutoscaler →
// karpenter: the pools other than `system` become Karpenter NodePools (applied by the karpenter
// step); their old nodegroups are drained and deleted (destructive: --yes, and --allow-protected on a
// protected environment), and only once every such NodePool has Ready nodes, asked of the cluster
// through kubectl. Karpenter itself must be running: eksctl installs it only when it creates a
// cluster, so on a live one eksbox checks that the Karpenter API is served and refuses otherwise.
// The other switches (to autoMode, karpenter → clusterAutoscaler) are refused with the reason.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { AbortedError, StepFailedError, UserError } from "../../core/errors.js";
import { envPaths } from "../../core/layout.js";
import { probeOutput, runJson } from "../cloud.js";
import type { LifecycleContext } from "../lifecycle.js";
import { runDecision, skipDecision, stepId, type Step } from "../model.js";
import { convergeFor } from "./converge.js";
import { commandsOf, describeChange } from "./diff.js";
import { refuseUnconfirmed } from "./guard.js";
import { sleepUnlessAborted } from "../../core/sleep.js";

/** The label Karpenter puts on every node it launches, naming its NodePool. */
export const KARPENTER_NODEPOOL_LABEL = "karpenter.sh/nodepool";

/** What eksbox labels the NodePools and EC2NodeClasses it applies with. */
const MANAGED_BY_EKSBOX = "app.kubernetes.io/managed-by=eksbox";

const DEFAULT_READY_TIMEOUT_MS = 20 * 60_000;

function kubectl(ctx: LifecycleContext): string[] {
  return ["kubectl", "--kubeconfig", envPaths(ctx.env.name).kubeconfig];
}

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

async function kubeconfigThere(ctx: LifecycleContext): Promise<boolean> {
  return access(join(ctx.projectRoot, envPaths(ctx.env.name).kubeconfig)).then(
    () => true,
    () => false,
  );
}

/** NodePools eksbox applied to the cluster (karpenter mode once), or none when the API or the kubeconfig is not there. */
async function eksboxNodePools(ctx: LifecycleContext): Promise<string[]> {
  if (!(await kubeconfigThere(ctx))) return [];
  const probe = await ctx.toolbox.run({
    step: stepId(ctx),
    argv: [...kubectl(ctx), "get", "nodepools.karpenter.sh", "-l", MANAGED_BY_EKSBOX, "-o", "json"],
    captureStdout: true,
    output: probeOutput(ctx.events, stepId(ctx)),
  });
  if (probe.exitCode !== 0) return [];
  try {
    return ((JSON.parse(probe.stdout || "{}") as { items?: { metadata?: { name?: string } }[] }).items ?? []).map((o) =>
      String(o.metadata?.name),
    );
  } catch {
    return [];
  }
}

/**
 * Refuses, before anything is applied, the switches eksbox cannot make on a live cluster: to
 * autoMode, away from karpenter, and to karpenter where Karpenter is not installed.
 */
export async function refuseUnsupportedSwitch(ctx: LifecycleContext): Promise<void> {
  const cluster = await ctx.facts.cluster();
  if (!cluster) return;
  const mode = ctx.env.config.autoscaling.mode;
  const envFile = `config/environments/${ctx.env.name}.yaml`;
  const wasKarpenter = cluster.tags?.["karpenter.sh/discovery"] !== undefined;
  // EKS says whether Auto Mode is on (computeConfig.enabled); an answer without it says nothing.
  if (mode === "autoMode" && cluster.autoMode === false) {
    throw new UserError(
      `switching cluster ${cluster.name} to autoscaling.mode autoMode is not supported on a live cluster yet; nothing was changed`,
      {
        hint: `EKS Auto Mode is off on it, and turning it on (aws eks update-cluster-config --compute-config ...) is not a change eksbox plans yet; set autoscaling.mode back in ${envFile}, or create a new environment in autoMode`,
      },
    );
  }
  if (mode === "clusterAutoscaler" && wasKarpenter) {
    const nodePools = await eksboxNodePools(ctx);
    if (nodePools.length > 0) {
      throw new UserError(
        `switching cluster ${cluster.name} from karpenter to autoscaling.mode clusterAutoscaler is not supported on a live cluster yet; nothing was changed`,
        {
          hint: `Karpenter's NodePools ${nodePools.join(", ")} still provide its capacity; set autoscaling.mode back to karpenter in ${envFile} (eksbox can switch clusterAutoscaler → karpenter only)`,
        },
      );
    }
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
 * The switch's removals: each old nodegroup of a pool Karpenter provisions now is drained and
 * deleted, once every such pool's NodePool has a Ready node. Planned (and shown) with the NodePools
 * it waits for; resumable (a rerun finds what is left).
 */
export function capacitySwitchStep(opts: { readyTimeoutMs?: number; pollIntervalMs?: number } = {}): Step<LifecycleContext> {
  return {
    id: "capacity",
    description: "after a switch of autoscaling.mode: remove the old nodegroups once the new capacity has Ready nodes",
    needs: ["karpenter"],
    async decide(ctx) {
      // The switch's changes are the converge result's (diff.ts capacityChanges), so diff and a saved plan hold them too.
      const changes = (await convergeFor(ctx)).changes.filter((c) => c.step === "capacity");
      const old = changes.filter((c) => c.kind === "modeSwitch").map((c) => String(c.live));
      if (old.length === 0) return skipDecision(`autoscaling.mode ${ctx.env.config.autoscaling.mode}: no nodegroups to move away from`);
      const pools = changes.filter((c) => c.kind === "create").map((c) => String(c.wanted));
      const removals = changes.filter((c) => c.destructive);
      if (!ctx.planning) await refuseUnconfirmed(ctx, removals, `eksbox born --env ${ctx.env.name}`);
      return runDecision(
        `autoscaling.mode karpenter: ${old.join(", ")} give way to NodePool(s) ${pools.join(", ")}`,
        [readyQuery(ctx, pools), ...commandsOf(removals)],
        {
          changes,
          destructive: removals.map(describeChange).join("; "),
          done: `NodePool(s) ${pools.join(", ")} have Ready nodes; drained and deleted ${old.join(", ")}`,
        },
      );
    },
    async run(ctx, decision) {
      const [query, ...deletes] = decision.commands.map((c) => c.argv);
      const pools = [...new Set((decision.changes ?? []).filter((c) => c.kind === "create").map((c) => String(c.wanted)))];
      const deadline = Date.now() + (opts.readyTimeoutMs ?? ctx.converge?.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
      for (;;) {
        const waiting = poolsWithoutReadyNodes(await runJson<NodeList>(ctx.toolbox, stepId(ctx), [...query!]), pools);
        if (waiting.length === 0) break;
        if (ctx.signal.aborted)
          throw new AbortedError("stopped waiting for Karpenter's nodes: interrupted; the old nodegroups were left untouched");
        if (Date.now() > deadline) {
          throw new StepFailedError({
            step: stepId(ctx),
            argv: [...query!],
            message: `timed out: NodePool(s) ${waiting.join(", ")} have no Ready node yet; the old nodegroups were left untouched`,
            hint: `Karpenter launches nodes for pending pods: cordon the old nodes (kubectl cordon -l alpha.eksctl.io/nodegroup-name=<name>) so new pods go to Karpenter, check Karpenter's logs (kubectl logs -n karpenter deploy/karpenter), then rerun eksbox born --env ${ctx.env.name} --yes`,
          });
        }
        ctx.events.emit({ type: "log", level: "info", message: `waiting for Ready nodes of NodePool(s) ${waiting.join(", ")}` });
        await sleepUnlessAborted(opts.pollIntervalMs ?? 10_000, ctx.signal);
      }
      for (const argv of deletes) await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
      ctx.facts.forget("nodegroups", "asgs", "managed");
    },
  };
}
