// nodegroup roll: blue/green rotation of the worker nodegroups, the reason they carry a version.
//   preflight -> generate (next version) -> create-new -> wait-ready -> delete-old -> record
// Old nodegroups are deleted only once every new one exists and has Ready nodes, so the last
// working set is never removed. A roll that stops part-way is remembered and finished by a rerun.
import { AbortedError, StepFailedError, UserError } from "../core/errors.js";
import { envPaths } from "../core/layout.js";
import { readPoolVersions, recordPoolVersions } from "../core/state.js";
import { readRoll, readRollTarget, writeRollTarget } from "./cluster-state.js";
import { nodegroupPools } from "../render/view-model.js";
import { probeOutput, runJson } from "./cloud.js";
import { clusterMissing, freshVersion, liveNodegroups, newestVersion, requireRendered, type LifecycleContext } from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type Task, runPlannedCommands, stepId } from "./model.js";
import { generateStep, preflightStep } from "./common-steps.js";
import { specDrift } from "./converge/converge.js";
import { pollUntilDone } from "../core/sleep.js";
import { drainAndDeleteNodegroupArgv, nodegroupDeletedBy } from "./eksctl-argv.js";
import type { PlanEntry } from "./scheduler.js";

export interface RollOptions {
  /** The version to roll to; default: a roll in progress, the pools' version from config, or today. */
  toVersion?: string;
  /** The pools to roll (--pool); default: every pool that is made of nodegroups. */
  pools?: string[];
  /** How long to wait for the new nodes to be Ready. */
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  now?: Date;
  /** From born --roll: roll only when a nodegroup's launch spec changed (otherwise nothing to do). */
  onlyIfSpecChanged?: boolean;
}

interface RollContext extends LifecycleContext {
  /** target: the version rolled to; pools: the pools rolled; liveVersions: their live nodegroups' versions. */
  roll: { target?: string; pools: string[]; liveVersions: Map<string, string> };
}

/** The pools a roll rolls: --pool's (checked), or every pool made of nodegroups. */
function poolsToRoll(ctx: RollContext, asked: string[] | undefined): string[] {
  const rollable = nodegroupPools(ctx.env).map(([name]) => name);
  if (!asked || asked.length === 0) return rollable;
  for (const pool of asked) {
    if (!(pool in ctx.env.config.nodePools)) {
      throw new UserError(`--pool ${pool}: environment ${ctx.env.name} has no such pool`, {
        hint: `its pools: ${Object.keys(ctx.env.config.nodePools).join(", ")}`,
      });
    }
    if (!rollable.includes(pool)) {
      throw new UserError(`--pool ${pool}: the pool is a Karpenter NodePool, not nodegroups`, {
        hint: "Karpenter replaces its nodes itself when their NodePool or EC2NodeClass changes (drift); there is nothing to roll",
      });
    }
  }
  return [...new Set(asked)];
}

