import { isEksboxError } from "../core/errors.js";
import { describeChange } from "../steps/converge/diff.js";
import type { PlanEntry } from "../steps/scheduler.js";
import { shellQuote } from "../core/shell-quote.js";

export interface PlanHeader {
  task: string;
  env: string;
  account: string;
  region: string;
}

export function planAsJson(header: PlanHeader, entries: readonly PlanEntry[]): unknown {
  return {
    ...header,
    steps: entries.map((e) => ({
      id: e.id,
      description: e.description,
      needs: e.needs,
      action: e.error !== undefined ? "error" : e.decision?.action,
      reason: e.error !== undefined ? errorText(e.error) : e.decision?.reason,
      commands: e.decision?.action === "run" ? e.decision.commands.map((c) => c.argv) : [],
      files: e.decision?.action === "run" ? (e.decision.files ?? []) : [],
      changes: e.decision?.changes ?? [],
    })),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message + (isEksboxError(error) && error.hint ? ` (${error.hint})` : "") : String(error);
}

export function planAsText(header: PlanHeader, entries: readonly PlanEntry[]): string {
  const width = Math.max(...entries.map((e) => e.id.length));
  const lines = [`plan: ${header.task} --env ${header.env} (account ${header.account}, ${header.region}); nothing has been changed`];
  entries.forEach((entry, index) => {
    const action = entry.error !== undefined ? "ERROR" : entry.decision?.action === "skip" ? "skip" : "run";
    const reason = entry.error !== undefined ? errorText(entry.error) : (entry.decision?.reason ?? "");
    lines.push(`${String(index + 1).padStart(2)}. ${entry.id.padEnd(width)}  ${action.padEnd(5)} ${reason}`);
    for (const change of entry.decision?.changes ?? []) lines.push(`      ${describeChange(change)}`);
    if (entry.decision?.action === "run") {
      for (const command of entry.decision.commands) lines.push(`      $ ${shellQuote(command.argv)}`);
      for (const file of entry.decision.files ?? []) lines.push(`      file ${file}`);
    }
  });
  const runs = entries.filter((e) => e.decision?.action === "run").length;
  const errors = entries.filter((e) => e.error !== undefined).length;
  lines.push(
    `${runs} step(s) would run, ${entries.length - runs - errors} would be skipped${errors ? `, ${errors} could not be decided` : ""}.`,
  );
  return lines.join("\n") + "\n";
}
