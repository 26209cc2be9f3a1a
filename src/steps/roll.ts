// nodegroup roll: blue/green rotation of the worker nodegroups, the reason they carry a version.
//   preflight -> generate (next version) -> create-new -> wait-ready -> delete-old -> record
// Old nodegroups are deleted only once every new one exists and has Ready nodes, so the last
// working set is never removed. A roll that stops part-way is remembered and finished by a rerun.
import { AbortedError, StepFailedError, UserError } from "../core/errors.js";
import { resolveWorkerVersion } from "../config/worker-version.js";
import { envPaths } from "../core/layout.js";
import { recordWorkerVersion } from "../core/state.js";
import { readRollTarget, writeRollTarget } from "./cluster-state.js";
import { probeOutput, runJson } from "./cloud.js";
import {
  clusterArgs,
  clusterMissing,
  freshVersion,
  liveNodegroupVersions,
  newestVersion,
  requireRendered,
  type LifecycleContext,
} from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type Task, runPlannedCommands, stepId } from "./model.js";
import { generateStep, preflightStep } from "./common-steps.js";
import { specDrift } from "./converge/converge.js";

export interface RollOptions {
  /** The version to roll to; default: worker.version from config, a roll in progress, or today. */
  toVersion?: string;
  /** How long to wait for the new nodes to be Ready. */
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  now?: Date;
  /** From born --roll: roll only when a nodegroup's launch spec changed (otherwise nothing to do). */
  onlyIfSpecChanged?: boolean;
}

interface RollContext extends LifecycleContext {
  roll: { target?: string; liveVersions: Map<string, string> };
}

