// The commands that show their plan before they change anything (upgrade, migrate): plan, print it
// on a terminal, stop on a failed decision, and say whether anything would change.
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
  const header = {
    task: taskName,
    env: session.envName,
    account: session.env.config.aws.accountId,
    region: session.env.config.aws.region,
  };
  if (ctx.output === "text") ctx.stdout.write(planAsText(header, entries));
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
  // preflight always "runs" (it only reads); anything else that would run changes the cluster or the state.
  return { entries, changes: !entries.every((e) => e.id === "preflight" || e.decision?.action === "skip") };
}
