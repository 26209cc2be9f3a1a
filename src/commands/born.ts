import type { CommandContext } from "../core/context.js";
import { builtinTask } from "../steps/registry.js";
import { loadSessionEnvironment, runLifecycleTask, type RunReport, type SessionOptions } from "../steps/session.js";

/** eksbox born: create the whole cluster, or finish what an earlier run started. */
export async function bornCommand(ctx: CommandContext, opts: SessionOptions): Promise<RunReport> {
  const session = await loadSessionEnvironment(ctx, opts);
  const { task, command } = builtinTask("born");
  return runLifecycleTask({ ctx, session, task, opts, resumeCommand: `eksbox ${command} --env ${session.envName}` });
}
