// Many environments at once, for the commands that only read: `status --all`, `plan born --env
// prod,stg`, `generate --all`. Each environment runs the one-environment command (its own toolbox)
// side by side under a cap; the results come back as one table, or one JSON document with each
// environment's result. The exit code is the worst one. Commands that change things refuse more
// than one environment: fleets change through CI, one job per environment.
import { Writable } from "node:stream";
import type { CommandContext } from "../core/context.js";
import { ExitCode, UserError } from "../core/errors.js";
import type { EksboxEvent, EventSink } from "../core/events.js";
import { assertEnvName, listEnvironments } from "../config/env-names.js";
import { errorAsJson, exitCodeFor, renderError } from "../output/errors.js";
import { Redactor } from "../runtime/redact.js";

export interface FleetSelection {
  /** --env as given: one name or a comma-separated list. */
  env?: string;
  all?: boolean;
  /** --parallel: how many environments at once (each with its own toolbox). */
  parallel?: string;
}

/** Most of an environment's time is waiting (engine, AWS), not CPU: ten at once cost little more than one on 2 cores (bench/fleet.mjs). */
export const DEFAULT_PARALLEL = 10;

/**
 * The environments a read-only command acts on, or undefined when it is the ordinary
 * one-environment case (a single --env, EKSBOX_ENV or `eksbox env set`).
 */
export async function fleetEnvironments(ctx: CommandContext, selection: FleetSelection): Promise<string[] | undefined> {
  const listed = selection.env?.includes(",")
    ? selection.env
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean)
    : undefined;
  if (selection.all && selection.env) throw new UserError("use either --all or --env, not both");
  if (!selection.all && !listed) return undefined;
  const known = await listEnvironments(ctx.projectRoot);
  if (selection.all) {
    if (known.length === 0) throw new UserError("no environments: add config/environments/<name>.yaml");
    return known;
  }
  const names = [...new Set(listed)];
  names.forEach(assertEnvName);
  const unknown = names.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UserError(`unknown environment${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}`, {
      hint: `environments: ${known.join(", ") || "none yet"}`,
    });
  }
  return names;
}

/** For the commands that change things: one environment per invocation. */
export function requireOneEnvironment(command: string, selection: { env?: string; all?: boolean }): void {
  if (selection.all || selection.env?.includes(",")) {
    throw new UserError(`${command} acts on one environment per invocation`, {
      hint: `run it once per environment (\`eksbox ${command} --env <name>\`); fleets change through CI, one job per environment (\`eksbox ci github\`)`,
    });
  }
}

export function parallelism(value: string | undefined, processEnv: NodeJS.ProcessEnv): number {
  const text = value ?? processEnv.EKSBOX_PARALLEL;
  if (text === undefined || text === "") return DEFAULT_PARALLEL;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`--parallel must be a whole number of at least 1, not ${JSON.stringify(text)}`);
  return n;
}

export interface EnvironmentResult {
  env: string;
  exitCode: number;
  /** The one-environment command's JSON result, when it printed one. */
  result?: unknown;
  /** The error as `--output json` gives it, when it failed. */
  error?: { kind: string; message: string; hint?: string };
  elapsedMs: number;
}

export interface FleetCommand {
  /** "status", "plan born", ...: for messages. */
  name: string;
  /** Runs the one-environment command; it prints its JSON result to ctx.stdout. */
  runOne(ctx: CommandContext, env: string): Promise<void>;
  /** The table's columns after ENV and RESULT, from one environment's result. */
  columns: string[];
  row(result: EnvironmentResult): string[];
  /** The columns of an environment that failed (default: the error's first line); validate: its count of problems. */
  failedRow?(result: EnvironmentResult): string[] | undefined;
  /** Lines after the table that a column cannot hold (status: each environment's support warning in full). */
  notes?(results: EnvironmentResult[]): string[];
  /** The exit code of an environment that finished without an error (diff: 2 for drift). */
  successCode?(result: unknown): number;
  /** The exit code of an environment that failed (default: the error's own; diff: 1, as Terraform's -detailed-exitcode). */
  errorCode?(error: unknown): number;
  /** The fleet's exit code from the environments' (default: the worst, i.e. the highest). */
  exitCode?(codes: number[]): number;
}

/** The default: the worst environment's code. */
export function worstExitCode(codes: number[]): number {
  return codes.reduce((worst, code) => Math.max(worst, code), 0);
}

