// `eksbox validate`: renders in memory and reports every problem of every chosen environment.
import type { CommandContext } from "../core/context.js";
import { ConfigError, UserError, type ConfigIssue } from "../core/errors.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import { fleetEnvironments, runFleet, type EnvironmentResult, type FleetCommand } from "./fleet.js";
import { resolvePoolVersions } from "../config/worker-version.js";
import { renderEnvironment, validateRendered } from "../render/render.js";

/** Problems of one environment, never thrown: validate reports all environments at once. */
export async function validateEnvironment(projectRoot: string, name: string, sets?: string[]): Promise<ConfigIssue[]> {
  try {
    const env = await loadEnvironment(projectRoot, name, { sets });
    // Validation must not record new pool versions: it writes nothing.
    const versions = await resolvePoolVersions(projectRoot, env, { record: false });
    const rendered = await renderEnvironment(projectRoot, env, { versions });
    return validateRendered(rendered, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    if (error instanceof UserError) return [{ message: error.message, hint: error.hint }];
    throw error;
  }
}

/** What validating one environment gives, as `result` in the fleet's JSON. */
export interface ValidateReport {
  env: string;
  issues: ConfigIssue[];
}

/**
 * `eksbox validate`: one environment prints `<env>: ok` (or its count of problems) and fails with
 * every problem. With --env a,b or --all it is a fleet command like status, plan and diff: one table
 * (ENV, RESULT, PROBLEMS), each environment's problems in full on stderr as it finishes, `--output
 * json` as `{command, exitCode, environments: [{env, exitCode, result: {env, issues}, error}]}`, and
 * the worst exit code (2 when any config has a problem).
 */
export async function validateCommand(ctx: CommandContext, opts: { env?: string; all?: boolean; set?: string[] }): Promise<void> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    // One after another: the work is CPU-bound, and a hundred renders in flight only add garbage.
    await runFleet(ctx, names, 1, validateFleet(opts.set));
    return;
  }
  const name = await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const issues = await validateEnvironment(ctx.projectRoot, name, opts.set);
  if (ctx.output === "json") {
    ctx.stdout.write(`${JSON.stringify({ ok: issues.length === 0, environments: [{ name, issues }] })}\n`);
  } else {
    ctx.stdout.write(`${name}: ${issues.length === 0 ? "ok" : problems(issues.length)}\n`);
  }
  if (issues.length > 0) throw new ConfigError(issues, `${name}: ${problems(issues.length)}`);
}

export function validateFleet(sets: string[] | undefined): FleetCommand {
  const count = (r: EnvironmentResult) => (r.result as ValidateReport | undefined)?.issues.length;
  return {
    name: "validate",
    async runOne(child, env) {
      const issues = await validateEnvironment(child.projectRoot, env, sets);
      // The reads and renders are synchronous: give a Ctrl-C its turn between environments.
      await new Promise((resolve) => setImmediate(resolve));
      const report: ValidateReport = { env, issues };
      child.stdout.write(`${JSON.stringify(report)}\n`);
      // The fleet prints the error (every problem, with file, line, key and fix) under the environment's name.
      if (issues.length > 0) throw new ConfigError(issues);
    },
    columns: ["PROBLEMS"],
    row: () => ["0"],
    failedRow: (r) => (count(r) === undefined ? undefined : [String(count(r))]),
  };
}

function problems(count: number): string {
  return `${count} problem${count > 1 ? "s" : ""}`;
}
