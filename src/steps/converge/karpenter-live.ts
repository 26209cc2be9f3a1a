// What the cluster says about the Karpenter objects eksbox applied: read by converge (a switch back
// from karpenter is part of its result) and by the mode switch's refusals.
import { access } from "node:fs/promises";
import { join } from "node:path";
import { envPaths } from "../../core/layout.js";
import { probeOutput } from "../cloud.js";
import type { LifecycleContext } from "../lifecycle.js";
import { stepId } from "../model.js";

/** What eksbox labels the NodePools and EC2NodeClasses it applies with. */
export const MANAGED_BY_EKSBOX = "app.kubernetes.io/managed-by=eksbox";

export function kubectl(ctx: LifecycleContext): string[] {
  return ["kubectl", "--kubeconfig", envPaths(ctx.env.name).kubeconfig];
}

async function kubeconfigThere(ctx: LifecycleContext): Promise<boolean> {
  return access(join(ctx.projectRoot, envPaths(ctx.env.name).kubeconfig)).then(
    () => true,
    () => false,
  );
}

/** NodePools eksbox applied to the cluster (karpenter mode once), or none when the API or the kubeconfig is not there. */
export async function eksboxNodePools(ctx: LifecycleContext): Promise<string[]> {
  if (!(await kubeconfigThere(ctx))) return [];
  const probe = await ctx.toolbox.run({
    step: stepId(ctx),
    argv: [...kubectl(ctx), "get", "nodepools.karpenter.sh", "-l", MANAGED_BY_EKSBOX, "-o", "json"],
    captureStdout: true,
    output: probeOutput(ctx.events, stepId(ctx)),
  });
  if (probe.exitCode !== 0) return [];
  try {
    return ((JSON.parse(probe.stdout || "{}") as { items?: { metadata?: { name?: string } }[] }).items ?? [])
      .map((o) => String(o.metadata?.name))
      .sort();
  } catch {
    return [];
  }
}
