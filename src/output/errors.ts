// How each kind of error reaches the user, and the exit code it ends the process with.
import { ExitCode, InternalError, StepFailedError, isEksboxError } from "../core/errors.js";
import { shellQuote } from "../core/shell-quote.js";

export function exitCodeFor(error: unknown): number {
  return isEksboxError(error) ? error.exitCode : ExitCode.internal;
}

export function renderError(error: unknown, redact: (text: string) => string = (t) => t): string {
  const lines: string[] = [];
  if (error instanceof StepFailedError) {
    lines.push(`error: ${error.message}`);
    if (error.argv.length > 0) lines.push(`  command: ${shellQuote(error.argv)}`);
    if (error.outputTail.length > 0) {
      lines.push("  last output:");
      for (const line of error.outputTail) lines.push(`    ${line}`);
    }
    if (error.hint) lines.push(`  ${error.hint}`);
  } else if (isEksboxError(error) && !(error instanceof InternalError)) {
    lines.push(`error: ${error.message}`);
    if (error.hint) lines.push(`  ${error.hint}`);
  } else {
    const stack = error instanceof Error ? (error.stack ?? error.message) : String(error);
    lines.push(`internal error (a bug in eksbox): ${stack}`);
    lines.push("  please report it with the command you ran and the run record under .eksbox/runs/");
  }
  return redact(lines.join("\n")) + "\n";
}

/** What an error says, as JSON fields (not yet redacted). */
export function errorFields(error: unknown): Record<string, unknown> {
  const base = isEksboxError(error)
    ? { kind: error.kind, message: error.message, hint: error.hint }
    : { kind: "internal", message: error instanceof Error ? error.message : String(error) };
  const extra =
    error instanceof StepFailedError
      ? { step: error.step, argv: error.argv, exitCode: error.commandExitCode, outputTail: error.outputTail }
      : {};
  return { ...base, ...extra };
}

export function errorAsJson(error: unknown, redact: (text: string) => string = (t) => t): string {
  return redact(JSON.stringify({ type: "error", exitCode: exitCodeFor(error), ...errorFields(error) })) + "\n";
}
