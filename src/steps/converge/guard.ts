// A destructive converge change (a zone's nodegroup drained and deleted, --prune) goes through the
// project's one guard (steps/guard.ts): --yes, and --allow-protected on a protected environment.
// It is asked from inside the step that would make the change, where there is no terminal to ask on;
// born called from a user task carries the task's --yes, --allow-protected and command line.
import { confirmDestructive } from "../guard.js";
import type { LifecycleContext } from "../lifecycle.js";
import type { Change } from "./change.js";
import { describeChange } from "./diff.js";

export async function refuseUnconfirmed(ctx: LifecycleContext, destructive: readonly Change[], command: string): Promise<void> {
  await confirmDestructive({
    env: { name: ctx.env.name, protected: ctx.env.config.protected },
    actions: destructive.map(describeChange),
    confirmWord: ctx.facts.clusterName,
    command: ctx.converge?.command ?? command,
    yes: ctx.converge?.yes,
    allowProtected: ctx.converge?.allowProtected,
  });
}