async function chooseTarget(ctx: RollContext, opts: RollOptions): Promise<string> {
  if (!(await ctx.facts.cluster())) throw clusterMissing(ctx, "nodegroup roll");
  ctx.roll.liveVersions = await liveNodegroupVersions(ctx);
  const inProgress = await readRollTarget(ctx, ctx.roll.liveVersions);
  const configured = ctx.env.config.worker.version;
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
      hint: `roll to a new version: eksbox nodegroup roll --env ${ctx.env.name} --to-version ${fresh}` + (from === "worker.version" ? " (or bump worker.version in git)" : ""),
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
  return target;
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

const createNewStep: Step<RollContext> = {
  id: "create-new",
  description: "create the new version's nodegroups",
  needs: ["generate"],
  async decide(ctx) {
    const rendered = requireRendered(ctx);
    const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
    const missing = rendered.nodegroupNames.filter((name) => !live.has(name));
    if (missing.length === 0) return skipDecision(`version ${rendered.workerVersion}: all ${rendered.nodegroupNames.length} nodegroups exist`);
    const paths = envPaths(ctx.env.name);
    return runDecision(`version ${rendered.workerVersion}: missing ${missing.join(", ")}`, [
      ["eksctl", "create", "nodegroup", "-f", paths.nodegroups, `--include=${missing.join(",")}`],
    ], { files: [paths.nodegroups], done: `created ${missing.join(", ")}` });
  },
  async run(ctx, decision) {
    // Tag the cluster with the target before creating anything, so a rerun tomorrow, from any
    // machine, finishes this roll rather than starting a third set of nodegroups.
    await writeRollTarget(ctx, ctx.roll.target);
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("nodegroups");
  },
};

interface NodeList {
  items?: { metadata?: { labels?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } }[];
}

function readyNodesByNodegroup(list: NodeList): Map<string, number> {
  const counts = new Map<string, number>();
  for (const node of list.items ?? []) {
    const group = node.metadata?.labels?.["alpha.eksctl.io/nodegroup-name"] ?? node.metadata?.labels?.["eks.amazonaws.com/nodegroup"];
    const ready = node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (group && ready) counts.set(group, (counts.get(group) ?? 0) + 1);
  }
  return counts;
}

function readyNodesNeeded(ctx: RollContext): number {
  return Math.max(1, ctx.env.config.worker.minSize);
}

function readyQuery(ctx: RollContext, names: readonly string[]): string[] {
  return ["kubectl", "--kubeconfig", envPaths(ctx.env.name).kubeconfig, "get", "nodes", "-l", `alpha.eksctl.io/nodegroup-name in (${names.join(",")})`, "-o", "json"];
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

function waitReadyStep(opts: RollOptions): Step<RollContext> {
  return {
    id: "wait-ready",
    description: "wait until the new nodegroups' nodes are Ready",
    needs: ["create-new"],
    async decide(ctx) {
      const names = requireRendered(ctx).nodegroupNames;
      const needed = readyNodesNeeded(ctx);
      const argv = readyQuery(ctx, names);
      // When the new nodegroups exist already (a rerun), ask once: Ready nodes mean nothing to wait for.
      const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
      if (names.every((name) => live.has(name))) {
        const probe = await ctx.toolbox.run({ step: stepId(ctx), argv, captureStdout: true, output: probeOutput(ctx.events, stepId(ctx)) });
        const waiting = probe.exitCode === 0 ? stillWaiting(probe.stdout, names, needed) : names;
        if (waiting.length === 0) return skipDecision(`each new nodegroup has ${needed} Ready node(s) or more`);
      }
      return runDecision(`need ${needed} Ready node(s) in each of ${names.join(", ")}`, [argv], { done: `${names.join(", ")} have ${needed} Ready node(s) or more each` });
    },
    async run(ctx, decision) {
      const names = requireRendered(ctx).nodegroupNames;
      const needed = readyNodesNeeded(ctx);
      const argv = [...decision.commands[0]!.argv];
      const deadline = Date.now() + (opts.readyTimeoutMs ?? 20 * 60_000);
      for (;;) {
        const counts = readyNodesByNodegroup(await runJson<NodeList>(ctx.toolbox, stepId(ctx), argv));
        const waiting = names.filter((name) => (counts.get(name) ?? 0) < needed);
        if (waiting.length === 0) return;
        if (ctx.signal.aborted) throw new AbortedError("stopped waiting for Ready nodes: interrupted; the old nodegroups were left untouched");
        if (Date.now() > deadline) {
          throw new StepFailedError({
            step: stepId(ctx),
            argv,
            message: `timed out: ${waiting.join(", ")} still have fewer than ${needed} Ready node(s)`,
            hint: "look at the nodegroups' instances and kubelet logs; the old nodegroups were left untouched. Rerun roll to keep waiting.",
          });
        }
        ctx.events.emit({ type: "log", level: "info", message: `waiting for Ready nodes in ${waiting.join(", ")}` });
        await sleep(opts.pollIntervalMs ?? 10_000, ctx.signal);
      }
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
    return runDecision(`old: ${old.join(", ")}`, old.map((name) => [
      "eksctl", "delete", "nodegroup", ...clusterArgs(ctx), "--name", name, "--drain", "--approve", "--wait",
    ]), { done: `drained and deleted ${old.join(", ")}`, destructive: `drain and delete nodegroup(s) ${old.join(", ")}` });
  },
  async run(ctx, decision) {
    // Re-check just before deleting: every new nodegroup must still be there.
    ctx.facts.forget("nodegroups");
    const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
    const absent = requireRendered(ctx).nodegroupNames.filter((name) => !live.has(name));
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

const recordStep: Step<RollContext> = {
  id: "record",
  description: "record the new nodegroup version",
  needs: ["delete-old"],
  async decide(ctx) {
    const recorded = await resolveWorkerVersion(ctx.projectRoot, ctx.env, { record: false }).catch(() => undefined);
    const inProgress = await readRollTarget(ctx);
    if (recorded?.version === ctx.roll.target && !inProgress) return skipDecision(`version ${ctx.roll.target} is recorded`);
    return runDecision(`record version ${ctx.roll.target}`, [], { done: `recorded version ${ctx.roll.target}` });
  },
  async run(ctx) {
    await recordWorkerVersion(ctx.projectRoot, ctx.env.name, ctx.roll.target!);
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
  return Object.assign(base, { roll: { liveVersions: new Map<string, string>() } });
}

