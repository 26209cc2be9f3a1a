// Runs a task's step graph: each step starts as soon as everything it needs has finished, up to the
// task's concurrency cap. After the first failure or interrupt no new step starts; steps already
// running are allowed to finish so nothing is cut off half-way.
import { AbortedError, InternalError, isEksboxError } from "../core/errors.js";
import { stepView, type Step, type StepContext, type StepDecision, type Task } from "./model.js";

export type StepStatus = "done" | "skipped" | "failed" | "aborted" | "not-run";

export interface StepOutcome {
  id: string;
  status: StepStatus;
  decision?: StepDecision;
  error?: unknown;
  elapsedMs: number;
}

export interface TaskResult {
  status: "done" | "failed" | "aborted";
  outcomes: StepOutcome[];
  /** The first error, which decides how the run ends. */
  error?: unknown;
}

export interface PlanEntry {
  id: string;
  description: string;
  needs: readonly string[];
  decision?: StepDecision;
  /** A decision that could not be made (for example AWS unreachable). */
  error?: unknown;
}

/** Refuses unknown `needs` and cycles, naming them. Returns the steps in a dependency order. */
export function orderSteps<C extends StepContext>(task: Task<C>): Step<C>[] {
  const byId = new Map(task.steps.map((s) => [s.id, s]));
  if (byId.size !== task.steps.length) throw new InternalError(`task ${task.name} has two steps with the same id`);
  for (const step of task.steps) {
    for (const need of step.needs) {
      if (!byId.has(need)) throw new InternalError(`step ${step.id} of task ${task.name} needs unknown step ${need}`);
    }
  }
  const ordered: Step<C>[] = [];
  const state = new Map<string, "visiting" | "visited">();
  const visit = (step: Step<C>, path: string[]): void => {
    const seen = state.get(step.id);
    if (seen === "visited") return;
    if (seen === "visiting") {
      const cycle = [...path.slice(path.indexOf(step.id)), step.id].join(" -> ");
      throw new InternalError(`task ${task.name} has a cycle in needs: ${cycle}`);
    }
    state.set(step.id, "visiting");
    for (const need of step.needs) visit(byId.get(need)!, [...path, step.id]);
    state.set(step.id, "visited");
    ordered.push(step);
  };
  for (const step of task.steps) visit(step, []);
  return ordered;
}

function isAbort(error: unknown, signal: AbortSignal): boolean {
  return error instanceof AbortedError || (signal.aborted && !isEksboxError(error));
}

export async function runTask<C extends StepContext>(task: Task<C>, ctx: C): Promise<TaskResult> {
  const ordered = orderSteps(task);
  const outcomes = new Map<string, StepOutcome>();
  const running = new Map<string, Promise<void>>();
  let firstError: unknown;
  let stopScheduling = false;

  const finish = (outcome: StepOutcome): void => {
    outcomes.set(outcome.id, outcome);
    if (outcome.status === "failed" || outcome.status === "aborted") {
      stopScheduling = true;
      firstError ??= outcome.error;
    }
  };

  const execute = async (step: Step<C>): Promise<void> => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    ctx.events.emit({ type: "step-start", step: step.id, description: step.description });
    let decision: StepDecision | undefined;
    const view = stepView(ctx, step.id);
    try {
      decision = await step.decide(view);
      if (decision.action === "skip") {
        ctx.events.emit({ type: "step-end", step: step.id, status: "skipped", elapsedMs: elapsed(), reason: decision.reason });
        finish({ id: step.id, status: "skipped", decision, elapsedMs: elapsed() });
        return;
      }
      if (ctx.signal.aborted) throw new AbortedError(`step ${step.id} not started: interrupted`);
      await step.run(view, decision);
      ctx.events.emit({
        type: "step-end",
        step: step.id,
        status: "done",
        elapsedMs: elapsed(),
        reason: decision.reason,
        summary: decision.done ?? step.description,
      });
      finish({ id: step.id, status: "done", decision, elapsedMs: elapsed() });
    } catch (error) {
      const status = isAbort(error, ctx.signal) ? "aborted" : "failed";
      const reason = error instanceof Error ? error.message : String(error);
      ctx.events.emit({ type: "step-end", step: step.id, status, elapsedMs: elapsed(), reason });
      finish({ id: step.id, status, decision, error, elapsedMs: elapsed() });
    }
  };

  const pending = [...ordered];
  for (;;) {
    if (ctx.signal.aborted) stopScheduling = true;
    for (let i = 0; i < pending.length && !stopScheduling;) {
      const step = pending[i]!;
      const needs = step.needs.map((n) => outcomes.get(n)?.status);
      if (needs.some((s) => s !== undefined && s !== "done" && s !== "skipped")) {
        pending.splice(i, 1);
        outcomes.set(step.id, { id: step.id, status: "not-run", elapsedMs: 0 });
        continue;
      }
      const ready = needs.every((s) => s === "done" || s === "skipped");
      if (ready && running.size < task.concurrency) {
        pending.splice(i, 1);
        running.set(
          step.id,
          execute(step).finally(() => running.delete(step.id)),
        );
        continue;
      }
      i++;
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  for (const step of pending) outcomes.set(step.id, { id: step.id, status: "not-run", elapsedMs: 0 });

  const list = ordered.map((s) => outcomes.get(s.id)!);
  if (firstError === undefined && ctx.signal.aborted && list.some((o) => o.status === "not-run")) {
    firstError = new AbortedError("interrupted before all steps ran");
  }
  const status = firstError === undefined ? "done" : isAbort(firstError, ctx.signal) ? "aborted" : "failed";
  return { status, outcomes: list, error: firstError };
}

/**
 * Decides every step without acting. A step whose predecessors would run still decides from
 * today's world, so its decision reads "as things stand"; the checks are written to cope with
 * missing predecessors (no cluster yet means every nodegroup is missing).
 */
export async function planTask<C extends StepContext>(task: Task<C>, ctx: C): Promise<PlanEntry[]> {
  const entries: PlanEntry[] = [];
  for (const step of orderSteps(task)) {
    const entry: PlanEntry = { id: step.id, description: step.description, needs: step.needs };
    try {
      entry.decision = await step.decide(stepView(ctx, step.id));
    } catch (error) {
      if (error instanceof AbortedError) throw error;
      entry.error = error;
    }
    entries.push(entry);
  }
  return entries;
}
