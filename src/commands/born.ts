import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import type { ConvergeOptions, LifecycleContext } from "../steps/lifecycle.js";
import type { Task } from "../steps/model.js";
import type { PlanEntry } from "../steps/scheduler.js";
import type { Change } from "../steps/converge/change.js";
import { describeChange } from "../steps/converge/diff.js";
import { bornDestructiveChanges, changeKey } from "../steps/converge/guard.js";
import { planBornWith, readPlanFile } from "../steps/converge/plan-born.js";
import { plansNewCluster } from "../steps/born.js";
import { rollActionsBeyond } from "../steps/roll.js";
import { builtinTask } from "../steps/registry.js";
import { readyTimeoutMs } from "./shared-options.js";
import { showPlan, stopOnFailedDecision } from "./plan-first.js";
import { confirmDestructive, destructiveActions } from "../steps/guard.js";
import {
  loadSessionEnvironment,
  planLifecycleTask,
  runLifecycleTask,
  type RunReport,
  type SessionEnvironment,
  type SessionOptions,
} from "../steps/session.js";

export interface BornCommandOptions extends SessionOptions {
  roll?: boolean;
  prune?: boolean;
  yes?: boolean;
  allowProtected?: boolean;
  resetDesired?: boolean;
  /** A plan saved by `eksbox plan born --out`: apply exactly that, or refuse. */
  plan?: string;
  /** --ready-timeout <minutes>: after a switch of autoscaling.mode, how long to wait for the new capacity's Ready nodes. */
  readyTimeout?: string;
}

/** How born reaches the cloud: planned and run in the session (env lock, run record, toolbox); unit tests put a fake cloud here. */
export interface LifecycleRunner {
  plan(task: Task<LifecycleContext, LifecycleContext>): Promise<PlanEntry[]>;
  run(task: Task<LifecycleContext, LifecycleContext>, resumeCommand: string): Promise<RunReport>;
}

export function sessionRunner(ctx: CommandContext, session: SessionEnvironment, opts: SessionOptions): LifecycleRunner {
  return {
    plan: (task) => planLifecycleTask({ ctx, session, task, opts }),
    run: (task, resumeCommand) => runLifecycleTask({ ctx, session, task, opts, resumeCommand }),
  };
}

/**
 * eksbox born: create the whole cluster, or finish what an earlier run started, and bring what
 * exists to the config (in place); with --roll, replace nodegroups whose launch spec changed.
 * Like terraform apply: without --yes it plans first, and its destructive changes (with --roll, the
 * roll's too) are confirmed all at once before any step runs.
 */
