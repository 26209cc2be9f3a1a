import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { planAsJson, planAsText } from "../output/plan.js";
import type { ConvergeOptions } from "../steps/lifecycle.js";
import { PLAN_FORMAT, planBorn, writePlanFile } from "../steps/converge/plan-born.js";
import { loadSessionEnvironment, planLifecycleTask, type SessionOptions } from "../steps/session.js";
import { findTask, hasTask, taskNames } from "../tasks/find.js";
import { fleetEnvironments, parallelism, runFleet, type FleetSelection } from "./fleet.js";

export interface PlanCommandOptions extends SessionOptions, FleetSelection {
  task: string;
  toVersion?: string;
  /** For roll: --pool, repeatable. */
  pool?: string[];
  /** The task's own parameters and options, as on its command line: `plan greet a --shout`. */
  args?: string[];
  /** For born: write the plan here, for `eksbox born --plan`. */
  out?: string;
  /** For born: as born would be run (--roll, --prune, --reset-desired). */
  converge?: Pick<ConvergeOptions, "roll" | "prune" | "resetDesired">;
}

/** eksbox plan <task> [args]: what each step would do, with the exact commands; changes nothing. */
export async function planCommand(ctx: CommandContext, opts: PlanCommandOptions): Promise<void> {
  if (!(await hasTask(ctx.projectRoot, opts.task))) {
    throw new UserError(`there is no task ${JSON.stringify(opts.task)} to plan`, {
      hint: `tasks: ${(await taskNames(ctx.projectRoot)).join(", ")}`,
    });
  }
  if (opts.out !== undefined && opts.task !== "born")
    throw new UserError("--out saves a plan of born only", { hint: "eksbox plan born --env <env> --out plan.json" });
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    await runFleet(ctx, names, parallelism(opts.parallel, ctx.processEnv), {
      name: `plan ${opts.task}`,
      runOne: (child, env) => planOne(child, { ...opts, env }),
      columns: ["ACCOUNT", "WOULD RUN"],
      row(r) {
        const plan = r.result as { account: string; steps: { id: string; action?: string }[] };
        const runs = plan.steps.filter((step) => step.action === "run").map((step) => step.id);
        return [plan.account, runs.length === 0 ? "nothing" : runs.join(", ")];
      },
    });
    return;
  }
  await planOne(ctx, opts);
}

async function planOne(ctx: CommandContext, opts: PlanCommandOptions): Promise<void> {
  const session = await loadSessionEnvironment(ctx, opts);
  const header = {
    task: opts.task,
    env: session.envName,
    account: session.env.config.aws.accountId,
    region: session.env.config.aws.region,
  };
  let entries;
  if (opts.task === "born") {
    const planned = await planBorn(ctx, session, opts, opts.converge ?? {});
    entries = planned.entries;
    if (opts.out !== undefined && planned.result) {
      const path = await writePlanFile(ctx, opts.out, {
        format: PLAN_FORMAT,
        task: "born",
        env: header.env,
        account: header.account,
        region: header.region,
        createdAt: new Date().toISOString(),
        fingerprint: planned.result.fingerprint,
        options: opts.converge ?? {},
        changes: planned.result.changes,
      });
      ctx.events.emit({ type: "file-written", path });
    }
  } else {
    const { task } = (await findTask(ctx.projectRoot, opts.task, {
      env: session.env,
      args: opts.args,
      toVersion: opts.toVersion,
      pools: opts.pool,
    }))!;
    entries = await planLifecycleTask({ ctx, session, task, opts });
  }
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(planAsJson(header, entries), null, 2) + "\n" : planAsText(header, entries));
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
}
