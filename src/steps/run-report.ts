// What a run reports as its result (`--output json` prints it on stdout): its id, outcome, each
// step's decision and outcome, and the command that resumes it. Kept apart from session.ts so the
// CLI can read it without loading the runtime.
import type { StepDecision } from "./model.js";
import type { PlanEntry, StepOutcome } from "./scheduler.js";

/** One step of a run as `--output json` reports it: what it decided and how it ended. */
export interface StepReport {
  id: string;
  status: StepOutcome["status"];
  decision?: "run" | "skip";
  reason?: string;
  done?: string;
  commands?: string[][];
  elapsedMs: number;
  error?: string;
}

/** A run's result: what `--output json` prints on stdout (with the error added on failure). */
export interface RunReport {
  type: "run";
  /** Undefined when nothing needed doing and no run was started (upgrade with nothing to do). */
  runId?: string;
  task: string;
  env: string;
  outcome: "done" | "failed" | "aborted" | "unchanged";
  elapsedMs: number;
  steps: StepReport[];
  /** The command that resumes a run that did not finish. */
  resume?: string;
}

const reportsOfErrors = new WeakMap<object, RunReport>();

export function attachRunReport(error: unknown, report: RunReport): void {
  if (typeof error === "object" && error !== null) reportsOfErrors.set(error, report);
}

/** The report of the run a thrown error ended, so the CLI prints one result object for it. */
export function runReportOf(error: unknown): RunReport | undefined {
  return typeof error === "object" && error !== null ? reportsOfErrors.get(error) : undefined;
}

export function stepReport(outcome: {
  id: string;
  status: StepOutcome["status"];
  decision?: StepDecision;
  error?: unknown;
  elapsedMs: number;
}): StepReport {
  const d = outcome.decision;
  const report: StepReport = { id: outcome.id, status: outcome.status, elapsedMs: outcome.elapsedMs };
  if (d) {
    report.decision = d.action;
    report.reason = d.reason;
    if (d.action === "run") {
      if (d.done !== undefined) report.done = d.done;
      report.commands = d.commands.map((c) => [...c.argv]);
    }
  }
  if (outcome.error !== undefined) report.error = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
  return report;
}

/** The report of a task that was only planned, because nothing needed doing. */
export function unchangedReport(task: string, env: string, entries: readonly PlanEntry[]): RunReport {
  return {
    type: "run",
    task,
    env,
    outcome: "unchanged",
    elapsedMs: 0,
    steps: entries.map((e) =>
      stepReport({
        id: e.id,
        status: e.decision?.action === "skip" ? "skipped" : "not-run",
        decision: e.decision,
        error: e.error,
        elapsedMs: 0,
      }),
    ),
  };
}
