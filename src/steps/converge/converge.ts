// Converge: the environment's rendered config (desired) against what AWS says (live), read once per
// run and batched per kind of resource, never one call per field. The steps of born each take their
// share of the changes; plan, diff and a saved plan show the same list.
import { createHash } from "node:crypto";
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isPlainObject } from "../../config/merge.js";
import { writeJsonState } from "../../core/files.js";
import { envPaths } from "../../core/layout.js";
import { nodegroupNaming, requireRendered, type LifecycleContext } from "../lifecycle.js";
import { diff, gitLocation, normalGitPath, type DesiredGitops, type DesiredState, type LiveGitops, type LiveState } from "./diff.js";
import type { Change } from "./change.js";
import { probeOutput } from "../cloud.js";
import { stepId } from "../model.js";
import type { EnvironmentConfig } from "../../config/schema.js";
import { SPEC_HASH_TAG } from "../../render/spec-hash.js";
import { karpenterPools } from "../../render/view-model.js";
import { liveAccess, livePodIdentityAssociations } from "./identity-state.js";
import { eksboxNodePools } from "./karpenter-live.js";

export interface ConvergeResult {
  desired: DesiredState;
  live: LiveState;
  changes: Change[];
  /** A hash of the live facts the changes were computed from (desired capacities left out: the autoscaler moves them). */
  fingerprint: string;
}

/** By run (the facts' shared answers): every step's view of the facts sees the same result. */
const memo = new WeakMap<object, Promise<ConvergeResult>>();

/** The converge result for this run, computed once (after generate) and shared by the steps. */
export function convergeFor(ctx: LifecycleContext): Promise<ConvergeResult> {
  const run = ctx.facts.run;
  let result = memo.get(run);
  if (!result) {
    result = computeConverge(ctx);
    memo.set(run, result);
    result.catch(() => memo.delete(run));
  }
  return result;
}

/**
 * For a switch of autoscaling.mode to karpenter: the pool of a live nodegroup named as the pools
 * Karpenter provisions now named theirs in clusterAutoscaler mode. None without such pools or a cluster.
 */
async function switchedPoolNaming(ctx: LifecycleContext): Promise<((name: string) => string | undefined) | undefined> {
  const pools = new Set(karpenterPools(ctx.env).map(([name]) => name));
  if (pools.size === 0 || !(await ctx.facts.cluster())) return undefined;
  const { autoscaling } = ctx.env.config;
  const asNodegroups = { ...ctx.env, config: { ...ctx.env.config, autoscaling: { ...autoscaling, mode: "clusterAutoscaler" as const } } };
  const naming = await nodegroupNaming(ctx.projectRoot, asNodegroups, { anyZone: true });
  return (name) => {
    const pool = naming.identify(name)?.pool;
    return pool !== undefined && pools.has(pool) ? pool : undefined;
  };
}

/** For a switch of autoscaling.mode from karpenter to clusterAutoscaler: eksbox's NodePools still live. */
async function leftoverKarpenterNodePools(ctx: LifecycleContext): Promise<string[]> {
  if (ctx.env.config.autoscaling.mode !== "clusterAutoscaler" || !(await ctx.facts.cluster())) return [];
  return eksboxNodePools(ctx);
}

/** After a step changed the world: the next step that asks reads it again. */
export function forgetConverge(ctx: LifecycleContext): void {
  memo.delete(ctx.facts.run);
}

async function computeConverge(ctx: LifecycleContext): Promise<ConvergeResult> {
  const desired = desiredState(ctx);
  const [live, naming, switchedPoolOf, leftoverNodePools] = await Promise.all([
    liveState(ctx, desired),
    nodegroupNaming(ctx.projectRoot, ctx.env, { anyZone: true }),
    switchedPoolNaming(ctx),
    leftoverKarpenterNodePools(ctx),
  ]);
  const paths = envPaths(ctx.env.name);
  const changes = diff(desired, live, {
    envName: ctx.env.name,
    paths,
    versionOf: (name) => naming.versionOf(name),
    poolOf: (name) => naming.identify(name)?.pool,
    resetDesired: ctx.converge?.resetDesired,
    switchedPoolOf,
    leftoverNodePools,
  });
  return { desired, live, changes, fingerprint: fingerprintOf(live, !!ctx.converge?.resetDesired) };
}

