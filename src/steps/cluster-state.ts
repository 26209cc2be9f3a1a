// What a task in progress must remember lives on the cluster itself, as tags, so any machine
// finishes it the same way: the target of a nodegroup roll from the moment it starts until it is
// done, and an upgrade's target with the nodegroup versions it has to roll away from. A roll whose
// tag is missing (an older eksbox, a tag removed by hand) still shows as two versions live at once.
import { UserError } from "../core/errors.js";
import { runJson } from "./cloud.js";
import { newestVersion, type LifecycleContext } from "./lifecycle.js";
import { stepId } from "./model.js";

export const ROLL_TARGET_TAG = "eksbox.io/roll-target";
/** The pools a roll of some pools (--pool) rolls, space-separated; absent: every pool. */
export const ROLL_POOLS_TAG = "eksbox.io/roll-pools";
export const UPGRADE_TARGET_TAG = "eksbox.io/upgrade-to";
export const UPGRADE_ROLL_FROM_TAG = "eksbox.io/upgrade-roll-from";

async function clusterTags(ctx: LifecycleContext): Promise<Record<string, string>> {
  return (await ctx.facts.cluster())?.tags ?? {};
}

/** Sets (value) or removes (undefined) tags on the cluster; a tag already as wanted costs nothing. */
async function setClusterTags(ctx: LifecycleContext, wanted: Record<string, string | undefined>): Promise<void> {
  const cluster = await ctx.facts.cluster();
  if (!cluster?.arn)
    throw new UserError(`cluster ${ctx.facts.clusterName} does not exist in ${ctx.facts.region}; cannot record on it what is in progress`);
  const tags = cluster.tags ?? {};
  const set = Object.entries(wanted).filter(([key, value]) => value !== undefined && tags[key] !== value);
  const remove = Object.entries(wanted)
    .filter(([key, value]) => value === undefined && key in tags)
    .map(([key]) => key);
  const region = ["--region", ctx.facts.region, "--output", "json"];
  if (set.length > 0) {
    await runJson(ctx.toolbox, stepId(ctx), [
      "aws",
      "eks",
      "tag-resource",
      "--resource-arn",
      cluster.arn,
      "--tags",
      JSON.stringify(Object.fromEntries(set)),
      ...region,
    ]);
  }
  if (remove.length > 0)
    await runJson(ctx.toolbox, stepId(ctx), [
      "aws",
      "eks",
      "untag-resource",
      "--resource-arn",
      cluster.arn,
      "--tag-keys",
      ...remove,
      ...region,
    ]);
  if (set.length + remove.length > 0) ctx.facts.forget("cluster");
}

/** The version a roll in progress rolls to, if one is in progress (`live`: our nodegroups and their versions). */
export async function readRollTarget(ctx: LifecycleContext, live?: Map<string, string>): Promise<string | undefined> {
  const tagged = (await clusterTags(ctx))[ROLL_TARGET_TAG];
  if (tagged) return tagged;
  const versions = new Set(live?.values() ?? []);
  return versions.size >= 2 ? newestVersion(versions) : undefined;
}

/**
 * A roll in progress: its target and the pools it rolls. Without the tag, a pool with two versions
 * live is one (pools may run different versions from each other).
 */
export async function readRoll(
  ctx: LifecycleContext,
  live: Map<string, { pool: string; version: string }>,
): Promise<{ rollingTo: string; pools?: string[] } | undefined> {
  const tags = await clusterTags(ctx);
  const pools = tags[ROLL_POOLS_TAG]?.split(" ").filter(Boolean);
  if (tags[ROLL_TARGET_TAG]) return { rollingTo: tags[ROLL_TARGET_TAG], ...(pools?.length ? { pools } : {}) };
  const byPool = new Map<string, Set<string>>();
  for (const { pool, version } of live.values()) byPool.set(pool, (byPool.get(pool) ?? new Set()).add(version));
  const mixed = [...byPool].filter(([, versions]) => versions.size >= 2);
  if (mixed.length === 0) return undefined;
  return { rollingTo: newestVersion(mixed.flatMap(([, versions]) => [...versions]))!, pools: mixed.map(([pool]) => pool) };
}

/** Tags the cluster with the roll's target (and pools, for --pool), or removes the tags (undefined) when the roll is done. */
export function writeRollTarget(ctx: LifecycleContext, version: string | undefined, pools?: string[]): Promise<void> {
  return setClusterTags(ctx, { [ROLL_TARGET_TAG]: version, [ROLL_POOLS_TAG]: version === undefined ? undefined : pools?.join(" ") });
}

/** An upgrade in progress: its Kubernetes target and the nodegroup versions live when it began (rolled away from). */
export interface UpgradeState {
  upgradingTo: string;
  rollFrom: string[];
}

export async function readUpgradeState(ctx: LifecycleContext): Promise<UpgradeState | undefined> {
  const tags = await clusterTags(ctx);
  const upgradingTo = tags[UPGRADE_TARGET_TAG];
  if (!upgradingTo) return undefined;
  return { upgradingTo, rollFrom: (tags[UPGRADE_ROLL_FROM_TAG] ?? "").split(" ").filter((v) => v !== "" && v !== "-") };
}

export function writeUpgradeState(ctx: LifecycleContext, state: UpgradeState | undefined): Promise<void> {
  return setClusterTags(ctx, {
    [UPGRADE_TARGET_TAG]: state?.upgradingTo,
    // Tag values may hold spaces; nodegroup versions are lower-case letters and digits.
    [UPGRADE_ROLL_FROM_TAG]: state ? state.rollFrom.join(" ") || "-" : undefined,
  });
}
