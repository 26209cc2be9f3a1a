// upgrade: the control plane one minor version at a time (eksctl refuses bigger jumps), then the
// configured addons, then a nodegroup roll onto the new version.
//   preflight -> control-plane -> addons -> nodegroups.* (the roll, inlined) -> config
// Every step decides from the live cluster, so a rerun after a failure starts at the right hop.
// eksctl takes the target version from the config file's metadata.version (it refuses --version
// together with -f), so each hop gets its own rendered file: build/<env>/upgrade/cluster-<v>.yaml.
// The user's YAML is never rewritten: the last step says which line to change.
import { join } from "node:path";
import type { Environment } from "../config/schema.js";
import { DEFAULTS_FILE, environmentFile } from "../config/load.js";
import { readYamlSource } from "../config/yaml-source.js";
import { UserError } from "../core/errors.js";
import { writeFileAtomic } from "../core/files.js";
import { envPaths } from "../core/layout.js";
import { renderEnvironment } from "../render/render.js";
import { inlineTask } from "./inline.js";
import { runJson } from "./cloud.js";
import { insightsSummary, upgradeInsightsGate } from "./insights.js";
import { preflightStep } from "./common-steps.js";
import { clusterMissing, freshVersion, liveNodegroupVersions, type LifecycleContext } from "./lifecycle.js";
import { readRollTarget, readUpgradeState, writeUpgradeState } from "./cluster-state.js";
import { runDecision, skipDecision, type Step, type Task, runPlannedCommands, stepId } from "./model.js";
import { rollTask, type RollOptions } from "./roll.js";

/** The newest Kubernetes version the pinned eksctl (0.230.0) knows. */
export const NEWEST_KNOWN_VERSION = "1.35";

export interface UpgradeOptions {
  /** Target Kubernetes version; default: cluster.version from the config. */
  to?: string;
  /** Version suffix for the new nodegroups; default: a roll in progress, or today (made unique). */
  nodegroupVersion?: string;
  now?: Date;
  readyTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Upgrade even when an upgrade insight is in ERROR (recorded in the run). */
  force?: boolean;
}

export interface UpgradeContext extends LifecycleContext {
  upgrade: { live?: string; target?: string; hops?: string[]; advice?: string[] };
}

const minor = (version: string) => Number(version.split(".")[1]);

export function parseKubernetesVersion(text: string, what: string): string {
  if (!/^1\.\d{1,2}$/.test(text))
    throw new UserError(`${what} ${JSON.stringify(text)} is not a Kubernetes version`, { hint: "write it as 1.35 (major.minor)" });
  return text;
}

/** 1.33 -> 1.35 gives [1.34, 1.35]: every minor version on the way, as eksctl needs. */
export function upgradePath(live: string, target: string): string[] {
  if (minor(target) < minor(live)) {
    throw new UserError(`cannot downgrade: the cluster runs Kubernetes ${live}, the target is ${target}`, {
      hint: `EKS cannot go back; set cluster.version to "${live}" or later`,
    });
  }
  if (minor(target) > minor(NEWEST_KNOWN_VERSION)) {
    throw new UserError(`Kubernetes ${target} is newer than ${NEWEST_KNOWN_VERSION}, the newest this eksctl knows`, {
      hint: `upgrade to ${NEWEST_KNOWN_VERSION} at most, or a newer toolbox image with a newer eksctl first`,
    });
  }
  const hops: string[] = [];
  for (let m = minor(live) + 1; m <= minor(target); m++) hops.push(`1.${m}`);
  return hops;
}

export function hopFile(envName: string, version: string): string {
  return envPaths(envName).upgradeHop(version);
}

function withClusterVersion(env: Environment, version: string): Environment {
  return { ...env, config: { ...env.config, cluster: { ...env.config.cluster, version } } };
}

async function writeHopFile(ctx: LifecycleContext, version: string): Promise<string> {
  const file = hopFile(ctx.env.name, version);
  const rendered = await renderEnvironment(ctx.projectRoot, withClusterVersion(ctx.env, version), {
    workerVersion: ctx.env.config.worker?.version ?? "upgrade",
  });
  await writeFileAtomic(join(ctx.projectRoot, file), rendered.cluster.text);
  ctx.events.emit({ type: "file-written", path: file });
  return file;
}

