import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { NODEGROUP_VERSION_PATTERN } from "../core/layout.js";
import { builtinTask } from "../steps/registry.js";
import { confirmDestructive, destructiveActions } from "../steps/guard.js";
import { loadSessionEnvironment, planLifecycleTask, runLifecycleTask, type RunReport, type SessionOptions } from "../steps/session.js";
import { readyTimeoutMs } from "./shared-options.js";

export interface RollCommandOptions extends SessionOptions {
  toVersion?: string;
  readyTimeout?: string;
  yes?: boolean;
  allowProtected?: boolean;
  /** --pool, repeatable: roll only these pools. */
  pool?: string[];
}

/** eksbox nodegroup roll: blue/green replacement of the worker nodegroups. */
export async function rollCommand(ctx: CommandContext, opts: RollCommandOptions): Promise<RunReport> {
  if (opts.toVersion !== undefined && !NODEGROUP_VERSION_PATTERN.test(opts.toVersion)) {
    throw new UserError(`--to-version ${JSON.stringify(opts.toVersion)} is not a nodegroup version`, {
      hint: "use 1-16 lower-case letters or digits, such as 20261201",
    });
  }
  const timeoutMs = readyTimeoutMs(opts.readyTimeout);
  const session = await loadSessionEnvironment(ctx, opts);
  const build = () => builtinTask("roll", { roll: { toVersion: opts.toVersion, readyTimeoutMs: timeoutMs, pools: opts.pool } });
  const isProtected = session.env.config.protected;
  const base = `eksbox ${build().command} --env ${session.envName}${opts.toVersion ? ` --to-version ${opts.toVersion}` : ""}${(opts.pool ?? []).map((pool) => ` --pool ${pool}`).join("")}`;
  // Planned first, so the question names the nodegroups that would be drained and deleted. With
  // --yes (and --allow-protected where needed) the guard lets any plan through: no plan is made.
  if (!(opts.yes && (!isProtected || opts.allowProtected))) {
    const planned = build();
    const entries = await planLifecycleTask({ ctx, session, task: planned.task, opts });
    const failed = entries.find((e) => e.error !== undefined);
    if (failed) throw failed.error;
    await confirmDestructive({
      env: { name: session.envName, protected: isProtected },
      actions: destructiveActions(entries),
      confirmWord: session.env.config.cluster.name,
      command: base,
      yes: opts.yes,
      allowProtected: opts.allowProtected,
      prompt: ctx.ask,
    });
  }
  const { task } = build();
  const resume = `${base} --yes${isProtected ? " --allow-protected" : ""}`;
  return runLifecycleTask({ ctx, session, task, opts, resumeCommand: resume });
}
