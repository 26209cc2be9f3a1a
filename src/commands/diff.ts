import type { CommandContext } from "../core/context.js";
import { describeChange } from "../steps/converge/diff.js";
import { actionable, planBorn } from "../steps/converge/plan-born.js";
import { loadSessionEnvironment, type SessionOptions } from "../steps/session.js";

export interface DiffCommandOptions extends SessionOptions {
  exitCode?: boolean;
}

/**
 * eksbox diff: only the differences between the config and the live environment (drift made by
 * hand included). With --exit-code: 0 none, 2 some (Terraform's -detailed-exitcode); errors exit 1.
 * Returns the exit code to end with.
 */
export async function diffCommand(ctx: CommandContext, opts: DiffCommandOptions): Promise<number> {
  const session = await loadSessionEnvironment(ctx, opts);
  const { entries, result } = await planBorn(ctx, session, opts, {});
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
  const changes = result?.changes ?? [];
  const counted = actionable(changes);
  if (ctx.output === "json") {
    ctx.stdout.write(JSON.stringify({ env: session.envName, changes, count: counted.length }, null, 2) + "\n");
  } else if (changes.length === 0) {
    ctx.stdout.write(`no differences: ${session.envName} is as its config says\n`);
  } else {
    for (const change of changes) ctx.stdout.write(`${change.step}: ${describeChange(change)}\n`);
    ctx.stdout.write(
      `${counted.length} difference(s)${changes.length > counted.length ? `, ${changes.length - counted.length} only reported` : ""}\n`,
    );
  }
  return opts.exitCode && counted.length > 0 ? 2 : 0;
}
