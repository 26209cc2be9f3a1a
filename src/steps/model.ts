// A task is a graph of steps. Each step first decides ("already done?") by looking at the real
// world, then acts. Deciding from the world rather than from a local journal is what makes every
// task resumable: a rerun after a failure finds the finished steps done and skips them.
import type { EventSink } from "../core/events.js";
import type { Toolbox } from "../runtime/types.js";
import type { Change } from "./converge/change.js";
import { isClusterConfigUpdate, runClusterConfigUpdate } from "./cluster-update.js";

/** What a step would do, as shown by `eksbox plan`; `changes` are the differences from the config it found. */
export type StepDecision =
  | { action: "skip"; reason: string; changes?: readonly Change[] }
  | {
      action: "run";
      reason: string;
      commands: PlannedCommand[];
      files?: string[];
      done?: string;
      destructive?: string;
      changes?: readonly Change[];
    };

export interface PlannedCommand {
  argv: readonly string[];
}

export interface StepContext {
  toolbox: Toolbox;
  events: EventSink;
  /** Aborted on the first Ctrl-C: steps stop waiting/polling when it fires. */
  signal: AbortSignal;
  /** True under `eksbox plan`: decide only, change nothing (not even files under build/). */
  planning: boolean;
  /** The id of the step this context was handed to (stepView); commands run under it. */
  step?: string;
  /** How long a wait on the cloud (an EKS update) sleeps between polls; tests shorten it. */
  pollIntervalMs?: number;
}

const BASE = Symbol("the context a step view stamps");

/** The context a step view was made from (the context itself when it is not a view). */
export function baseContext<C extends StepContext>(ctx: C): C {
  return (ctx as { [BASE]?: C })[BASE] ?? ctx;
}

/**
 * The context as one step sees it: its id stamped on `step` and on the cloud facts it asks, so a
 * step never repeats its own id. Everything else, writes included, is the shared context's.
 */
export function stepView<C extends StepContext>(ctx: C, step: string): C {
  const base = baseContext(ctx);
  const facts = (base as { facts?: { forStep?: (step: string) => unknown } }).facts;
  const stamped: Record<PropertyKey, unknown> = { step };
  if (typeof facts?.forStep === "function") stamped.facts = facts.forStep(step);
  return new Proxy(base, {
    get: (target, key) => (key === BASE ? target : Object.hasOwn(stamped, key) ? stamped[key] : Reflect.get(target, key)),
  });
}

export interface Step<C extends StepContext = StepContext> {
  id: string;
  description: string;
  /** Steps that must have finished (done or skipped) before this one starts. */
  needs: readonly string[];
  decide(ctx: C): Promise<StepDecision>;
  /** Carries out a "run" decision. Throws (usually StepFailedError) on failure. */
  run(ctx: C, decision: Extract<StepDecision, { action: "run" }>): Promise<void>;
}

/** B is the context the task is started with; C what its steps see once extend has added their own part. */
export interface Task<C extends StepContext = StepContext, B extends StepContext = StepContext> {
  name: string;
  steps: readonly Step<C>[];
  /** How many steps may run at once. */
  concurrency: number;
  /** Adds what the task's steps share (a roll's target, an upgrade's hops); once per run, or per inlined call. */
  extend?(base: B): C;
  /**
   * Which lock the run holds: "cloud" (default) also takes the environment's lock in its AWS
   * account, which every machine sees; "local" only this checkout's, for a task that checks no AWS
   * account (a user task with preflight: false), since the account's lock is written with it.
   */
  lockScope?: "cloud" | "local";
}

/**
 * `reason` says why the step runs (for plan and the run record); `done` says what it did, for the
 * line shown when it finishes ("deleted cluster prod", not "cluster prod is ACTIVE").
 */
export interface RunDecisionExtras {
  files?: string[];
  done?: string;
  /** Set when the step deletes, drains or switches something one way: what, for the confirmation (see guard.ts). */
  destructive?: string;
  /** The differences from the config the step found (converge). */
  changes?: readonly Change[];
}

export function runDecision(reason: string, commands: readonly (readonly string[])[], extras?: string[] | RunDecisionExtras): StepDecision {
  const { files, done, destructive, changes } = Array.isArray(extras)
    ? { files: extras, done: undefined, destructive: undefined, changes: undefined }
    : (extras ?? {});
  const decision: StepDecision = { action: "run", reason, commands: commands.map((argv) => ({ argv })), files };
  if (done !== undefined) decision.done = done;
  if (destructive !== undefined) decision.destructive = destructive;
  if (changes && changes.length > 0) decision.changes = changes;
  return decision;
}

export function skipDecision(reason: string, changes?: readonly Change[]): StepDecision {
  return { action: "skip", reason, ...(changes && changes.length > 0 ? { changes } : {}) };
}

/** The id of the step a context was handed to. */
export function stepId(ctx: StepContext): string {
  if (ctx.step === undefined) throw new Error("internal: a step's context without its id (hand the step a stepView)");
  return ctx.step;
}

/**
 * Carries out a decision's commands in the toolbox, one after another, as the context's step. An
 * `aws eks update-cluster-config` is asynchronous in EKS: the next command waits until its update is done.
 */
export async function runPlannedCommands(ctx: StepContext, decision: Extract<StepDecision, { action: "run" }>): Promise<void> {
  const step = stepId(ctx);
  for (const { argv } of decision.commands) {
    if (isClusterConfigUpdate(argv)) await runClusterConfigUpdate(ctx, step, argv);
    else await ctx.toolbox.runOrFail({ step, argv });
  }
}
