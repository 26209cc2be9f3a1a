// What the lifecycle tasks (born, roll, destroy, upgrade) share: their context and how a live nodegroup is recognised as one of ours and its version read off its name.
import type { Environment } from "../config/schema.js";
import { UserError } from "../core/errors.js";
import { NODEGROUP_VERSION_SOURCE } from "../core/layout.js";
import { todaysVersion } from "../config/worker-version.js";
import { renderEnvironment, type RenderedEnvironment } from "../render/render.js";
import type { CloudFacts } from "./cloud.js";
import type { Change } from "./converge/change.js";
import type { StepContext } from "./model.js";

/** What born was asked to do beyond creating and updating in place. */
export interface ConvergeOptions {
  /** Replace nodegroups whose launch spec changed (a roll). */
  roll?: boolean;
  /** Delete live things of eksbox's kind that the config no longer names. */
  prune?: boolean;
  /** Confirmation of destructive changes. */
  yes?: boolean;
  allowProtected?: boolean;
  /** The destructive changes confirmed before born started (converge/guard.ts changeKey): the steps let these through without --yes. */
  confirmed?: string[];
  /** How the user runs this born again with the confirmation, when not as `eksbox born` (a user task's own command line). */
  command?: string;
  /** Set nodegroups' desired capacity to the config's (otherwise the autoscaler's). */
  resetDesired?: boolean;
  /** After a switch of autoscaling.mode: how long to wait for the new capacity's Ready nodes before removing the old. */
  readyTimeoutMs?: number;
  /** From a saved plan: refuse when the live state or the changes differ from it. */
  savedPlan?: { fingerprint: string; changes: Change[]; file: string };
}

export interface LifecycleContext extends StepContext {
  projectRoot: string;
  env: Environment;
  facts: CloudFacts;
  /** Set by the generate step for the steps after it. */
  rendered?: RenderedEnvironment;
  processEnv: NodeJS.ProcessEnv;
  /** born's options for changes beyond create and update in place (--roll, --prune, --yes, a saved plan). */
  converge?: ConvergeOptions;
  /** Today, for the support calendar and insight ages; tests inject it. */
  clock?: () => Date;
}

export function clusterArgs(ctx: LifecycleContext): string[] {
  return ["--cluster", ctx.facts.clusterName, "--region", ctx.facts.region];
}

export function requireRendered(ctx: LifecycleContext): RenderedEnvironment {
  if (!ctx.rendered) throw new Error("internal: the generate step has not run");
  return ctx.rendered;
}

/**
 * Templates are the user's to edit, so nodegroup names are not parsed by a fixed rule: the
 * templates are rendered once with a probe version, and wherever the probe appears in a name is
 * where a live name's version must be. Only names that fit are ever treated as ours (roll and
 * upgrade never touch a nodegroup that does not).
 */
const PROBE_VERSION = "qqprobeqq";

export interface NodegroupNaming {
  /** The version of a live nodegroup of ours, or undefined when the name is not one of ours. */
  versionOf(name: string): string | undefined;
  /** The pool and version of a live nodegroup of ours. */
  identify(name: string): { pool: string; version: string } | undefined;
}

/** A zone no config has, to find where a zone's suffix goes in a name. */
const PROBE_ZONE = "qqzone-qqzoneqq";

/**
 * With `anyZone`, names of zones the config no longer has count as ours too (converge must see the
 * nodegroup of a zone taken out of worker.zones, to drain and delete it).
 */
export async function nodegroupNaming(projectRoot: string, env: Environment, opts: { anyZone?: boolean } = {}): Promise<NodegroupNaming> {
  const withProbeZone = Object.fromEntries(
    Object.entries(env.config.nodePools).map(([name, pool]) => [name, { ...pool, zones: [...pool.zones, PROBE_ZONE] }]),
  );
  const probeEnv = opts.anyZone ? { ...env, config: { ...env.config, nodePools: withProbeZone } } : env;
  const probe = await renderEnvironment(projectRoot, probeEnv, { workerVersion: PROBE_VERSION });
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const zoneSuffix = PROBE_ZONE.split("-").pop()!;
  const patterns = probe.nodegroupNames
    .filter((name) => name.includes(PROBE_VERSION))
    .map((name) => {
      const parts = name.split(PROBE_VERSION).map((part) => part.split(zoneSuffix).map(escape).join("[a-z0-9]+"));
      return { pool: probe.nodegroupPools[name] ?? "", pattern: new RegExp(`^${parts.join(`(${NODEGROUP_VERSION_SOURCE})`)}$`) };
    });
  const identify = (name: string) => {
    for (const { pool, pattern } of patterns) {
      const match = pattern.exec(name);
      if (match) return { pool, version: match[1]! };
    }
    return undefined;
  };
  return { identify, versionOf: (name) => identify(name)?.version };
}

/** Our live nodegroups (names that fit the templates' naming), each with its pool and version. */
export async function liveNodegroups(ctx: LifecycleContext): Promise<Map<string, { pool: string; version: string }>> {
  const naming = await nodegroupNaming(ctx.projectRoot, ctx.env);
  const ours = new Map<string, { pool: string; version: string }>();
  for (const ng of await ctx.facts.nodegroups()) {
    const found = naming.identify(ng.name);
    if (found) ours.set(ng.name, found);
  }
  return ours;
}

/** Our live nodegroups (names that fit the templates' naming) and their version suffixes. */
export async function liveNodegroupVersions(ctx: LifecycleContext): Promise<Map<string, string>> {
  return new Map([...(await liveNodegroups(ctx))].map(([name, { version }]) => [name, version]));
}

/** The newest version among live nodegroups of ours (versions are dates, so they sort). */
export function newestVersion(versions: Iterable<string>): string | undefined {
  return [...versions].sort().at(-1);
}

/** Today's version, or today's with a letter when a live nodegroup already has it (born or rolled today). */
export function freshVersion(now: Date, taken: ReadonlySet<string>): string {
  const today = todaysVersion(now);
  if (!taken.has(today)) return today;
  for (const letter of "bcdefghijklmnopqrstuvwxyz") if (!taken.has(today + letter)) return today + letter;
  return `${today}z${taken.size}`;
}

export function clusterMissing(ctx: LifecycleContext, task: string): UserError {
  return new UserError(`cluster ${ctx.facts.clusterName} does not exist in ${ctx.facts.region}`, {
    hint: `create it first: eksbox born --env ${ctx.env.name}` + (task === "born" ? "" : ` (then rerun ${task})`),
  });
}
