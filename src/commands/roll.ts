import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { NODEGROUP_VERSION_PATTERN } from "../core/layout.js";
import { builtinTask } from "../steps/registry.js";
import { loadSessionEnvironment, runLifecycleTask, type SessionOptions } from "../steps/session.js";
import { readyTimeoutMs } from "./shared-options.js";

export interface RollCommandOptions extends SessionOptions {
  toVersion?: string;
  readyTimeout?: string;
}

/** eksbox nodegroup roll: blue/green replacement of the worker nodegroups. */
export async function rollCommand(ctx: CommandContext, opts: RollCommandOptions): Promise<void> {
  if (opts.toVersion !== undefined && !NODEGROUP_VERSION_PATTERN.test(opts.toVersion)) {
    throw new UserError(`--to-version ${JSON.stringify(opts.toVersion)} is not a nodegroup version`, {
      hint: "use 1-16 lower-case letters or digits, such as 20261201",
    });
  }
  const timeoutMs = readyTimeoutMs(opts.readyTimeout);
  const session = await loadSessionEnvironment(ctx, opts);
  const { task, command } = builtinTask("roll", { roll: { toVersion: opts.toVersion, readyTimeoutMs: timeoutMs } });
  await runLifecycleTask({ ctx, session, task, opts, resumeCommand: `eksbox ${command} --env ${session.envName}` });
}
