import type { CommandContext } from "../core/context.js";
import { migratePodIdentityTask } from "../steps/migrate.js";
import { loadSessionEnvironment, runLifecycleTask, unchangedReport, type RunReport, type SessionOptions } from "../steps/session.js";
import { planFirst } from "./plan-first.js";

/**
 * eksbox migrate pod-identity: shows what eksctl's migrate-to-pod-identity would move, then moves it.
 * Resumable: rerun the same command.
 */
export async function migratePodIdentityCommand(ctx: CommandContext, opts: SessionOptions): Promise<RunReport> {
  const session = await loadSessionEnvironment(ctx, opts);
  const { entries, changes } = await planFirst(ctx, session, migratePodIdentityTask(), opts, "migrate pod-identity");
  if (!changes) return unchangedReport("migrate pod-identity", session.envName, entries);
  return runLifecycleTask({
    ctx,
    session,
    task: migratePodIdentityTask(),
    opts,
    resumeCommand: `eksbox migrate pod-identity --env ${session.envName}`,
  });
}
