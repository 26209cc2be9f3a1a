// A destructive converge change (a zone's nodegroup drained and deleted, --prune) goes through the
// project's one guard (steps/guard.ts): --yes, and --allow-protected on a protected environment.
// `eksbox born` plans first and asks on the terminal before any step runs, then passes on which
// changes were confirmed; a step still refuses any other (one that appeared between plan and run).
// born called from a user task carries the task's --yes, --allow-protected and command line.
import { confirmDestructive } from "../guard.js";
import type { ConvergeOptions, LifecycleContext } from "../lifecycle.js";
import type { Change } from "./change.js";
import { describeChange } from "./diff.js";

/** What identifies a change between the plan that confirmed it and the step that makes it. */
export function changeKey(change: Pick<Change, "resource" | "field" | "wanted">): string {
  return JSON.stringify([change.resource, change.field, change.wanted ?? null]);
}

/**
 * The destructive changes born would make, as its steps pick them: extras only with --prune, nothing
 * of a roll (the roll task's) or only reported.
 */
export function bornDestructiveChanges(changes: readonly Change[], options: Pick<ConvergeOptions, "prune">): Change[] {
  return changes.filter((c) => c.destructive && !c.reportOnly && c.kind !== "roll" && (c.kind !== "extra" || !!options.prune));
}

/** The changes of a step not confirmed up front by born's plan. */
export function unconfirmed<T extends Pick<Change, "resource" | "field" | "wanted">>(ctx: LifecycleContext, changes: readonly T[]): T[] {
  const confirmed = new Set(ctx.converge?.confirmed ?? []);
  return changes.filter((c) => !confirmed.has(changeKey(c)));
}

export async function refuseUnconfirmed(ctx: LifecycleContext, destructive: readonly Change[], command: string): Promise<void> {
  await confirmDestructive({
    env: { name: ctx.env.name, protected: ctx.env.config.protected },
    actions: unconfirmed(ctx, destructive).map(describeChange),
    confirmWord: ctx.facts.clusterName,
    command: ctx.converge?.command ?? command,
    yes: ctx.converge?.yes,
    allowProtected: ctx.converge?.allowProtected,
  });
}
