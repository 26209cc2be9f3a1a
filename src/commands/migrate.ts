import type { CommandContext } from "../core/context.js";
import { planAsText } from "../output/plan.js";
import { migratePodIdentityTask } from "../steps/migrate.js";
import { loadSessionEnvironment, planLifecycleTask, runLifecycleTask, type SessionOptions } from "../steps/session.js";

/**
 * eksbox migrate pod-identity: shows what eksctl's migrate-to-pod-identity would move, then moves it.
 * Resumable: rerun the same command.
 */
export async function migratePodIdentityCommand(ctx: CommandContext, opts: SessionOptions): Promise<void> {
  const session = await loadSessionEnvironment(ctx, opts);
  const entries = await planLifecycleTask({ ctx, session, task: migratePodIdentityTask(), opts });
  const header = {
    task: "migrate pod-identity",
    env: session.envName,
    account: session.env.config.aws.accountId,
    region: session.env.config.aws.region,
  };
  if (ctx.output === "text") ctx.stdout.write(planAsText(header, entries));
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
  if (entries.every((e) => e.id === "preflight" || e.decision?.action === "skip")) return;
  await runLifecycleTask({
    ctx,
    session,
    task: migratePodIdentityTask(),
    opts,
    resumeCommand: `eksbox migrate pod-identity --env ${session.envName}`,
  });
}
