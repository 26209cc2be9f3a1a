// Everything around a lifecycle task: the environment, the per-env lock, the run record, the
// toolbox, and what is said at the end (including how to resume). Shared by born, roll, destroy,
// upgrade and plan, so each of those is only its step graph.
import type { CommandContext } from "../core/context.js";
import { fanOut, log, type EventSink } from "../core/events.js";
import { Interrupter } from "../core/interrupt.js";
import { newRunId } from "../core/layout.js";
import { loadEnvironment } from "../config/load.js";
import { resolveEnvName } from "../config/env-selection.js";
import type { Environment } from "../config/schema.js";
import { openToolbox } from "../runtime/toolbox.js";
import type { Toolbox } from "../runtime/types.js";
import { Redactor } from "../runtime/redact.js";
import { CloudFacts } from "./cloud.js";
import { gitopsToken, gitopsToolboxEnv } from "./born.js";
import type { LifecycleContext } from "./lifecycle.js";
import { acquireEnvLock, type EnvLock } from "./lock.js";
import { acquireCloudLock, environmentStateStore } from "./cloud-lock.js";
import { checkAccount } from "./common-steps.js";
import type { Task } from "./model.js";
import { RunRecorder } from "./run-record.js";
import { attachRunReport, stepReport, type RunReport } from "./run-report.js";
export { unchangedReport, type RunReport } from "./run-report.js";
import { planTask, runTask, type PlanEntry, type TaskResult } from "./scheduler.js";

export interface SessionOptions {
  env?: string;
  set?: string[];
  image?: string;
}

export interface SessionEnvironment {
  envName: string;
  env: Environment;
}

export async function loadSessionEnvironment(ctx: CommandContext, opts: SessionOptions): Promise<SessionEnvironment> {
  const envName = await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const env = await loadEnvironment(ctx.projectRoot, envName, { sets: opts.set });
  return { envName, env };
}

/** The toolbox gets the Git token too, under the name flux reads (whatever gitops.tokenEnv is), when gitops is configured. */
function gitopsPassEnv(env: Environment): string[] {
  const token = env.config.gitops ? gitopsToken(env.config.gitops) : undefined;
  return token ? [token.fluxVariable] : [];
}

function toolboxProcessEnv(ctx: CommandContext, env: Environment): NodeJS.ProcessEnv {
  return gitopsToolboxEnv(env.config.gitops, ctx.processEnv);
}

interface SessionParts<C extends LifecycleContext> {
  ctx: CommandContext;
  session: SessionEnvironment;
  task: Task<C, LifecycleContext>;
  opts: SessionOptions;
  planning: boolean;
  /** Emitted for the run record and live output: e.g. "eksbox born --env prod". */
  resumeCommand: string;
}

function openSessionToolbox(
  parts: Pick<SessionParts<LifecycleContext>, "ctx" | "session" | "opts">,
  runId: string,
  events: EventSink,
  redactor: Redactor,
  interrupter: Interrupter = parts.ctx.interrupter,
) {
  const { ctx, session, opts } = parts;
  const { aws } = session.env.config;
  return openToolbox({
    projectRoot: ctx.projectRoot,
    envName: session.envName,
    aws: { profile: aws.profile || undefined, region: aws.region, endpointUrl: aws.endpointUrl },
    imageRef: opts.image,
    runId,
    events,
    interrupter,
    processEnv: toolboxProcessEnv(ctx, session.env),
    passEnv: gitopsPassEnv(session.env),
    redactor,
    credentials: { assumeRole: aws.assumeRole },
  });
}

async function withToolbox<C extends LifecycleContext, T>(
  parts: SessionParts<C>,
  runId: string,
  events: EventSink,
  redactor: Redactor,
  body: (lc: C) => Promise<T>,
): Promise<T> {
  const { ctx, session } = parts;
  const { aws, cluster } = session.env.config;
  const toolbox = await openSessionToolbox(parts, runId, events, redactor);
  let result: T;
  try {
    const base: LifecycleContext = {
      toolbox,
      events,
      signal: ctx.interrupter.signal,
      planning: parts.planning,
      projectRoot: ctx.projectRoot,
      env: session.env,
      facts: new CloudFacts(toolbox, cluster.name, aws.region),
      processEnv: ctx.processEnv,
    };
    result = await body(parts.task.extend ? parts.task.extend(base) : (base as C));
  } catch (error) {
    // The body's error is the one to report; a failed clean-up after it is only a warning.
    await toolbox
      .dispose()
      .catch((disposeError: unknown) => log.warn(events, disposeError instanceof Error ? disposeError.message : String(disposeError)));
    throw error;
  }
  await toolbox.dispose();
  return result;
}

/**
 * The environment's lock in its AWS account, around the task: every machine sees it. Taken after
 * the account check, so the lock is never written with another account's credentials.
 */
