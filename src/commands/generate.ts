// `eksbox generate`: writes build/<env>/cluster.yaml and nodegroups.yaml for eksctl. Each pool's
// nodegroup version is its `version` in config; else, whenever AWS can be asked, the version of that
// pool's live nodegroups (or the target of a roll in progress), so a fresh checkout writes the same
// bytes as the machine that created the cluster; else (offline, or a pool with none live) the
// recorded one or today's, saying so for that pool.
import path from "node:path";
import type { CommandContext } from "../core/context.js";
import type { EventSink } from "../core/events.js";
import { log } from "../core/events.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import type { Environment } from "../config/schema.js";
import { resolvePoolVersions } from "../config/worker-version.js";
import { newRunId } from "../core/layout.js";
import { readPoolVersions, recordPoolVersions, workerStateFile } from "../core/state.js";
import { formatIssue } from "../core/errors.js";
import { generateEnvironment } from "../render/render.js";
import { openToolbox } from "../runtime/toolbox.js";
import { CloudFacts } from "../steps/cloud.js";
import { readRoll } from "../steps/cluster-state.js";
import { liveNodegroups, newestVersion, type LifecycleContext } from "../steps/lifecycle.js";
import { fleetEnvironments, runFleet } from "./fleet.js";

export interface GenerateOptions {
  env?: string;
  out?: string;
  set?: string[];
  image?: string;
  /** Every environment (or the --env list). */
  all?: boolean;
  /** Do not ask AWS for the live nodegroups' version. */
  offline?: boolean;
}

export type WorkerVersionOrigin = "config" | "cloud" | "state" | "new";

export async function generateCommand(ctx: CommandContext, opts: GenerateOptions): Promise<void> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    // CPU-bound rendering: one at a time gains nothing from running side by side.
    await runFleet(ctx, names, 1, {
      name: "generate",
      runOne: (child, env) =>
        generateCommand(child, { ...opts, all: undefined, env, out: opts.out ? path.join(opts.out, env) : undefined }),
      columns: ["WORKER VERSION", "NODEGROUPS"],
      row(r) {
        const result = r.result as { workerVersion: string; nodegroups: string[] };
        return [result.workerVersion, result.nodegroups.join(", ")];
      },
    });
    return;
  }
  const name = await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const env = await loadEnvironment(ctx.projectRoot, name, { sets: opts.set });
  const chosen = await choosePoolVersions(ctx, env, opts);
  const { rendered, written } = await generateEnvironment(ctx.projectRoot, env, { outDir: opts.out, versions: chosen.versions });
  for (const note of chosen.notes) log.warn(ctx.events, note);
  for (const warning of env.warnings ?? []) ctx.events.emit({ type: "log", level: "warn", message: formatIssue(warning) });
  const shown = written.map((file) => path.relative(ctx.projectRoot, file) || file);
  const origins = new Set(Object.values(chosen.origins));
  if (ctx.output === "json") {
    ctx.stdout.write(
      `${JSON.stringify({
        env: name,
        workerVersion: rendered.workerVersion,
        workerVersionFrom: origins.size === 1 ? [...origins][0] : "mixed",
        versions: rendered.versions,
        versionsFrom: chosen.origins,
        nodegroups: rendered.nodegroupNames,
        written,
      })}\n`,
    );
  } else {
    ctx.stdout.write(`${shown.map((file) => `wrote ${file}`).join("\n")}\n`);
  }
}

interface PoolVersions {
  versions: Record<string, string>;
  origins: Record<string, WorkerVersionOrigin>;
  /** One warning per pool whose version was assumed, saying which and why. */
  notes: string[];
}

/**
 * Each pool's version: its `version` in config; else (AWS reachable) the version of that pool's own
 * live nodegroups, or a roll's target when the pool is being rolled; else the recorded one or today's.
 */