export async function bornCommand(
  ctx: CommandContext,
  opts: BornCommandOptions,
  runnerFor: (session: SessionEnvironment) => LifecycleRunner = (session) => sessionRunner(ctx, session, opts),
): Promise<RunReport> {
  const session = await loadSessionEnvironment(ctx, opts);
  const runner = runnerFor(session);
  let converge: ConvergeOptions = {
    roll: opts.roll,
    prune: opts.prune,
    yes: opts.yes,
    allowProtected: opts.allowProtected,
    resetDesired: opts.resetDesired,
    readyTimeoutMs: readyTimeoutMs(opts.readyTimeout),
  };
  if (opts.plan !== undefined) {
    if (opts.roll || opts.prune || opts.resetDesired) {
      throw new UserError("--plan applies a saved plan as it was made: --roll, --prune and --reset-desired belong to eksbox plan born", {
        hint: `eksbox plan born --env ${session.envName} [--roll] [--prune] --out ${opts.plan}`,
      });
    }
    const saved = await readPlanFile(ctx, opts.plan, session.envName);
    converge = { ...converge, ...saved.options, savedPlan: { fingerprint: saved.fingerprint, changes: saved.changes, file: opts.plan } };
  }
  const flags = [
    converge.roll ? " --roll" : "",
    converge.prune ? " --prune" : "",
    opts.yes ? " --yes" : "",
    opts.allowProtected ? " --allow-protected" : "",
  ].join("");
  const isProtected = session.env.config.protected;
  const confirmedByFlags = !!opts.yes && (!isProtected || !!opts.allowProtected);
  const rollTask = () => builtinTask("roll", { roll: { onlyIfSpecChanged: true } }).task;
  // The roll's plan as confirmed with born's (undefined: not planned up front, on a new cluster).
  let rollConfirmed: PlanEntry[] | undefined;
  if (!confirmedByFlags) {
    const asGiven =
      opts.plan !== undefined
        ? ` --plan ${opts.plan}`
        : `${converge.roll ? " --roll" : ""}${converge.prune ? " --prune" : ""}${converge.resetDesired ? " --reset-desired" : ""}`;
    const upFront = await confirmBornUpFront(
      ctx,
      session,
      runner,
      converge,
      converge.roll ? rollTask : undefined,
      `eksbox born --env ${session.envName}${asGiven}`,
    );
    converge = { ...converge, confirmed: upFront.confirmed };
    rollConfirmed = upFront.roll;
  }
  const { task, command } = builtinTask("born", { converge });
  const report = await runner.run(task, `eksbox ${command} --env ${session.envName}${flags}`);
  if (!converge.roll) return report;
  // --roll: the nodegroups whose launch spec changed are replaced by the blue/green roll, after born,
  // behind the same guard as eksbox nodegroup roll (it drains and deletes the old ones). It was planned
  // and confirmed with born when the cluster existed; planned again now, since born may have changed
  // what it replaces (on a new cluster, the nodegroups born just made). What goes beyond the confirmed
  // plan is asked for again, that part only, rather than refused outright: the question names exactly
  // what is new and needs the cluster's name typed as the first one did, and born's work is done
  // either way. Without a terminal the guard refuses it (born is done; rerun with --yes runs the roll).
  if (!confirmedByFlags) {
    const entries = await runner.plan(rollTask());
    stopOnFailedDecision(entries);
    const beyond = rollActionsBeyond(entries, rollConfirmed);
    if (beyond.length > 0) showPlan(ctx, session, "nodegroup roll", entries);
    await confirmDestructive({
      env: { name: session.envName, protected: isProtected },
      actions: beyond,
      confirmWord: session.env.config.cluster.name,
      command: `eksbox born --env ${session.envName} --roll`,
      yes: opts.yes,
      allowProtected: opts.allowProtected,
      prompt: ctx.ask,
      after: "born is done",
    });
  }
  return runner.run(rollTask(), `eksbox born --env ${session.envName} --roll --yes${isProtected ? " --allow-protected" : ""}`);
}

/**
 * born's destructive changes, confirmed before any step runs: those of the saved plan (--plan, planned
 * already), or else of a plan made now; with --roll on a cluster that exists, the roll's replacements
 * too, in the same question (one plan, one question, as terraform apply). Nothing is asked when there
 * are none. Returns the confirmed changes' keys, which the steps' own guards let through (they still
 * refuse any other), and the roll's plan that was confirmed.
 */
async function confirmBornUpFront(
  ctx: CommandContext,
  session: SessionEnvironment,
  runner: LifecycleRunner,
  converge: ConvergeOptions,
  rollTask: (() => Task<LifecycleContext, LifecycleContext>) | undefined,
  command: string,
): Promise<{ confirmed: string[]; roll?: PlanEntry[] }> {
  let actions: string[];
  let changes: Change[];
  let bornEntries: PlanEntry[] | undefined;
  if (converge.savedPlan) {
    changes = bornDestructiveChanges(converge.savedPlan.changes, converge);
    actions = changes.map(describeChange);
  } else {
    const { entries, result } = await planBornWith((task) => runner.plan(task), converge);
    stopOnFailedDecision(entries);
    changes = bornDestructiveChanges(result?.changes ?? [], converge);
    actions = destructiveActions(entries);
    bornEntries = entries;
  }
  // A saved plan is made only of a cluster that exists (born --plan refuses one that has gone since).
  const clusterExists = bornEntries === undefined || !plansNewCluster(bornEntries);
  let roll: PlanEntry[] | undefined;
  if (rollTask && clusterExists) {
    roll = await runner.plan(rollTask());
    stopOnFailedDecision(roll);
    actions = [...actions, ...rollActionsBeyond(roll)];
  }
  if (actions.length > 0) {
    if (bornEntries) showPlan(ctx, session, "born", bornEntries);
    if (roll) showPlan(ctx, session, "nodegroup roll", roll);
  }
  await confirmDestructive({
    env: { name: session.envName, protected: session.env.config.protected },
    actions,
    confirmWord: session.env.config.cluster.name,
    command,
    yes: converge.yes,
    allowProtected: converge.allowProtected,
    prompt: ctx.ask,
  });
  return { confirmed: changes.map(changeKey), ...(roll ? { roll } : {}) };
}
