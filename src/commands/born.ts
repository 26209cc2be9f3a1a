import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import type { ConvergeOptions } from "../steps/lifecycle.js";
import { readPlanFile } from "../steps/converge/plan-born.js";
import { builtinTask } from "../steps/registry.js";
import { readyTimeoutMs } from "./shared-options.js";
import { confirmDestructive, destructiveActions } from "../steps/guard.js";
import { loadSessionEnvironment, planLifecycleTask, runLifecycleTask, type RunReport, type SessionOptions } from "../steps/session.js";

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

/**
 * eksbox born: create the whole cluster, or finish what an earlier run started, and bring what
 * exists to the config (in place); with --roll, replace nodegroups whose launch spec changed.
 */
export async function bornCommand(ctx: CommandContext, opts: BornCommandOptions): Promise<RunReport> {
  const session = await loadSessionEnvironment(ctx, opts);
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
  const { task, command } = builtinTask("born", { converge });
  const report = await runLifecycleTask({ ctx, session, task, opts, resumeCommand: `eksbox ${command} --env ${session.envName}${flags}` });
  if (!converge.roll) return report;
  // --roll: the nodegroups whose launch spec changed are replaced by the blue/green roll, after born,
  // behind the same guard as eksbox nodegroup roll (it drains and deletes the old ones).
  const isProtected = session.env.config.protected;
  const build = () => builtinTask("roll", { roll: { onlyIfSpecChanged: true } });
  if (!(opts.yes && (!isProtected || opts.allowProtected))) {
    const entries = await planLifecycleTask({ ctx, session, task: build().task, opts });
    const failed = entries.find((e) => e.error !== undefined);
    if (failed) throw failed.error;
    await confirmDestructive({
      env: { name: session.envName, protected: isProtected },
      actions: destructiveActions(entries),
      confirmWord: session.env.config.cluster.name,
      command: `eksbox born --env ${session.envName} --roll`,
      yes: opts.yes,
      allowProtected: opts.allowProtected,
      prompt: ctx.ask,
    });
  }
  return runLifecycleTask({
    ctx,
    session,
    task: build().task,
    opts,
    resumeCommand: `eksbox born --env ${session.envName} --roll --yes${isProtected ? " --allow-protected" : ""}`,
  });
}