async function choosePoolVersions(ctx: CommandContext, env: Environment, opts: GenerateOptions): Promise<PoolVersions> {
  const versions: Record<string, string> = {};
  const origins: Record<string, WorkerVersionOrigin> = {};
  for (const [pool, config] of Object.entries(env.config.nodePools)) {
    if (config.version) [versions[pool], origins[pool]] = [config.version, "config"];
  }
  const open = Object.keys(env.config.nodePools).filter((pool) => versions[pool] === undefined);
  if (open.length === 0) return { versions, origins, notes: [] };
  let why: (pool: string) => string = () => "--offline";
  if (!opts.offline) {
    try {
      const asked = await askCloud(ctx, env, opts);
      const fromCloud: Record<string, string> = {};
      for (const pool of open) {
        const version = asked.versions[pool];
        if (version) [versions[pool], origins[pool], fromCloud[pool]] = [version, "cloud", version];
      }
      await recordPoolVersions(ctx.projectRoot, env.name, fromCloud);
      why = asked.why;
    } catch (error) {
      const reason = `AWS could not be asked (${(error instanceof Error ? error.message : String(error)).split("\n")[0]})`;
      why = () => reason;
    }
  }
  const assumed = open.filter((pool) => versions[pool] === undefined);
  if (assumed.length === 0) return { versions, origins, notes: [] };
  const recorded = await readPoolVersions(ctx.projectRoot, env.name, assumed);
  const resolved = await resolvePoolVersions(ctx.projectRoot, env);
  const file = path.relative(ctx.projectRoot, workerStateFile(ctx.projectRoot, env.name));
  const shorthand = env.config.worker !== undefined;
  const notes = assumed.map((pool) => {
    const version = resolved[pool]!;
    versions[pool] = version;
    origins[pool] = recorded[pool] !== undefined ? "state" : "new";
    const it =
      origins[pool] === "state"
        ? `the version recorded in ${file}`
        : `today's date, a new version (recorded in ${file}, so the next generate writes the same files)`;
    return shorthand
      ? `nodegroup version ${version} assumed: ${why(pool)}; it is ${it}. Set worker.version in the config to pin it`
      : `pool ${pool}: nodegroup version ${version} assumed: ${why(pool)}; it is ${it}. Set nodePools.${pool}.version in the config to pin it`;
  });
  return { versions, origins, notes };
}

/** Each pool's live version (a roll's target for a pool being rolled), asked through the toolbox; `why` a pool has none. */
async function askCloud(
  ctx: CommandContext,
  env: Environment,
  opts: GenerateOptions,
): Promise<{ versions: Record<string, string>; why: (pool: string) => string }> {
  const { aws, cluster } = env.config;
  const none = (reason: string) => ({ versions: {}, why: () => reason });
  // Only what goes wrong is worth showing: the toolbox's own progress is not generate's output.
  const quiet: EventSink = { emit: (event) => event.type === "log" && event.level === "debug" && ctx.events.emit(event) };
  const toolbox = await openToolbox({
    projectRoot: ctx.projectRoot,
    envName: env.name,
    aws: { profile: aws.profile || undefined, region: aws.region, endpointUrl: aws.endpointUrl },
    imageRef: opts.image,
    runId: newRunId(),
    events: quiet,
    interrupter: ctx.interrupter,
    processEnv: ctx.processEnv,
    onlyIfImagePresent: true,
  });
  try {
    const facts = new CloudFacts(toolbox, cluster.name, aws.region).forStep("generate");
    const identity = await facts.identity();
    if (identity.Account !== aws.accountId) return none(`the credentials are for account ${identity.Account}, not ${aws.accountId}`);
    if (!(await facts.cluster())) return none(`cluster ${cluster.name} does not exist in ${aws.region} yet`);
    // Only the parts of a lifecycle context that reading the live versions needs.
    const lc = { toolbox, events: quiet, projectRoot: ctx.projectRoot, env, facts, step: "generate" } as unknown as LifecycleContext;
    const live = await liveNodegroups(lc);
    const roll = await readRoll(lc, live);
    const versions: Record<string, string> = {};
    for (const pool of Object.keys(env.config.nodePools)) {
      const own = newestVersion([...live.values()].filter((ng) => ng.pool === pool).map((ng) => ng.version));
      const rolling = roll && (roll.pools === undefined || roll.pools.includes(pool)) ? roll.rollingTo : undefined;
      const version = own === undefined ? undefined : (rolling ?? own);
      if (version) versions[pool] = version;
    }
    return { versions, why: (pool) => `cluster ${cluster.name} has no nodegroups of pool ${pool} (eksbox's naming) yet` };
  } finally {
    await toolbox.dispose();
  }
}