async function chooseTarget(ctx: RollContext, opts: RollOptions): Promise<Record<string, string>> {
  if (!(await ctx.facts.cluster())) throw clusterMissing(ctx, "nodegroup roll");
  const liveGroups = await liveNodegroups(ctx);
  const inProgressRoll = await readRoll(ctx, liveGroups);
  const inProgress = inProgressRoll?.rollingTo;
  const asked = opts.pools && opts.pools.length > 0 ? [...new Set(opts.pools)].sort() : undefined;
  if (
    inProgressRoll &&
    asked &&
    JSON.stringify(asked) !== JSON.stringify(inProgressRoll.pools ? [...inProgressRoll.pools].sort() : undefined)
  ) {
    throw new UserError(
      `a roll of ${inProgressRoll.pools?.join(", ") ?? "every pool"} to ${inProgressRoll.rollingTo} is in progress; finish it before rolling ${asked.join(", ")}`,
      {
        hint: `rerun it to finish it: eksbox nodegroup roll --env ${ctx.env.name}${inProgressRoll.pools ? inProgressRoll.pools.map((p) => ` --pool ${p}`).join("") : ""}`,
      },
    );
  }
  const pools = poolsToRoll(ctx, asked ?? inProgressRoll?.pools);
  ctx.roll.liveVersions = new Map([...liveGroups].filter(([, ng]) => pools.includes(ng.pool)).map(([name, ng]) => [name, ng.version]));
  // The pools' configured version, when they all say the same (the shorthand: worker.version).
  const configuredVersions = new Set(pools.map((pool) => ctx.env.config.nodePools[pool]?.version));
  const configured = configuredVersions.size === 1 ? [...configuredVersions][0] : undefined;
  if (opts.toVersion && inProgress && opts.toVersion !== inProgress) {
    throw new UserError(`a roll to ${inProgress} is in progress; finish it before rolling to ${opts.toVersion}`, {
      hint: `rerun without --to-version to finish it: eksbox nodegroup roll --env ${ctx.env.name}`,
    });
  }
  // A roll asked for moves to a new version. Only a roll in progress may target what runs already
  // (its old nodegroups may be gone, its record not yet written).
  const live = new Set(ctx.roll.liveVersions.values());
  const fresh = freshVersion(opts.now ?? new Date(), live);
  const runsAlready = (version: string) => inProgress === undefined && live.size > 0 && [...live].every((v) => v === version);
  const refuse = (version: string, from: string) =>
    new UserError(`the nodegroups run version ${version} already: a roll to it would change nothing`, {
      hint:
        `roll to a new version: eksbox nodegroup roll --env ${ctx.env.name} --to-version ${fresh}` +
        (from === "worker.version" ? " (or bump worker.version in git)" : ""),
    });
  let target: string;
  if (opts.toVersion !== undefined) {
    if (runsAlready(opts.toVersion)) throw refuse(opts.toVersion, "--to-version");
    target = opts.toVersion;
  } else if (inProgress !== undefined) {
    target = inProgress;
  } else if (opts.onlyIfSpecChanged && !(await specChanged(ctx))) {
    // born --roll with no launch spec changed: the live version stays, the roll's steps find nothing to do.
    target = newestVersion(live) ?? fresh;
  } else if (configured !== undefined) {
    if (runsAlready(configured)) throw refuse(configured, "worker.version");
    target = configured;
  } else {
    target = fresh;
  }
  ctx.roll.target = target;
  ctx.roll.pools = pools;
  return Object.fromEntries(pools.map((pool) => [pool, target]));
}

/** Whether any live nodegroup of the newest version was launched from another spec than the config renders now. */
async function specChanged(ctx: RollContext): Promise<boolean> {
  const newest = newestVersion(ctx.roll.liveVersions.values());
  if (newest === undefined) return false;
  const current = [...ctx.roll.liveVersions].filter(([, v]) => v === newest).map(([name]) => name);
  return (await specDrift(ctx, newest, current)).length > 0;
}

function oldNodegroups(ctx: RollContext): string[] {
  return [...ctx.roll.liveVersions].filter(([, v]) => v !== ctx.roll.target).map(([name]) => name);
}

/** The rendered nodegroups of the pools being rolled. */
function rolledNodegroups(ctx: RollContext): string[] {
  const rendered = requireRendered(ctx);
  return rendered.nodegroupNames.filter((name) => ctx.roll.pools.includes(rendered.nodegroupPools[name] ?? ""));
}

/** --pool arguments that repeat this roll (for messages and the roll state). */
function rolledPoolsIfNotAll(ctx: RollContext): string[] | undefined {
  const all = nodegroupPools(ctx.env).map(([name]) => name);
  return ctx.roll.pools.length === all.length ? undefined : ctx.roll.pools;
}

const createNewStep: Step<RollContext> = {
  id: "create-new",
  description: "create the new version's nodegroups",
  needs: ["generate"],
  async decide(ctx) {
    const names = rolledNodegroups(ctx);
    const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
    const missing = names.filter((name) => !live.has(name));
    const some = rolledPoolsIfNotAll(ctx);
    const what = some ? `pool ${some.join(", ")} to version ${ctx.roll.target}` : `version ${ctx.roll.target}`;
    if (missing.length === 0) return skipDecision(`${what}: all ${names.length} nodegroups exist`);
    const paths = envPaths(ctx.env.name);
    return runDecision(
      `${what}: missing ${missing.join(", ")}`,
      [["eksctl", "create", "nodegroup", "-f", paths.nodegroups, `--include=${missing.join(",")}`]],
      { files: [paths.nodegroups], done: `created ${missing.join(", ")}` },
    );
  },
  async run(ctx, decision) {
    // Remember the target before creating anything, so a rerun tomorrow finishes this roll.
    await writeRollTarget(ctx, ctx.roll.target, rolledPoolsIfNotAll(ctx));
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("nodegroups");
  },
};

