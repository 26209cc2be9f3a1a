// `plan born` with its changes, for plan (--out), diff, and born --plan. A saved plan holds the
// changes and a fingerprint of the live facts they came from, so applying it can refuse a world
// that has moved since (review on a pull request, apply on merge).
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CommandContext } from "../../core/context.js";
import { UserError } from "../../core/errors.js";
import { writeFileAtomic } from "../../core/files.js";
import { builtinTask } from "../registry.js";
import type { PlanEntry } from "../scheduler.js";
import type { Task } from "../model.js";
import { planLifecycleTask, type SessionEnvironment, type SessionOptions } from "../session.js";
import type { ConvergeOptions, LifecycleContext } from "../lifecycle.js";
import { computedConverge, type ConvergeResult } from "./converge.js";
import type { Change } from "./change.js";

export const PLAN_FORMAT = "eksbox-plan/1";

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  task: "born";
  env: string;
  account: string;
  region: string;
  createdAt: string;
  fingerprint: string;
  options: Pick<ConvergeOptions, "roll" | "prune" | "resetDesired">;
  changes: Change[];
}

export async function planBorn(
  ctx: CommandContext,
  session: SessionEnvironment,
  opts: SessionOptions,
  converge: ConvergeOptions,
): Promise<{ entries: PlanEntry[]; result?: ConvergeResult }> {
  return planBornWith((task) => planLifecycleTask({ ctx, session, task, opts }), converge);
}

/** planBorn through a given planner (planLifecycleTask, or a fake cloud in unit tests). */
export async function planBornWith(
  plan: (task: Task<LifecycleContext, LifecycleContext>) => Promise<PlanEntry[]>,
  converge: ConvergeOptions,
): Promise<{ entries: PlanEntry[]; result?: ConvergeResult }> {
  const { task } = builtinTask("born", { converge });
  let captured: LifecycleContext | undefined;
  // The same task, keeping hold of its context to read the converge result it computed.
  const entries = await plan({ ...task, extend: (base: LifecycleContext) => (captured = task.extend!(base)) });
  const computed = captured && !entries.some((e) => e.error !== undefined) ? computedConverge(captured) : undefined;
  return { entries, result: computed ? await computed : undefined };
}

export async function writePlanFile(ctx: CommandContext, file: string, plan: SavedPlan): Promise<string> {
  const path = resolve(ctx.projectRoot, file);
  await writeFileAtomic(path, JSON.stringify(plan, null, 2) + "\n");
  return path;
}

export async function readPlanFile(ctx: CommandContext, file: string, envName: string): Promise<SavedPlan> {
  let plan: Partial<SavedPlan>;
  try {
    plan = JSON.parse(await readFile(resolve(ctx.projectRoot, file), "utf8")) as Partial<SavedPlan>;
  } catch (error) {
    throw new UserError(`cannot read the plan ${file}: ${error instanceof Error ? error.message : String(error)}`, {
      hint: `make one with eksbox plan born --env ${envName} --out ${file}`,
    });
  }
  if (plan.format !== PLAN_FORMAT || plan.task !== "born" || typeof plan.fingerprint !== "string" || !Array.isArray(plan.changes)) {
    throw new UserError(`${file} is not a plan made by eksbox plan born --out`, {
      hint: `make one with eksbox plan born --env ${envName} --out ${file}`,
    });
  }
  if (plan.env !== envName) {
    throw new UserError(`${file} is a plan for environment ${plan.env}, not ${envName}`, {
      hint: `apply it with eksbox born --env ${plan.env} --plan ${file}`,
    });
  }
  return plan as SavedPlan;
}

/** Changes that make a drift check fail: everything but what is only reported. */
export function actionable(changes: readonly Change[]): Change[] {
  return changes.filter((c) => !c.reportOnly);
}
