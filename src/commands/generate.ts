// `eksbox generate`: writes build/<env>/cluster.yaml and nodegroups.yaml for eksctl. The nodegroup
// version is the config's worker.version; else, whenever AWS can be asked, the version of the live
// nodegroups (or the target of a roll in progress), so a fresh checkout writes the same bytes as the
// machine that created the cluster; else (offline) the recorded one or today's, saying so.
import path from "node:path";
import type { CommandContext } from "../core/context.js";
import type { EventSink } from "../core/events.js";
import { log } from "../core/events.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import type { Environment } from "../config/schema.js";
import { resolveWorkerVersion } from "../config/worker-version.js";
import { newRunId } from "../core/layout.js";
import { recordWorkerVersion, workerStateFile } from "../core/state.js";
import { formatIssue } from "../core/errors.js";
import { generateEnvironment } from "../render/render.js";
import { openToolbox } from "../runtime/toolbox.js";
import { CloudFacts } from "../steps/cloud.js";
import { readRollTarget } from "../steps/cluster-state.js";
import { liveNodegroupVersions, newestVersion, type LifecycleContext } from "../steps/lifecycle.js";
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
  const chosen = await chooseWorkerVersion(ctx, env, opts);
  const { rendered, written } = await generateEnvironment(ctx.projectRoot, env, { outDir: opts.out, workerVersion: chosen.version });
  if (chosen.note) log.warn(ctx.events, chosen.note);
  for (const warning of env.warnings ?? []) ctx.events.emit({ type: "log", level: "warn", message: formatIssue(warning) });
  const shown = written.map((file) => path.relative(ctx.projectRoot, file) || file);
  if (ctx.output === "json") {
    ctx.stdout.write(
      `${JSON.stringify({ env: name, workerVersion: rendered.workerVersion, workerVersionFrom: chosen.origin, nodegroups: rendered.nodegroupNames, written })}\n`,
    );
  } else {
    ctx.stdout.write(`${shown.map((file) => `wrote ${file}`).join("\n")}\n`);
  }
}

async function chooseWorkerVersion(
  ctx: CommandContext,
  env: Environment,
  opts: GenerateOptions,
): Promise<{ version: string; origin: WorkerVersionOrigin; note?: string }> {
  if (env.config.worker?.version) return { version: env.config.worker.version, origin: "config" };
  let why = "--offline";
  if (!opts.offline) {
    try {
      const asked = await askCloud(ctx, env, opts);
      if (asked.version) {
        await recordWorkerVersion(ctx.projectRoot, env.name, asked.version);
        return { version: asked.version, origin: "cloud" };
      }
      why = asked.why;
    } catch (error) {
      why = `AWS could not be asked (${(error instanceof Error ? error.message : String(error)).split("\n")[0]})`;
    }
  }
  const resolved = await resolveWorkerVersion(ctx.projectRoot, env);
  const file = path.relative(ctx.projectRoot, workerStateFile(ctx.projectRoot, env.name));
  const assumed =
    resolved.source === "state"
      ? `the version recorded in ${file}`
      : `today's date, a new version (recorded in ${file}, so the next generate writes the same files)`;
  return {
    version: resolved.version,
    origin: resolved.source === "state" ? "state" : "new",
    note: `nodegroup version ${resolved.version} assumed: ${why}; it is ${assumed}. Set worker.version in the config to pin it`,
  };
}

/** The live nodegroups' version (or a roll's target), asked through the toolbox; `why` when there is none. */
async function askCloud(ctx: CommandContext, env: Environment, opts: GenerateOptions): Promise<{ version?: string; why: string }> {
  const { aws, cluster } = env.config;
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
    if (identity.Account !== aws.accountId) return { why: `the credentials are for account ${identity.Account}, not ${aws.accountId}` };
    if (!(await facts.cluster())) return { why: `cluster ${cluster.name} does not exist in ${aws.region} yet` };
    // Only the parts of a lifecycle context that reading the live versions needs.
    const lc = { toolbox, events: quiet, projectRoot: ctx.projectRoot, env, facts, step: "generate" } as unknown as LifecycleContext;
    const live = await liveNodegroupVersions(lc);
    const version = (await readRollTarget(lc, live)) ?? newestVersion(live.values());
    return version ? { version, why: "" } : { why: `cluster ${cluster.name} has no nodegroups of eksbox's naming yet` };
  } finally {
    await toolbox.dispose();
  }
}