export function fingerprintOf(live: LiveState, withDesiredCapacity: boolean): string {
  const stable = {
    ...live,
    nodegroups: [...live.nodegroups]
      .map((ng) => (withDesiredCapacity ? ng : { ...ng, desiredCapacity: undefined }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
  return createHash("sha256")
    .update(JSON.stringify(canonical(stable)))
    .digest("hex");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value))
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => value[k] !== undefined)
        .map((k) => [k, canonical(value[k])]),
    );
  return value;
}

const asRecord = (value: unknown): Record<string, unknown> => (isPlainObject(value) ? value : {});
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const stringMap = (value: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(asRecord(value)).map(([k, v]) => [k, String(v)]));

/** The desired state, read from the rendered eksctl files (so template edits count) and the config. */
export function desiredState(ctx: LifecycleContext): DesiredState {
  const rendered = requireRendered(ctx);
  const clusterDoc = rendered.cluster.document;
  const meta = asRecord(clusterDoc.metadata);
  const logging = asRecord(asRecord(clusterDoc.cloudWatch).clusterLogging);
  const vpc = asRecord(clusterDoc.vpc);
  const endpoints = asRecord(vpc.clusterEndpoints);
  const subnets = asRecord(vpc.subnets);
  const subnetIds = ["public", "private"]
    .flatMap((kind) => Object.values(asRecord(subnets[kind])).map((s) => String(asRecord(s).id ?? "")))
    .filter(Boolean);
  const enableTypes = asList(logging.enableTypes).map(String);
  const allTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
  const overrides = new Map(ctx.env.config.cluster.serviceAccounts.map((sa) => [`${sa.namespace}/${sa.name}`, sa.overrideExisting]));
  const nodegroupsDoc = rendered.nodegroups.document;
  // Changes name the key the user wrote: nodePools.<pool>.<field>, or worker.<field> for the shorthand.
  const configKeyOf = (pool: string | undefined) => (ctx.env.config.worker !== undefined || !pool ? "worker" : `nodePools.${pool}`);
  const nodegroups = (
    [
      ["nodeGroups", false],
      ["managedNodeGroups", true],
    ] as const
  ).flatMap(([section, managed]) =>
    asList(nodegroupsDoc[section])
      .filter(isPlainObject)
      .map((ng) => ({
        name: String(ng.name),
        managed,
        minSize: Number(ng.minSize),
        maxSize: Number(ng.maxSize),
        desiredCapacity: Number(ng.desiredCapacity ?? ng.minSize),
        labels: stringMap(ng.labels),
        taints: asList(ng.taints)
          .filter(isPlainObject)
          .map((t) => ({ key: String(t.key), value: String(t.value ?? ""), effect: String(t.effect) })),
        specHash: rendered.specHashes.get(String(ng.name)),
        version: rendered.versions[rendered.nodegroupPools[String(ng.name)] ?? ""],
        pool: rendered.nodegroupPools[String(ng.name)],
        configKey: configKeyOf(rendered.nodegroupPools[String(ng.name)]),
      })),
  );
  // In the config's pool order (eksctl's --include lists them so), whichever section a group is in.
  const order = new Map(rendered.nodegroupNames.map((name, index) => [name, index]));
  nodegroups.sort((a, b) => (order.get(a.name) ?? order.size) - (order.get(b.name) ?? order.size));
  return {
    cluster: {
      name: String(meta.name),
      region: String(meta.region ?? ctx.facts.region),
      version: String(meta.version ?? ctx.env.config.cluster.version),
      logging: enableTypes.includes("*") || enableTypes.includes("all") ? allTypes : enableTypes,
      logRetentionInDays: logging.logRetentionInDays === undefined ? undefined : Number(logging.logRetentionInDays),
      privateAccess: endpoints.privateAccess === undefined ? false : Boolean(endpoints.privateAccess),
      publicAccess: endpoints.publicAccess === undefined ? true : Boolean(endpoints.publicAccess),
      publicAccessCIDRs: asList(vpc.publicAccessCIDRs).map(String),
      tags: stringMap(meta.tags),
      subnetIds,
      autoMode: isPlainObject(clusterDoc.autoModeConfig)
        ? {
            enabled: clusterDoc.autoModeConfig.enabled === true,
            nodePools: asList(clusterDoc.autoModeConfig.nodePools).map(String),
          }
        : undefined,
    },
    workerVersion: rendered.workerVersion,
    nodegroups,
    serviceAccounts: asList(asRecord(clusterDoc.iam).serviceAccounts)
      .filter(isPlainObject)
      .map((sa) => {
        const m = asRecord(sa.metadata);
        const namespace = String(m.namespace ?? "default");
        const name = String(m.name);
        return {
          namespace,
          name,
          policies: asList(sa.attachPolicyARNs).map(String),
          overrideExisting: overrides.get(`${namespace}/${name}`) ?? false,
        };
      }),
    addons: asList(clusterDoc.addons)
      .filter(isPlainObject)
      .map((a) => ({
        name: String(a.name),
        version: String(a.version ?? "latest"),
        configurationValues: a.configurationValues === undefined ? "" : String(a.configurationValues),
        serviceAccountRoleARN: a.serviceAccountRoleARN === undefined ? undefined : String(a.serviceAccountRoleARN),
      })),
    gitops: ctx.env.config.gitops ? desiredGitops(ctx.env.config.gitops, ctx.env.name) : undefined,
    identity: {
      podIdentityAssociations: ctx.env.config.cluster.podIdentityAssociations,
      access: ctx.env.config.cluster.access,
      supportType: ctx.env.config.cluster.upgradePolicy?.supportType,
      agentAddon: ctx.env.config.autoscaling.mode !== "autoMode",
    },
  };
}