export interface NodeList {
  items?: { metadata?: { labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } }[];
}

/** Ready nodes per nodegroup, from `kubectl get nodes -o json` (also the mode switch's check). */
export function readyNodesByNodegroup(list: NodeList): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of list.items ?? []) {
    const group = node.metadata?.labels?.["alpha.eksctl.io/nodegroup-name"] ?? node.metadata?.labels?.["eks.amazonaws.com/nodegroup"];
    const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (group && ready) counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return counts;
}

/** Ready nodes each new nodegroup needs: its pool's minSize (at least one). */
function readyNodesNeeded(ctx: RollContext): number {
  return Math.max(1, Math.min(...ctx.roll.pools.map((pool) => ctx.env.config.nodePools[pool]?.minSize ?? 1)));
}

function readyQuery(ctx: RollContext, names: readonly string[]): string[] {
  return nodegroupReadyQuery(ctx.env.name, names);
}

/** The nodes of some nodegroups, as JSON for readyNodesByNodegroup. */
export function nodegroupReadyQuery(envName: string, names: readonly string[]): string[] {
  return [
    "kubectl",
    "--kubeconfig",
    envPaths(envName).kubeconfig,
    "get",
    "nodes",
    "-l",
    `alpha.eksctl.io/nodegroup-name in (${names.join(",")})`,
    "-o",
    "json",
  ];
}

/** The nodegroups with fewer Ready nodes than needed, from `kubectl get nodes -o json` output. */
function stillWaiting(json: string, names: readonly string[], needed: number): string[] {
  let counts: Map<string, number>;
  try {
    counts = readyNodesByNodegroup(JSON.parse(json) as NodeList);
  } catch {
    return [...names];
  }
  return names.filter((name) => (counts.get(name) ?? 0) < needed);
}

function waitReadyStep(opts: RollOptions): Step<RollContext> {
  return {
    id: "wait-ready",
    description: "wait until the new nodegroups' nodes are Ready",
    needs: ["create-new"],
    async decide(ctx) {
      const names = rolledNodegroups(ctx);
      const needed = readyNodesNeeded(ctx);
      const argv = readyQuery(ctx, names);
      // When the new nodegroups exist already (a rerun), ask once: Ready nodes mean nothing to wait for.
      const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
      if (names.every((name) => live.has(name))) {
        const probe = await ctx.toolbox.run({ step: stepId(ctx), argv, captureStdout: true, output: probeOutput(ctx.events, stepId(ctx)) });
        const waiting = probe.exitCode === 0 ? stillWaiting(probe.stdout, names, needed) : names;
        if (waiting.length === 0) return skipDecision(`each new nodegroup has ${needed} Ready node(s) or more`);
      }
      return runDecision(`need ${needed} Ready node(s) in each of ${names.join(", ")}`, [argv], {
        done: `${names.join(", ")} have ${needed} Ready node(s) or more each`,
      });
    },
    async run(ctx, decision) {
      const names = rolledNodegroups(ctx);
      const needed = readyNodesNeeded(ctx);
      const argv = [...decision.commands[0]!.argv];
      await pollUntilDone<string[]>({
        signal: ctx.signal,
        events: ctx.events,
        timeoutMs: opts.readyTimeoutMs ?? 20 * 60_000,
        intervalMs: opts.pollIntervalMs ?? 10_000,
        look: async () => {
          const counts = readyNodesByNodegroup(await runJson<NodeList>(ctx.toolbox, stepId(ctx), argv));
          const waiting = names.filter((name) => (counts.get(name) ?? 0) < needed);
          return waiting.length === 0 ? undefined : waiting;
        },
        waiting: (waiting) => `waiting for Ready nodes in ${waiting.join(", ")}`,
        aborted: () => new AbortedError("stopped waiting for Ready nodes: interrupted; the old nodegroups were left untouched"),
        timedOut: (waiting) =>
          new StepFailedError({
            step: stepId(ctx),
            argv,
            message: `timed out: ${waiting.join(", ")} still have fewer than ${needed} Ready node(s)`,
            hint: "look at the nodegroups' instances and kubelet logs; the old nodegroups were left untouched. Rerun roll to keep waiting.",
          }),
      });
    },
  };
}