/**
 * Terraform's -detailed-exitcode over a fleet: 0 no environment differs, 2 some differ and every
 * one was checked, 1 any environment could not be checked. An error wins over drift: 2 promises that
 * the differences are all there is, which a failed environment cannot back, and a drift alarm must not
 * be mistaken for a broken check (or the other way round).
 */
export function detailedExitCode(codes: number[]): number {
  if (codes.some((code) => code !== 0 && code !== 2)) return 1;
  return codes.includes(2) ? 2 : 0;
}

/** Runs the command for every environment, at most `parallel` at once, and reports them together; sets the process's exit code. */
export async function runFleet(
  ctx: CommandContext,
  names: string[],
  parallel: number,
  command: FleetCommand,
): Promise<{ environments: EnvironmentResult[]; exitCode: number }> {
  const redactor = Redactor.fromEnv(ctx.processEnv);
  const results: EnvironmentResult[] = new Array<EnvironmentResult>(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length && ctx.interrupter.level === 0) {
      const index = next++;
      results[index] = await runOneEnvironment(ctx, names[index]!, command, redactor);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, names.length) }, worker));
  const finished = results.filter(Boolean);
  // Environments never started (Ctrl-C) were not checked: the run was interrupted, whatever the others say.
  const worst = finished.length < names.length ? ExitCode.aborted : (command.exitCode ?? worstExitCode)(finished.map((r) => r.exitCode));
  if (ctx.output === "json") {
    ctx.stdout.write(redactor.redact(JSON.stringify({ command: command.name, exitCode: worst, environments: finished }, null, 2)) + "\n");
  } else {
    ctx.stdout.write(fleetTable(finished, command));
  }
  if (worst !== 0) process.exitCode = worst;
  return { environments: finished, exitCode: worst };
}

async function runOneEnvironment(ctx: CommandContext, env: string, command: FleetCommand, redactor: Redactor): Promise<EnvironmentResult> {
  let printed = "";
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      printed += String(chunk);
      done();
    },
  });
  const child: CommandContext = { ...ctx, output: "json", stdout, events: prefixEvents(ctx.events, env), ask: undefined };
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const parsed = () => {
    try {
      return printed.trim() ? (JSON.parse(printed) as unknown) : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    await command.runOne(child, env);
    const result = parsed();
    return { env, exitCode: command.successCode?.(result) ?? 0, result, elapsedMs: elapsed() };
  } catch (error) {
    const redact = (text: string) => redactor.redact(text);
    if (ctx.output !== "json") ctx.events.emit({ type: "log", level: "warn", message: `[${env}] ${renderError(error, redact).trimEnd()}` });
    const { kind, message, hint } = JSON.parse(errorAsJson(error, redact)) as { kind: string; message: string; hint?: string };
    return {
      env,
      exitCode: command.errorCode?.(error) ?? exitCodeFor(error),
      result: parsed(),
      error: { kind, message, hint },
      elapsedMs: elapsed(),
    };
  }
}

/** Progress of several environments on one screen: each line says which environment it is about. */
function prefixEvents(sink: EventSink, env: string): EventSink {
  return {
    emit(event: EksboxEvent) {
      switch (event.type) {
        case "log":
          return sink.emit({ ...event, message: `[${env}] ${event.message}` });
        case "step-start":
        case "step-output":
        case "step-end":
          return sink.emit({ ...event, step: `${env}/${event.step}` });
        default:
          return sink.emit(event);
      }
    },
  };
}

export function fleetTable(results: EnvironmentResult[], command: FleetCommand): string {
  const header = ["ENV", "RESULT", ...command.columns];
  const rows = results.map((r) => [
    r.env,
    r.error ? `failed (${r.exitCode})` : r.exitCode === 0 ? "ok" : `exit ${r.exitCode}`,
    ...(r.error ? (command.failedRow?.(r) ?? [r.error.message.split("\n")[0]!.slice(0, 100)]) : command.row(r)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const lines = [header, ...rows].map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd(),
  );
  lines.push(...(command.notes?.(results.filter((r) => !r.error)) ?? []));
  const failed = results.filter((r) => r.exitCode !== 0).length;
  lines.push(`${command.name}: ${results.length} environment(s), ${failed === 0 ? "all ok" : `${failed} not ok`}`);
  return lines.join("\n") + "\n";
}