type GitopsConfig = NonNullable<EnvironmentConfig["gitops"]>;

/** The hosts flux bootstrap assumes without --hostname. */
const DEFAULT_GIT_HOSTS: Record<string, string> = { github: "github.com", gitlab: "gitlab.com" };

/** The gitops settings as Flux will hold them, and the `flux bootstrap` that makes them so. */
export function desiredGitops(gitops: GitopsConfig, envName: string): DesiredGitops {
  const path = gitops.path ?? `clusters/${envName}`;
  const argv = ["flux", "bootstrap", gitops.provider];
  if (gitops.provider === "git") argv.push(`--url=${gitops.url}`);
  else argv.push(`--owner=${gitops.owner}`, `--repository=${gitops.repository}`);
  argv.push(`--branch=${gitops.branch}`, `--path=${path}`);
  if (gitops.personal) argv.push("--personal");
  if (gitops.hostname) argv.push(`--hostname=${gitops.hostname}`);
  if (gitops.username) argv.push(`--username=${gitops.username}`);
  if (gitops.privateKeyFile) argv.push(`--private-key-file=${gitops.privateKeyFile}`);
  const host = gitops.hostname ?? DEFAULT_GIT_HOSTS[gitops.provider] ?? "";
  return {
    repository: gitops.provider === "git" ? gitLocation(gitops.url ?? "") : gitLocation(`${host}/${gitops.owner}/${gitops.repository}`),
    caseInsensitive: gitops.provider !== "git",
    branch: gitops.branch,
    path: normalGitPath(path),
    argv,
  };
}

