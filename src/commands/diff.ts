import type { CommandContext } from "../core/context.js";
import type { Change } from "../steps/converge/change.js";
import { describeChange } from "../steps/converge/diff.js";
import { actionable, planBorn } from "../steps/converge/plan-born.js";
import { loadSessionEnvironment, type SessionOptions } from "../steps/session.js";
import { detailedExitCode, fleetEnvironments, parallelism, runFleet, type FleetCommand, type FleetSelection } from "./fleet.js";

export interface DiffCommandOptions extends SessionOptions, FleetSelection {
  exitCode?: boolean;
}

/** What `diff --output json` prints for one environment. */
export interface DiffReport {
  env: string;
  changes: Change[];
  /** The changes born would make (those only reported, such as a desired capacity the autoscaler owns, not counted). */
  count: number;
}

/**
 * eksbox diff: only the differences between the config and the live environment (drift made by
 * hand included). With --exit-code: 0 none, 2 some (Terraform's -detailed-exitcode); errors exit 1.
 * With --env a,b or --all: every environment side by side, one table, and the fleet's code by the
 * same rule (fleet.ts detailedExitCode: an environment that could not be checked makes it 1).
 * Returns the exit code to end with.
 */
export async function diffCommand(ctx: CommandContext, opts: DiffCommandOptions): Promise<number> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    const fleet = await runFleet(
      ctx,
      names,
      parallelism(opts.parallel, ctx.processEnv),
      diffFleet((child, env) => diffOne(child, { ...opts, env }).then(() => undefined), opts.exitCode === true),
    );
    return fleet.exitCode;
  }
  return diffOne(ctx, opts);
}

export function diffFleet(runOne: FleetCommand["runOne"], exitCode: boolean): FleetCommand {
  return {
    name: "diff",
    runOne,
    columns: ["DIFFERENCES"],
    row(r) {
      const report = r.result as DiffReport;
      if (report.changes.length === 0) return ["none"];
      const shown = report.changes.slice(0, 3).map((c) => `${c.step}: ${describeChange(c)}`);
      const more = report.changes.length > shown.length ? `; and ${report.changes.length - shown.length} more` : "";
      return [`${report.count}: ${shown.join("; ")}${more}`];
    },
    successCode: (result) => (exitCode && (result as DiffReport | undefined)?.count ? 2 : 0),
    // As one environment's diff: any error is 1, never 2 (a bad config's UserError would otherwise read as drift).
    errorCode: () => 1,
    exitCode: detailedExitCode,
  };
}

async function diffOne(ctx: CommandContext, opts: DiffCommandOptions): Promise<number> {
  const session = await loadSessionEnvironment(ctx, opts);
  const { entries, result } = await planBorn(ctx, session, opts, {});
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
  const changes = result?.changes ?? [];
  const counted = actionable(changes);
  if (ctx.output === "json") {
    const report: DiffReport = { env: session.envName, changes, count: counted.length };
    ctx.stdout.write(JSON.stringify(report, null, 2) + "\n");
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
