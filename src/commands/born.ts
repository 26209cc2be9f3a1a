import type { CommandContext } from "../core/context.js";
import { builtinTask } from "../steps/registry.js";
import { loadSessionEnvironment, runLifecycleTask, type SessionOptions } from "../steps/session.js";

/** eksbox born: create the whole cluster, or finish what an earlier run started. */
export async function bornCommand(ctx: CommandContext, opts: SessionOptions): Promise<void> {
  const session = await loadSessionEnvironment(ctx, opts);
  const { task, command } = builtinTask("born");
  await runLifecycleTask({ ctx, session, task, opts, resumeCommand: `eksbox ${command} --env ${session.envName}` });
}