/** Flux's settings as the cluster holds them; read only when the kubeconfig is there to reach it. */
async function liveGitops(ctx: LifecycleContext): Promise<LiveGitops> {
  const kubeconfig = envPaths(ctx.env.name).kubeconfig;
  const there = await access(join(ctx.projectRoot, kubeconfig)).then(
    () => true,
    () => false,
  );
  if (!there) return { unread: `${kubeconfig} is not written yet` };
  return ctx.facts.fluxSync(kubeconfig, probeOutput(ctx.events, stepId(ctx)));
}

/** The live state: a handful of reads, side by side, each covering a whole kind of resource. */
export async function liveState(ctx: LifecycleContext, desired: DesiredState): Promise<LiveState> {
  const facts = ctx.facts;
  const cluster = await facts.cluster();
  if (!cluster) return { nodegroups: [], serviceAccounts: [], addons: [] };
  const wantRetention = desired.cluster.logRetentionInDays !== undefined;
  // Pod identity associations and access entries are read on a cluster that is up (eksctl create cluster makes them).
  const up = cluster.status === "ACTIVE" || cluster.status === "UPDATING";
  const [nodegroups, groups, accounts, addons, logGroup, gitops, associations, access] = await Promise.all([
    facts.nodegroups(),
    facts.autoScalingGroups(),
    facts.serviceAccounts(),
    facts.addons(),
    wantRetention ? facts.logGroup() : Promise.resolve(undefined),
    liveGitops(ctx),
    up ? livePodIdentityAssociations(ctx, stepId(ctx), desired.identity?.podIdentityAssociations ?? []) : Promise.resolve(undefined),
    up && desired.identity?.access ? liveAccess(ctx, stepId(ctx)) : Promise.resolve(undefined),
  ]);
  const managedNames = nodegroups.filter((ng) => ng.type === "managed").map((ng) => ng.name);
  const roleARNs = [...new Set(accounts.map((sa) => sa.roleARN).filter((arn): arn is string => !!arn))];
  const [managed, policies] = await Promise.all([
    managedNames.length > 0 ? facts.managedNodegroups(managedNames) : Promise.resolve([]),
    roleARNs.length > 0 ? facts.attachedPolicies(roleARNs) : Promise.resolve(new Map<string, string[]>()),
  ]);
  const groupByNodegroup = new Map(groups.map((g) => [g.nodegroup, g]));
  const managedByName = new Map(managed.map((m) => [m.name, m]));
  return {
    cluster: {
      name: cluster.name,
      arn: cluster.arn,
      version: cluster.version,
      logging: cluster.logging ?? [],
      logRetentionInDays: wantRetention ? (logGroup === undefined ? undefined : (logGroup.retentionInDays ?? null)) : undefined,
      privateAccess: cluster.endpointPrivateAccess,
      publicAccess: cluster.endpointPublicAccess,
      publicAccessCIDRs: cluster.publicAccessCIDRs ?? [],
      tags: cluster.tags ?? {},
      subnetIds: cluster.subnetIds ?? [],
      supportType: cluster.supportType,
      autoMode: cluster.autoMode,
      autoModeNodePools: cluster.autoModeNodePools,
    },
    nodegroups: nodegroups.map((ng) => {
      if (ng.type === "managed") {
        const m = managedByName.get(ng.name);
        return {
          name: ng.name,
          managed: true,
          minSize: m?.minSize ?? ng.minSize,
          maxSize: m?.maxSize ?? ng.maxSize,
          desiredCapacity: m?.desiredCapacity ?? ng.desiredCapacity,
          labels: m?.labels ?? {},
          taints: m?.taints ?? [],
          specHash: m?.tags[SPEC_HASH_TAG],
        };
      }
      const g = groupByNodegroup.get(ng.name);
      return {
        name: ng.name,
        managed: false,
        minSize: g?.minSize ?? ng.minSize,
        maxSize: g?.maxSize ?? ng.maxSize,
        desiredCapacity: g?.desiredCapacity ?? ng.desiredCapacity,
        specHash: g?.tags[SPEC_HASH_TAG],
      };
    }),
    serviceAccounts: accounts.map((sa) => ({
      namespace: sa.namespace,
      name: sa.name,
      policies: sa.roleARN ? policies.get(sa.roleARN) : undefined,
    })),
    addons: addons.map((a) => ({
      name: a.name,
      version: a.version,
      newerVersion: a.newerVersion,
      configurationValues: a.configurationValues,
    })),
    gitops,
    identity: associations ? { podIdentityAssociations: associations, access } : undefined,
  };
}