function controlPlaneStep(opts: UpgradeOptions): Step<UpgradeContext> {
  return {
    id: "control-plane",
    description: "upgrade the control plane, one minor version at a time",
    needs: ["preflight"],
    async decide(ctx) {
      const cluster = await ctx.facts.cluster();
      if (!cluster) throw clusterMissing(ctx, "upgrade");
      if (cluster.status !== "ACTIVE") {
        throw new UserError(`cluster ${cluster.name} is ${cluster.status}, not ACTIVE`, {
          hint:
            cluster.status === "UPDATING"
              ? "an update is running; wait until it is ACTIVE (aws eks wait cluster-active), then rerun upgrade"
              : "wait until it is ACTIVE, then rerun upgrade",
        });
      }
      const live = parseKubernetesVersion(cluster.version ?? "", `the live version of cluster ${cluster.name}`);
      const target = parseKubernetesVersion(opts.to ?? ctx.env.config.cluster.version, opts.to ? "--to" : "cluster.version");
      const hops = upgradePath(live, target);
      ctx.upgrade = { live, target, hops };
      if (hops.length === 0) return skipDecision(`cluster ${cluster.name} runs Kubernetes ${live}`);
      // The first hop's insights are known now; each later hop's once the one before it is done.
      const insights = await upgradeInsightsGate(ctx, stepId(ctx), hops[0]!, { force: opts.force, pollIntervalMs: opts.pollIntervalMs });
      const later = hops.length > 1 ? `; the insights for ${hops.slice(1).join(", ")} are checked before each of those hops` : "";
      return runDecision(
        `Kubernetes ${[live, ...hops].join(" -> ")}; ${insightsSummary(insights)}${later}`,
        hops.map((v) => ["eksctl", "upgrade", "cluster", "-f", hopFile(ctx.env.name, v), "--approve"]),
        {
          files: hops.map((v) => hopFile(ctx.env.name, v)),
          done: `upgraded the control plane to Kubernetes ${target}`,
          destructive: `upgrade the control plane of ${cluster.name} to Kubernetes ${[live, ...hops].join(" -> ")} (one way: EKS has no downgrade)`,
        },
      );
    },
    async run(ctx, decision) {
      // Tagged on the cluster before the first hop, so a rerun from any machine rolls exactly the
      // nodegroups that were live when the upgrade began, and never rolls twice.
      const previous = await readUpgradeState(ctx);
      const rollFrom = previous?.rollFrom ?? [...new Set((await liveNodegroupVersions(ctx)).values())];
      await writeUpgradeState(ctx, { upgradingTo: ctx.upgrade.target!, rollFrom });
      for (const [index, { argv }] of decision.commands.entries()) {
        const hop = argv[argv.indexOf("-f") + 1]!.replace(/^.*cluster-(.*)\.yaml$/, "$1");
        if (index > 0) await upgradeInsightsGate(ctx, stepId(ctx), hop, { force: opts.force, pollIntervalMs: opts.pollIntervalMs });
        await writeHopFile(ctx, hop);
        await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
        ctx.facts.forget("cluster");
      }
    },
  };
}

interface AddonRow {
  Name?: string;
  Version?: string;
  NewerVersion?: string;
  Status?: string;
}

const addonsStep: Step<UpgradeContext> = {
  id: "addons",
  description: "update the configured addons for the new version",
  needs: ["control-plane"],
  async decide(ctx) {
    const target = ctx.upgrade.target!;
    const wanted = ctx.env.config.cluster.addons;
    if (wanted.length === 0) return skipDecision("no addons configured (cluster.addons)");
    const file = hopFile(ctx.env.name, target);
    const argv = ["eksctl", "update", "addon", "-f", file];
    if ((ctx.upgrade.hops ?? []).length > 0) {
      return runDecision(`after the control plane reaches ${target}: ${wanted.map((a) => a.name).join(", ")}`, [argv], {
        files: [file],
        done: `updated ${wanted.map((a) => a.name).join(", ")}`,
      });
    }
    const cluster = ctx.facts.clusterName;
    const rows = await runJson<AddonRow[]>(ctx.toolbox, stepId(ctx), [
      "eksctl",
      "get",
      "addon",
      "--cluster",
      cluster,
      "--region",
      ctx.facts.region,
      "-o",
      "json",
    ]);
    const live = new Map((Array.isArray(rows) ? rows : []).map((r) => [String(r.Name), r]));
    const stale = wanted.filter((addon) => {
      const row = live.get(addon.name);
      if (!row) return false; // not installed: creating addons is born's work, not upgrade's
      // eksctl lists newer versions comma-separated, "" when there are none and "-" when it cannot tell.
      if (addon.version === "latest") return !!row.NewerVersion && row.NewerVersion !== "-";
      const bare = (v: string) => v.replace(/^v/, "");
      return !bare(String(row.Version ?? "")).startsWith(bare(addon.version));
    });
    if (stale.length === 0) return skipDecision(`the addons are current for Kubernetes ${target}`);
    return runDecision(`behind: ${stale.map((a) => `${a.name} ${live.get(a.name)?.Version ?? "?"}`).join(", ")}`, [argv], {
      files: [file],
      done: `updated ${stale.map((a) => a.name).join(", ")}`,
    });
  },
  async run(ctx, decision) {
    await writeHopFile(ctx, ctx.upgrade.target!);
    await runPlannedCommands(ctx, decision);
  },
};

