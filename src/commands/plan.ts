import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { planAsJson, planAsText } from "../output/plan.js";
import { loadSessionEnvironment, planLifecycleTask, type SessionOptions } from "../steps/session.js";
import { findTask, hasTask, taskNames } from "../tasks/find.js";
import { fleetEnvironments, parallelism, runFleet, type FleetSelection } from "./fleet.js";

export interface PlanCommandOptions extends SessionOptions, FleetSelection {
  task: string;
  toVersion?: string;
  /** The task's own parameters and options, as on its command line: `plan greet a --shout`. */
  args?: string[];
}

/** eksbox plan <task> [args]: what each step would do, with the exact commands; changes nothing. */
export async function planCommand(ctx: CommandContext, opts: PlanCommandOptions): Promise<void> {
  if (!(await hasTask(ctx.projectRoot, opts.task))) {
    throw new UserError(`there is no task ${JSON.stringify(opts.task)} to plan`, { hint: `tasks: ${(await taskNames(ctx.projectRoot)).join(", ")}` });
  }
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
  const { task } = (await findTask(ctx.projectRoot, opts.task, { env: session.env, args: opts.args, toVersion: opts.toVersion }))!;
  const entries = await planLifecycleTask({ ctx, session, task, opts });
  const header = { task: opts.task, env: session.envName, account: session.env.config.aws.accountId, region: session.env.config.aws.region };
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(planAsJson(header, entries), null, 2) + "\n" : planAsText(header, entries));
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
}
