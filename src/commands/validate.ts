// `eksbox validate`: renders in memory and reports every problem of every chosen environment.
import type { CommandContext } from "../core/context.js";
import { ConfigError, UserError, type ConfigIssue } from "../core/errors.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import { fleetEnvironments } from "./fleet.js";
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

export async function validateCommand(ctx: CommandContext, opts: { env?: string; all?: boolean; set?: string[] }): Promise<void> {
  const names = (await fleetEnvironments(ctx, opts)) ?? [
    await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv }),
  ];
  if (names.length === 0) throw new UserError("no environments to validate: add config/environments/<name>.yaml");

  // One after another: the work is CPU-bound, and a hundred renders in flight only add garbage.
  const results: { name: string; issues: ConfigIssue[] }[] = [];
  for (const name of names) {
    results.push({ name, issues: await validateEnvironment(ctx.projectRoot, name, opts.set) });
    // The reads and renders are synchronous: give a Ctrl-C its turn between environments.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const failed = results.filter((r) => r.issues.length > 0);
  if (ctx.output === "json") {
    ctx.stdout.write(`${JSON.stringify({ ok: failed.length === 0, environments: results })}\n`);
  } else {
    ctx.stdout.write(
      results
        .map((r) => `${r.name}: ${r.issues.length === 0 ? "ok" : `${r.issues.length} problem${r.issues.length > 1 ? "s" : ""}`}\n`)
        .join(""),
    );
  }
  if (failed.length > 0) {
    const issues = failed.flatMap((r) =>
      r.issues.map((issue) => (names.length > 1 ? { ...issue, message: `[${r.name}] ${issue.message}` } : issue)),
    );
    throw new ConfigError(issues, `${failed.map((r) => r.name).join(", ")}: ${issues.length} problem${issues.length > 1 ? "s" : ""}`);
  }
}