function nodegroupRoll(opts: UpgradeOptions): Step<LifecycleContext>[] {
  // rollTask reads toVersion when its generate step decides, after skipWhen below has set it.
  const rollOpts: RollOptions = { readyTimeoutMs: opts.readyTimeoutMs, pollIntervalMs: opts.pollIntervalMs, now: opts.now };
  const { steps } = inlineTask({
    prefix: "nodegroups",
    task: rollTask(rollOpts),
    needs: ["addons"],
    adapt: (base) => ({ ...base, env: withClusterVersion(base.env, (base as UpgradeContext).upgrade.target!) }),
    async skipWhen(parent) {
      const ctx = parent as UpgradeContext;
      const target = ctx.upgrade.target!;
      const ours = await liveNodegroupVersions(ctx);
      const state = await readUpgradeState(ctx);
      const rolling = await readRollTarget(ctx, ours);
      const facts = await ctx.facts.nodegroups();
      // Managed nodegroups report their Kubernetes version; self-managed ones are known by the state.
      const behind = facts.some((ng) => ours.has(ng.name) && /^1\.\d+$/.test(ng.version ?? "") && ng.version !== target);
      const fromBefore = [...ours.values()].some((v) => state?.rollFrom.includes(v));
      const needed = (ctx.upgrade.hops ?? []).length > 0 || rolling !== undefined || fromBefore || behind;
      if (!needed) return `the nodegroups were rolled for Kubernetes ${target} (no upgrade in progress)`;
      rollOpts.toVersion = rolling ?? opts.nodegroupVersion ?? freshVersion(opts.now ?? new Date(), new Set(ours.values()));
      return undefined;
    },
  });
  return steps;
}

/** What the user should change in their config so it says what the cluster now is. */
async function configAdvice(ctx: UpgradeContext, rolledTo: string | undefined): Promise<string[]> {
  const advice: string[] = [];
  const target = ctx.upgrade.target!;
  const envFile = environmentFile(ctx.env.name);
  const envSource = await readYamlSource(join(ctx.projectRoot, envFile), envFile).catch(() => undefined);
  const defaults = await readYamlSource(join(ctx.projectRoot, DEFAULTS_FILE), DEFAULTS_FILE).catch(() => undefined);
  const where = (path: string[]) => {
    for (const source of [envSource, defaults]) {
      const pos = source?.locate(path);
      if (source && pos?.exact) return { file: source.file, line: pos.line };
    }
    return undefined;
  };
  if (ctx.env.config.cluster.version !== target) {
    const at = where(["cluster", "version"]);
    advice.push(
      at?.file === envFile
        ? `${at.file}:${at.line}: change cluster.version from "${ctx.env.config.cluster.version}" to "${target}"`
        : `${envFile}: add cluster.version: "${target}" under cluster:${at ? ` (${at.file}:${at.line} sets "${ctx.env.config.cluster.version}" for every environment)` : ""}`,
    );
  }
  const pinned = ctx.env.config.worker?.version;
  if (pinned !== undefined && rolledTo !== undefined && pinned !== rolledTo) {
    const at = where(["worker", "version"]);
    advice.push(
      `${at ? `${at.file}:${at.line}` : envFile}: change worker.version from "${pinned}" to "${rolledTo}" (the nodegroups were rolled)`,
    );
  }
  return advice;
}

const configStep: Step<UpgradeContext> = {
  id: "config",
  description: "say what to change in the config; finish the upgrade",
  needs: ["nodegroups.record"],
  async decide(ctx) {
    const rolledTo = (await readRollTarget(ctx)) ?? (await liveNodegroupVersion(ctx));
    const advice = await configAdvice(ctx, rolledTo);
    ctx.upgrade.advice = advice;
    const inProgress = await readUpgradeState(ctx);
    if (advice.length === 0 && !inProgress && (ctx.upgrade.hops ?? []).length === 0)
      return skipDecision(`the config says Kubernetes ${ctx.upgrade.target}`);
    return runDecision(advice.length > 0 ? advice.join("; ") : `the config says Kubernetes ${ctx.upgrade.target}`, [], {
      done:
        advice.length > 0
          ? `finished the upgrade to ${ctx.upgrade.target}; ${advice.length} config change(s) to make (above)`
          : `finished the upgrade to ${ctx.upgrade.target}`,
    });
  },
  async run(ctx) {
    await writeUpgradeState(ctx, undefined);
    for (const line of ctx.upgrade.advice ?? []) ctx.events.emit({ type: "log", level: "warn", message: `update your config: ${line}` });
  },
};

async function liveNodegroupVersion(ctx: UpgradeContext): Promise<string | undefined> {
  return [...(await liveNodegroupVersions(ctx)).values()].sort().at(-1);
}

export function upgradeTask(opts: UpgradeOptions = {}): Task<UpgradeContext, LifecycleContext> {
  const steps: Step<UpgradeContext>[] = [preflightStep, controlPlaneStep(opts), addonsStep, ...nodegroupRoll(opts), configStep];
  return { name: "upgrade", concurrency: 1, steps, extend: upgradeContext };
}

export function upgradeContext<C extends LifecycleContext>(base: C): C & UpgradeContext {
  return Object.assign(base, { upgrade: {} });
}
