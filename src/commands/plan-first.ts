// The commands that show their plan before they change anything (upgrade, migrate, and born when it
// has something destructive to confirm): plan, print it on a terminal, stop on a failed decision,
// and say whether anything would change.
import type { CommandContext } from "../core/context.js";
import { planAsText } from "../output/plan.js";
import type { Task } from "../steps/model.js";
import type { LifecycleContext } from "../steps/lifecycle.js";
import type { PlanEntry } from "../steps/scheduler.js";
import { planLifecycleTask, type SessionEnvironment, type SessionOptions } from "../steps/session.js";

export async function planFirst<C extends LifecycleContext>(
  ctx: CommandContext,
  session: SessionEnvironment,
  task: Task<C, LifecycleContext>,
  opts: SessionOptions,
  taskName: string,
): Promise<{ entries: PlanEntry[]; changes: boolean }> {
  const entries = await planLifecycleTask({ ctx, session, task, opts });
  showPlan(ctx, session, taskName, entries);
  stopOnFailedDecision(entries);
  // preflight always "runs" (it only reads); anything else that would run changes the cluster or the state.
  return { entries, changes: !entries.every((e) => e.id === "preflight" || e.decision?.action === "skip") };
}

/** The plan on stdout, for the user to read before being asked (text output only). */
export function showPlan(ctx: CommandContext, session: SessionEnvironment, taskName: string, entries: readonly PlanEntry[]): void {
  const header = {
    task: taskName,
    env: session.envName,
    account: session.env.config.aws.accountId,
    region: session.env.config.aws.region,
  };
  if (ctx.output === "text") ctx.stdout.write(planAsText(header, entries));
}

/** A plan whose decision failed (a refused change, a cloud that cannot be read) stops the command with that error. */
export function stopOnFailedDecision(entries: readonly PlanEntry[]): void {
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
}
