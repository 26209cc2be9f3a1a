// What several commands take or do the same way: --ready-timeout, and confirming a change that
// cannot be taken back (asked on the terminal, or refused without one unless --yes).
import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";

/** --ready-timeout <minutes> as milliseconds; undefined when not given. */
export function readyTimeoutMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const minutes = Number(text);
  if (!Number.isFinite(minutes) || minutes <= 0) {
    throw new UserError(`--ready-timeout ${JSON.stringify(text)} is not a number of minutes`, { hint: "for example --ready-timeout 30" });
  }
  return minutes * 60_000;
}

export interface Confirmation {
  /** The command, for "<command> needs a confirmation". */
  command: string;
  /** Skips asking (--yes). */
  yes?: boolean;
  question: string;
  /** Whether the (trimmed) answer lets the command go on. */
  accepts: (answer: string) => boolean;
  /** What to do instead, when there is no terminal to ask on. */
  withoutTerminal: string;
  /** The error when the answer does not go on; `answer` is the trimmed answer. */
  refused: (answer: string) => string;
}

/** Asks unless --yes; without a terminal to ask on, fails with how to say yes. */
export async function confirmOrFail(ctx: CommandContext, confirmation: Confirmation): Promise<void> {
  if (confirmation.yes) return;
  if (!ctx.ask) {
    throw new UserError(`${confirmation.command} needs a confirmation and there is no terminal to ask on`, { hint: confirmation.withoutTerminal });
  }
  const answer = (await ctx.ask(confirmation.question)).trim();
  if (!confirmation.accepts(answer)) throw new UserError(confirmation.refused(answer));
}
