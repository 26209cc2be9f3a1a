// A run's result as the one JSON object `--output json` prints on stdout: on success the report, on
// failure the same report with the error (kind, message, hint, and for a failed command its step,
// argv, exit code and last output lines) and the exit code.
import { exitCodeFor } from "./errors.js";
import { errorFields } from "./errors.js";
import type { RunReport } from "../steps/run-report.js";

export function isRunReport(value: unknown): value is RunReport {
  return typeof value === "object" && value !== null && (value as { type?: unknown }).type === "run";
}

export function runReportAsJson(report: RunReport, error?: unknown, redact: (text: string) => string = (t) => t): string {
  const failure = error === undefined ? {} : { exitCode: exitCodeFor(error), error: errorFields(error) };
  return redact(JSON.stringify({ ...report, ...failure })) + "\n";
}
