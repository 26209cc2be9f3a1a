import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { shellQuote } from "../core/shell-quote.js";
import { loadSessionEnvironment, runLifecycleTask, type RunReport, type SessionOptions } from "../steps/session.js";
import { confirmDestructive } from "../steps/guard.js";
import { argumentSpecs, bindArguments, type ArgumentSpec } from "../tasks/args.js";
import { destructiveCalls } from "../tasks/load.js";
import { compileUserTask } from "../tasks/compile.js";
import { loadTasksFile, TASKS_FILE } from "../tasks/load.js";

export interface UserTaskCommandOptions extends SessionOptions {
  task: string;
  /** name -> value as given on the command line (strings, string lists, booleans). */
  given: Record<string, unknown>;
  /**
   * For a task that calls roll, upgrade or born: confirmed (required without a terminal), and allowed on a
   * protected environment. born gets them as `eksbox born --yes --allow-protected` would.
   */
  yes?: boolean;
  allowProtected?: boolean;
}

/** eksbox <task> [args] [--options]: a task from config/tasks.yaml, under the env lock with a run record. */
export async function userTaskCommand(ctx: CommandContext, opts: UserTaskCommandOptions): Promise<RunReport> {
  const file = await loadTasksFile(ctx.projectRoot);
  const decl = file.tasks[opts.task];
  if (!decl) throw new UserError(`there is no task ${opts.task} in ${TASKS_FILE}`);
  const specs = argumentSpecs(decl);
  const values = bindArguments(opts.task, specs, opts.given);
  const session = await loadSessionEnvironment(ctx, opts);
  const command = `eksbox ${opts.task} ${argumentTokens(specs, opts.given)
    .map((t) => shellQuote([t]))
    .join(" ")} --env ${session.envName}`.replace(/ +/g, " ");
  const { task } = compileUserTask(file, opts.task, values, session.env, { yes: opts.yes, allowProtected: opts.allowProtected, command });
  // A task that rolls or upgrades is guarded as `eksbox roll` and `eksbox upgrade` are, before the lock is taken.
  const destructive = destructiveCalls(file, opts.task);
  const isProtected = session.env.config.protected;
  await confirmDestructive({
    env: { name: session.envName, protected: isProtected },
    actions: destructive,
    confirmWord: session.env.config.cluster.name,
    command,
    yes: opts.yes,
    allowProtected: opts.allowProtected,
    prompt: ctx.ask,
  });
  const confirmed = destructive.length > 0 || opts.yes === true;
  const resumeCommand = `${command}${confirmed ? " --yes" : ""}${isProtected && (destructive.length > 0 || opts.allowProtected) ? " --allow-protected" : ""}`;
  return runLifecycleTask({ ctx, session, task, opts, resumeCommand });
}

/** The given arguments as command-line tokens again (for the resume hint). */
export function argumentTokens(specs: readonly ArgumentSpec[], given: Record<string, unknown>): string[] {
  const tokens: string[] = [];
  for (const spec of specs) {
    const value = given[spec.name];
    if (value === undefined) continue;
    if (spec.kind === "parameter") tokens.push(...(Array.isArray(value) ? value.map(String) : [String(value)]));
    else if (spec.type === "boolean") tokens.push(value ? `--${spec.name}` : `--no-${spec.name}`);
    else for (const item of Array.isArray(value) ? value : [value]) tokens.push(`--${spec.name}`, String(item));
  }
  return tokens;
}