async function underCloudLock(
  lc: LifecycleContext,
  ctx: CommandContext,
  run: { runId: string; task: string; command: string },
  body: () => Promise<TaskResult>,
  reopen: () => Promise<Toolbox>,
): Promise<TaskResult> {
  // The same check (and the same answer, cached) as the preflight step's.
  await checkAccount({ env: lc.env, facts: lc.facts.forStep("preflight") });
  const lock = await acquireCloudLock({
    store: environmentStateStore(lc.toolbox, lc.events, lc.env),
    envName: lc.env.name,
    events: lc.events,
    processEnv: lc.processEnv,
    run,
    onLost(by) {
      log.warn(
        lc.events,
        `the lock of environment ${lc.env.name} is no longer this run's${by ? `: run ${by.runId} on ${by.host} holds it now` : " (released with eksbox unlock)"}; stopping`,
      );
      ctx.interrupter.escalate();
    },
  });
  let outcome: TaskResult["status"] = "failed";
  try {
    const result = await body();
    outcome = result.status;
    return result;
  } catch (error) {
    outcome = ctx.interrupter.level > 0 ? "aborted" : "failed";
    throw error;
  } finally {
    // The run's container may be gone (killed, stopped by a second Ctrl-C): then release through a
    // fresh one, so the next run need not wait for the heartbeat to expire.
    await lock.release(outcome, async () => {
      const toolbox = await reopen();
      return { store: environmentStateStore(toolbox, lc.events, lc.env), close: () => toolbox.dispose() };
    });
  }
}

/**
 * For the toolbox that releases the lock after the run's own is gone (a first Ctrl-C whose grace
 * period ran out stops the run's container): it starts even though the run was interrupted, and
 * stops at the next Ctrl-C.
 */
function releaseInterrupter(run: Interrupter): Interrupter {
  const release = new Interrupter();
  const levelAtStart = run.level;
  run.onEscalate((level) => {
    if (level > levelAtStart) release.escalate();
  });
  return release;
}

/** Runs a task under the env lock with a run record. Throws the task's first error after recording it (with the run's report attached). */
export async function runLifecycleTask<C extends LifecycleContext>(parts: Omit<SessionParts<C>, "planning">): Promise<RunReport> {
  const { ctx, session, task } = parts;
  const runId = newRunId();
  const started = performance.now();
  const lock: EnvLock = await acquireEnvLock(ctx.projectRoot, session.envName, { runId, task: task.name });
  // While the lock is held, Ctrl-C must take the graceful path (the run ends, the lock is released)
  // even before the toolbox is up to listen.
  const stopListening = ctx.interrupter.onEscalate(() => {});
  // The toolbox's environment, so the Git token is masked under the name flux reads too, whatever gitops.tokenEnv is called.
  const redactor = Redactor.fromEnv(toolboxProcessEnv(ctx, session.env));
  let recorder: RunRecorder | undefined;
  try {
    recorder = await RunRecorder.open(ctx.projectRoot, { runId, task: task.name, env: session.envName }, (text) => redactor.redact(text));
    const events = fanOut(ctx.events, recorder);
    if (lock.tookOverFrom) {
      log.warn(events, `took over a stale lock from run ${lock.tookOverFrom.runId} (pid ${lock.tookOverFrom.pid}, gone)`);
    }
    events.emit({ type: "run-start", runId, task: task.name, env: session.envName });
    let result: TaskResult;
    try {
      result = await withToolbox({ ...parts, planning: false }, runId, events, redactor, (lc) =>
        task.lockScope === "local"
          ? runTask(task, lc)
          : underCloudLock(
              lc,
              ctx,
              { runId, task: task.name, command: parts.resumeCommand },
              () => runTask(task, lc),
              () => openSessionToolbox(parts, runId, events, redactor, releaseInterrupter(ctx.interrupter)),
            ),
      );
    } catch (error) {
      result = { status: ctx.interrupter.level > 0 ? "aborted" : "failed", outcomes: [], error };
    }
    const resume = result.status === "done" ? undefined : parts.resumeCommand;
    const elapsedMs = Math.round(performance.now() - started);
    events.emit({ type: "run-end", runId, status: result.status, elapsedMs, resume });
    const report: RunReport = {
      type: "run",
      runId,
      task: task.name,
      env: session.envName,
      outcome: result.status,
      elapsedMs,
      steps: result.outcomes.map(stepReport),
      ...(resume === undefined ? {} : { resume }),
    };
    await recorder.close({
      status: result.status,
      steps: result.outcomes.map((o) => ({ id: o.id, status: o.status, elapsedMs: o.elapsedMs })),
      error: result.error instanceof Error ? result.error.message : result.error === undefined ? undefined : String(result.error),
      resume,
    });
    recorder = undefined;
    if (result.error !== undefined) {
      attachRunReport(result.error, report);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the scheduler caught, as it was thrown
      throw result.error;
    }
    return report;
  } finally {
    await recorder?.close({ status: "failed" }).catch(() => {});
    await lock.release();
    stopListening();
  }
}

/** Decides every step of a task and changes nothing: no lock, no run record, no files written. */
export async function planLifecycleTask<C extends LifecycleContext>(
  parts: Omit<SessionParts<C>, "planning" | "resumeCommand">,
): Promise<PlanEntry[]> {
  const redactor = Redactor.fromEnv(toolboxProcessEnv(parts.ctx, parts.session.env));
  return withToolbox({ ...parts, planning: true, resumeCommand: "" }, newRunId(), parts.ctx.events, redactor, (lc) =>
    planTask(parts.task, lc),
  );
}