/**
 * The cluster this environment was born as (name and region), remembered so that renaming the
 * cluster or moving the region in the config is refused instead of creating a second cluster.
 */
function identityRecord(projectRoot: string, envName: string): string {
  return join(projectRoot, ".eksbox", "state", `${envName}.cluster.json`);
}

export async function readClusterIdentity(projectRoot: string, envName: string): Promise<{ name: string; region: string } | undefined> {
  try {
    const value = JSON.parse(await readFile(identityRecord(projectRoot, envName), "utf8")) as { name?: string; region?: string };
    return value.name && value.region ? { name: value.name, region: value.region } : undefined;
  } catch {
    return undefined;
  }
}

export async function recordClusterIdentity(
  projectRoot: string,
  envName: string,
  identity: { name: string; region: string } | undefined,
): Promise<void> {
  await writeJsonState(identityRecord(projectRoot, envName), identity);
}

/**
 * The live nodegroups of one version whose recorded launch spec differs from what the config renders
 * now: what a roll would replace. Nodegroups without a recorded spec are not counted.
 */
export async function specDrift(ctx: LifecycleContext, version: string, names: readonly string[]): Promise<string[]> {
  const { renderEnvironment } = await import("../../render/render.js");
  const rendered = await renderEnvironment(ctx.projectRoot, ctx.env, { workerVersion: version });
  const live = await ctx.facts.nodegroups();
  const managedNames = live.filter((ng) => ng.type === "managed" && names.includes(ng.name)).map((ng) => ng.name);
  const [groups, managed] = await Promise.all([
    ctx.facts.autoScalingGroups(),
    managedNames.length > 0 ? ctx.facts.managedNodegroups(managedNames) : Promise.resolve([]),
  ]);
  const recorded = new Map<string, string | undefined>([
    ...groups.map((g) => [g.nodegroup, g.tags[SPEC_HASH_TAG]] as const),
    ...managed.map((m) => [m.name, m.tags[SPEC_HASH_TAG]] as const),
  ]);
  return names.filter((name) => {
    const was = recorded.get(name);
    const now = rendered.specHashes.get(name);
    return was !== undefined && now !== undefined && was !== now;
  });
}

/** The converge result a plan already computed (none when its steps never got that far). */
export function computedConverge(ctx: LifecycleContext): Promise<ConvergeResult> | undefined {
  return memo.get(ctx.facts.run);
}

/**
 * Starts the live reads converge will need, so that they overlap the steps before it (preflight,
 * generate) instead of following them. Read-only; the answers are kept in the run's facts, where
 * liveState finds them. Failures are left for the step that uses the answer to report.
 */
export function prefetchLive(ctx: LifecycleContext): void {
  const facts = ctx.facts;
  const wantRetention = ctx.env.config.cluster.logRetentionInDays !== undefined;
  const reads = (async () => {
    if (!(await facts.cluster())) return;
    const [nodegroups, , accounts] = await Promise.all([
      facts.nodegroups(),
      facts.autoScalingGroups(),
      facts.serviceAccounts(),
      facts.addons(),
      wantRetention ? facts.logGroup() : undefined,
      liveGitops(ctx),
    ]);
    const managed = nodegroups.filter((ng) => ng.type === "managed").map((ng) => ng.name);
    const roles = [...new Set(accounts.map((sa) => sa.roleARN).filter((arn): arn is string => !!arn))];
    await Promise.all([
      managed.length > 0 ? facts.managedNodegroups(managed) : undefined,
      roles.length > 0 ? facts.attachedPolicies(roles) : undefined,
    ]);
  })();
  reads.catch(() => {});
}