const deleteOldStep: Step<RollContext> = {
  id: "delete-old",
  description: "drain and delete the old nodegroups",
  needs: ["wait-ready"],
  async decide(ctx) {
    const old = oldNodegroups(ctx);
    if (old.length === 0) return skipDecision("no nodegroups of an older version");
    return runDecision(
      `old: ${old.join(", ")}`,
      old.map((name) => drainAndDeleteNodegroupArgv(ctx.facts.clusterName, ctx.facts.region, name)),
      { done: `drained and deleted ${old.join(", ")}`, destructive: drainAndDelete(old) },
    );
  },
  async run(ctx, decision) {
    // Re-check just before deleting: every new nodegroup must still be there.
    ctx.facts.forget("nodegroups");
    const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
    const absent = rolledNodegroups(ctx).filter((name) => !live.has(name));
    if (absent.length > 0) {
      throw new StepFailedError({
        step: stepId(ctx),
        message: `refusing to delete the old nodegroups: the new ${absent.join(", ")} are gone`,
        hint: "rerun roll to recreate them first",
      });
    }
    // One at a time: draining one zone's nodes while the others keep serving.
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("nodegroups");
  },
};

const drainAndDelete = (names: readonly string[]) => `drain and delete nodegroup(s) ${names.join(", ")}`;

/** A roll's plan as what it would destroy: each nodegroup delete-old drains and deletes, and any other step's destructive action. */
function destroyedBy(entries: readonly PlanEntry[]): { nodegroups: string[]; others: string[] } {
  const nodegroups: string[] = [];
  const others: string[] = [];
  for (const entry of entries) {
    const decision = entry.decision;
    if (decision?.action !== "run" || decision.destructive === undefined) continue;
    if (entry.id === deleteOldStep.id) nodegroups.push(...decision.commands.map((c) => nodegroupDeletedBy(c.argv) ?? c.argv.join(" ")));
    else others.push(decision.destructive);
  }
  return { nodegroups, others };
}

/**
 * What a roll's plan would destroy beyond an earlier plan of the same roll (born --roll confirms the
 * roll before born runs and plans it again after), as lines for the guard: none when it is within it.
 */
export function rollActionsBeyond(entries: readonly PlanEntry[], earlier: readonly PlanEntry[] = []): string[] {
  const now = destroyedBy(entries);
  const before = destroyedBy(earlier);
  const nodegroups = now.nodegroups.filter((name) => !before.nodegroups.includes(name));
  return [...(nodegroups.length > 0 ? [drainAndDelete(nodegroups)] : []), ...now.others.filter((a) => !before.others.includes(a))];
}

const recordStep: Step<RollContext> = {
  id: "record",
  description: "record the new nodegroup version",
  needs: ["delete-old"],
  async decide(ctx) {
    const recorded = await readPoolVersions(ctx.projectRoot, ctx.env.name, ctx.roll.pools).catch(() => ({}) as Record<string, string>);
    const inProgress = await readRollTarget(ctx);
    const allRecorded = ctx.roll.pools.every((pool) => recorded[pool] === ctx.roll.target);
    const some = rolledPoolsIfNotAll(ctx);
    const forPools = some ? ` for pool ${some.join(", ")}` : "";
    if (allRecorded && !inProgress) return skipDecision(`version ${ctx.roll.target} is recorded${forPools}`);
    return runDecision(`record version ${ctx.roll.target}${forPools}`, [], { done: `recorded version ${ctx.roll.target}${forPools}` });
  },
  async run(ctx) {
    await recordPoolVersions(ctx.projectRoot, ctx.env.name, Object.fromEntries(ctx.roll.pools.map((pool) => [pool, ctx.roll.target!])));
    await writeRollTarget(ctx, undefined);
  },
};

export function rollTask(opts: RollOptions = {}): Task<RollContext, LifecycleContext> {
  return {
    name: "nodegroup roll",
    concurrency: 1,
    extend: rollContext,
    steps: [
      preflightStep,
      generateStep({ workerVersion: (ctx) => chooseTarget(ctx as RollContext, opts) }),
      createNewStep,
      waitReadyStep(opts),
      deleteOldStep,
      recordStep,
    ],
  };
}

export function rollContext<C extends LifecycleContext>(base: C): C & RollContext {
  return Object.assign(base, { roll: { pools: [], liveVersions: new Map<string, string>() } });
}
