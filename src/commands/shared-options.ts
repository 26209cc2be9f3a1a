// What several commands take the same way: --ready-timeout. Confirming a destructive change is
// steps/guard.ts's confirmDestructive.
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
