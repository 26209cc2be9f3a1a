// The born steps for today's EKS identity: each takes its share of the converge result (the
// comparison is in converge/identity-state.ts), shows it and applies it. Extras are reported, never
// deleted here; the one-way authenticationMode change needs --yes.
import { log } from "../core/events.js";
import { confirmDestructive } from "./guard.js";
import { envPaths } from "../core/layout.js";
import type { LifecycleContext } from "./lifecycle.js";
import { convergeFor, forgetConverge } from "./converge/converge.js";
import { unconfirmed } from "./converge/guard.js";
import { checkLockOut, liveAccess, type IdentityChange, type IdentityChangeKind, type Target } from "./converge/identity-state.js";
import { runDecision, runPlannedCommands, skipDecision, stepId, type Step, type StepDecision } from "./model.js";

// ---- showing and applying -----------------------------------------------------------------------

export function describeChange(c: IdentityChange): string {
  const show = (v: unknown) => (v === null || v === undefined ? "-" : typeof v === "string" ? v : JSON.stringify(v));
  switch (c.kind) {
    case "create":
      return `create ${c.resource}${c.field === "entry" || c.field === "association" ? "" : ` ${c.field} ${show(c.wanted)}`}`;
    case "update":
      return `update ${c.resource} ${c.field}: ${show(c.live)} -> ${show(c.wanted)}`;
    case "one-way":
      return `ONE-WAY ${c.resource} ${c.field}: ${show(c.live)} -> ${show(c.wanted)} (cannot be undone; needs --yes)`;
    case "extra":
      return `extra ${c.resource}: not in the config, kept (remove it by hand if it should go)`;
  }
}

function decisionFor(changes: IdentityChange[], noneReason: string, files: string[]): StepDecision {
  const acting = changes.filter((c) => c.kind !== "extra");
  const lines = changes.map(describeChange).join("; ");
  if (acting.length === 0) return skipDecision(changes.length > 0 ? `${noneReason}; ${lines}` : noneReason);
  return runDecision(
    lines,
    acting.flatMap((c) => c.commands),
    files,
  );
}

/** A step's share of the converge result, in this module's terms. */
async function shareOf(ctx: LifecycleContext, step: "podidentity" | "access"): Promise<IdentityChange[]> {
  const kinds: Record<string, IdentityChangeKind> = { create: "create", inPlace: "update", extra: "extra", oneWay: "one-way" };
  return (await convergeFor(ctx)).changes
    .filter((c) => c.step === step)
    .map((c) => ({ ...c, kind: kinds[c.kind] ?? "update", commands: c.argv ? [c.argv] : [] }));
}

function target(ctx: LifecycleContext): Target {
  return { cluster: ctx.facts.clusterName, region: ctx.facts.region, clusterFile: envPaths(ctx.env.name).cluster };
}

async function clusterIsUp(ctx: LifecycleContext): Promise<boolean> {
  const cluster = await ctx.facts.cluster();
  return cluster !== undefined && (cluster.status === "ACTIVE" || cluster.status === "UPDATING");
}

export const podIdentityStep: Step<LifecycleContext> = {
  id: "podidentity",
  description: "create and update the pod identity associations",
  needs: ["cluster"],
  async decide(ctx) {
    const desired = ctx.env.config.cluster.podIdentityAssociations;
    const cluster = await ctx.facts.cluster();
    if (!cluster) {
      return desired.length === 0
        ? skipDecision("no pod identity associations configured")
        : skipDecision(`eksctl create cluster creates the ${desired.length} pod identity association(s) with the cluster`);
    }
    if (!(await clusterIsUp(ctx))) return skipDecision(`cluster ${cluster.name} is ${cluster.status}`);
    // Its changes are the converge result's (diff.ts identityChanges), so diff and a saved plan hold them too.
    const changes = await shareOf(ctx, "podidentity");
    const none =
      desired.length === 0
        ? "no pod identity associations configured"
        : `all ${desired.length} pod identity association(s) match the config`;
    return decisionFor(changes, none, [target(ctx).clusterFile]);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("policies");
    forgetConverge(ctx);
  },
};

/** Converges the authenticationMode (one-way: through the project's guard, steps/guard.ts) and the access entries. */
export const accessStep: Step<LifecycleContext> = {
  id: "access",
  description: "converge the authentication mode and the access entries",
  needs: ["cluster"],
  async decide(ctx) {
    const desired = ctx.env.config.cluster.access;
    if (!desired) return skipDecision("cluster.access not configured: access entries are not managed");
    const cluster = await ctx.facts.cluster();
    if (!cluster)
      return skipDecision(
        `eksctl create cluster sets authenticationMode ${desired.authenticationMode} and creates the ${desired.entries.length} access entr(ies)`,
      );
    if (!(await clusterIsUp(ctx))) return skipDecision(`cluster ${cluster.name} is ${cluster.status}`);
    const { live: all } = await convergeFor(ctx);
    const live = all.identity?.access ?? (await liveAccess(ctx, stepId(ctx)));
    const changes = await shareOf(ctx, "access");
    const identity = await ctx.facts.identity();
    checkLockOut(identity.Arn, desired, live, cluster.name);
    const oneWayChanges = changes.filter((c) => c.kind === "one-way");
    const oneWay = oneWayChanges.map(describeChange);
    // Asked from inside the step, where there is no terminal: --yes (and --allow-protected when protected).
    if (!ctx.planning) {
      await confirmDestructive({
        env: { name: ctx.env.name, protected: ctx.env.config.protected },
        actions: unconfirmed(ctx, oneWayChanges).map(describeChange),
        confirmWord: cluster.name,
        // A user task's born carries the task's command line: that is what is run again with --yes.
        command: ctx.converge?.command ?? `eksbox born --env ${ctx.env.name}`,
        yes: ctx.converge?.yes,
        allowProtected: ctx.converge?.allowProtected,
      });
    }
    const decision = decisionFor(
      changes,
      `authenticationMode ${live.authenticationMode} and all ${desired.entries.length} access entr(ies) match the config`,
      [target(ctx).clusterFile],
    );
    return decision.action === "run" && oneWay.length > 0 ? { ...decision, destructive: oneWay.join("; ") } : decision;
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("cluster");
    forgetConverge(ctx);
  },
};

/** Extras are reported as warnings too, so they are seen in a run, not only in plan. */
export function warnExtras(ctx: LifecycleContext, changes: IdentityChange[]): void {
  for (const c of changes) if (c.kind === "extra") log.warn(ctx.events, describeChange(c));
}
