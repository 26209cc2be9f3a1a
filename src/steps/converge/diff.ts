// The comparison at the heart of converge: what the environment's rendered config wants against
// what AWS says, as typed changes, each with the exact command that makes it. Pure: no I/O, so every
// kind of change is unit-tested without a cloud.
import { AUTO_MODE_BUILTIN_ADDONS, POD_IDENTITY_AGENT_ADDON } from "../../render/view-model.js";
import { autoModeChanges } from "./auto-mode.js";
import {
  accessChanges,
  podIdentityChanges,
  type DesiredAccess,
  type DesiredAssociation,
  type IdentityChange,
  type LiveAccess,
  type LiveAssociation,
} from "./identity-state.js";
import type { Change, ChangeKind, ConvergeStep } from "./change.js";
import { drainAndDeleteNodegroupArgv } from "../eksctl-argv.js";

export interface DesiredNodegroup {
  name: string;
  managed: boolean;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  labels: Record<string, string>;
  taints: { key: string; value: string; effect: string }[];
  specHash?: string;
  /** Its pool's version (pools can be at different versions); default: workerVersion. */
  version?: string;
  /** Its node pool. */
  pool?: string;
  /** Where its pool is configured: "nodePools.<pool>", or "worker" for the one-pool shorthand (the default). */
  configKey?: string;
}

export interface DesiredState {
  cluster: {
    name: string;
    region: string;
    version: string;
    logging: string[];
    logRetentionInDays?: number;
    privateAccess: boolean;
    publicAccess: boolean;
    publicAccessCIDRs: string[];
    tags: Record<string, string>;
    /** The existing subnets the config names; empty when eksctl made the VPC. */
    subnetIds: string[];
    /** cluster.yaml's autoModeConfig: Auto Mode on (with its built-in node pools) or off. */
    autoMode?: { enabled: boolean; nodePools: string[] };
  };
  workerVersion: string;
  nodegroups: DesiredNodegroup[];
  serviceAccounts: { namespace: string; name: string; policies: string[]; overrideExisting: boolean }[];
  addons: { name: string; version: string; configurationValues: string; serviceAccountRoleARN?: string }[];
  gitops?: DesiredGitops;
  identity?: DesiredIdentity;
}

/** Pod identity associations, access entries and the upgrade policy, as the config names them. */
export interface DesiredIdentity {
  podIdentityAssociations: DesiredAssociation[];
  /** Unset: access entries are not managed. */
  access?: DesiredAccess;
  supportType?: string;
  /** The eks-pod-identity-agent addon comes with the first association (Auto Mode runs the agent itself). */
  agentAddon: boolean;
}

/** Read only on a cluster that is up; access entries only when the config manages them. */
export interface LiveIdentity {
  podIdentityAssociations: LiveAssociation[];
  access?: LiveAccess;
}

/**
 * What of the gitops settings the cluster shows (Flux's GitRepository and Kustomization flux-system):
 * where the repository is (provider, hostname, owner and repository, or url), the branch and the path.
 * personal, username, tokenEnv and the key file leave no trace there, so they are not compared.
 */
export interface DesiredGitops {
  /** gitLocation() of the repository flux bootstrap points the GitRepository at. */
  repository: string;
  /** The hosted providers' owner/repository names are case-insensitive; a git server's paths are not. */
  caseInsensitive: boolean;
  branch: string;
  /** normalGitPath() of the config's path. */
  path: string;
  /** `flux bootstrap <provider>` with the config's flags: it is idempotent, so it also moves the settings. */
  argv: string[];
}

export interface LiveGitops {
  /** Unset: Flux is not bootstrapped (no GitRepository flux-system). */
  url?: string;
  branch?: string;
  path?: string;
  /** Why the cluster could not be asked (no kubeconfig yet, the API did not answer). */
  unread?: string;
}

export interface LiveNodegroup {
  name: string;
  managed: boolean;
  minSize?: number;
  maxSize?: number;
  desiredCapacity?: number;
  /** Managed nodegroups only (self-managed ones carry theirs in the launch template: the spec hash). */
  labels?: Record<string, string>;
  taints?: { key: string; value: string; effect: string }[];
  specHash?: string;
}

export interface LiveState {
  cluster?: {
    name: string;
    arn?: string;
    version?: string;
    logging: string[];
    /** undefined: no log group; null: it never expires. */
    logRetentionInDays?: number | null;
    privateAccess?: boolean;
    publicAccess?: boolean;
    publicAccessCIDRs: string[];
    tags: Record<string, string>;
    subnetIds: string[];
    /** upgradePolicy.supportType: STANDARD or EXTENDED. */
    supportType?: string;
    /** computeConfig.enabled; undefined when EKS does not say (a cluster from before Auto Mode: off). */
    autoMode?: boolean;
    /** computeConfig.nodePools. */
    autoModeNodePools?: string[];
  };
  nodegroups: LiveNodegroup[];
  serviceAccounts: { namespace: string; name: string; policies?: string[] }[];
  addons: { name: string; version: string; newerVersion?: string; configurationValues: string }[];
  /** Flux's GitRepository and Kustomization flux-system, read whether or not the config has gitops (a live Flux without it is extra). */
  gitops?: LiveGitops;
  identity?: LiveIdentity;
}

/**
 * Cluster tags that are not the config's to name, so never "extra": AWS's own (aws:*), eksctl's
 * (alpha.eksctl.io/*, eksctl.*: its cluster name and version, which its stacks also read), and
 * eksbox's state (eksbox.io/*: a roll or upgrade in progress).
 */
export function ownedTag(key: string): boolean {
  return key.startsWith("aws:") || key.startsWith("alpha.eksctl.io/") || key.startsWith("eksctl.") || key.startsWith("eksbox.io/");
}

/** A Git repository's place, whatever the URL's form: host (lower case, no port)/path, without scheme, user or .git. */
export function gitLocation(url: string): string {
  let rest = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  rest = rest.replace(/^[^@/]+@/, "");
  // scp-like git@host:owner/repository
  if (!url.includes("://")) rest = rest.replace(/^([^/:]+):/, "$1/");
  rest = rest.replace(/\/+$/, "").replace(/\.git$/, "");
  const [host = "", ...path] = rest.split("/");
  return [host.toLowerCase().replace(/:\d+$/, ""), ...path].join("/");
}

/** A path in the repository as Flux's Kustomization holds it (./clusters/e) or the config names it (clusters/e/). */
export function normalGitPath(path: string): string {
  const bare = path
    .trim()
    .replace(/^(\.\/)+/, "")
    .replace(/^\/+/, "")
    .replace(/\/+$/, "");
  return bare === "" || bare === "." ? "." : bare;
}

export interface DiffContext {
  envName: string;
  /** build/<env>/cluster.yaml and nodegroups.yaml, as the commands name them. */
  paths: { cluster: string; nodegroups: string; kubeconfig: string };
  /** The version part of a live nodegroup name of ours; undefined for a name that is not ours. */
  versionOf(name: string): string | undefined;
  /** The node pool of a live nodegroup name of ours. */
  poolOf?(name: string): string | undefined;
  /** Set the desired capacity too (an explicit flag): otherwise it is only reported. */
  resetDesired?: boolean;
  /**
   * After a switch of autoscaling.mode to karpenter: the pool of a live nodegroup named as that pool's
   * nodegroups were in clusterAutoscaler mode, when Karpenter provisions the pool now; else undefined.
   */
  switchedPoolOf?(name: string): string | undefined;
  /** After a switch of autoscaling.mode from karpenter to clusterAutoscaler: eksbox's NodePools still live. */
  leftoverNodePools?: readonly string[];
}

const DEFAULT_PUBLIC_CIDRS = ["0.0.0.0/0"];
const EKS_TAINT_EFFECTS: Record<string, string> = {
  NoSchedule: "NO_SCHEDULE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
};

const sorted = (values: readonly string[]) => [...values].sort();
const sameSet = (a: readonly string[], b: readonly string[]) =>
  JSON.stringify(sorted([...new Set(a)])) === JSON.stringify(sorted([...new Set(b)]));

/** Configuration values are JSON or YAML text: compare JSON by value, anything else by its trimmed text. */
function sameConfigurationValues(a: string, b: string): boolean {
  const normal = (text: string) => {
    try {
      return JSON.stringify(canonical(JSON.parse(text)));
    } catch {
      return text.trim();
    }
  };
  return normal(a || "") === normal(b || "");
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** An addon's version as the config asks for it, against the live one (v1.19.0 is satisfied by v1.19.0-eksbuild.1). */
function addonVersionDiffers(wanted: string, live: { version: string; newerVersion?: string }): boolean {
  if (wanted === "latest" || wanted === "") return live.newerVersion !== undefined;
  const bare = (v: string) => v.replace(/^v/, "");
  return !bare(live.version).startsWith(bare(wanted));
}

/** eksctl adds its own labels to managed nodegroups; they are not the config's to compare. */
const ownLabel = (key: string) => !key.startsWith("alpha.eksctl.io/");

export function diff(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  if (!live.cluster) {
    // Nothing to compare with: everything is created, the addons with the cluster (they are in its file).
    const argv = ["eksctl", "create", "cluster", "-f", ctx.paths.cluster, "--kubeconfig", ctx.paths.kubeconfig];
    const cluster: Change = {
      step: "cluster",
      resource: `cluster ${desired.cluster.name}`,
      field: "(cluster)",
      live: null,
      wanted: desired.cluster.name,
      kind: "create",
      destructive: false,
      argv,
    };
    const empty: LiveState = { nodegroups: [], serviceAccounts: [], addons: [] };
    return [
      cluster,
      ...nodegroupChanges(desired, empty, ctx),
      ...serviceAccountChanges(desired, empty, ctx),
      ...gitopsChanges(desired, empty, ctx),
    ];
  }
  return [
    ...clusterChanges(desired, live, ctx),
    ...nodegroupChanges(desired, live, ctx),
    ...serviceAccountChanges(desired, live, ctx),
    ...addonChanges(desired, live, ctx),
    ...identityChanges(desired, live, ctx),
    ...capacityChanges(desired, live, ctx),
    ...autoModeChanges(desired, live, ctx),
    ...gitopsChanges(desired, live, ctx),
  ];
}

const IDENTITY_KINDS: Record<IdentityChange["kind"], ChangeKind> = {
  create: "create",
  update: "inPlace",
  extra: "extra",
  "one-way": "oneWay",
};

/**
 * Pod identity associations (missing: create, changed: update, extra: reported), access entries (the
 * same, the authenticationMode change one-way) and the upgrade policy, for the podidentity, access and
 * support steps. identity.ts compares; each of its changes has at most one command.
 */
export function identityChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const want = desired.identity;
  const have = live.identity;
  const { name: cluster, region } = desired.cluster;
  const target = { cluster, region, clusterFile: ctx.paths.cluster };
  const asChange =
    (step: ConvergeStep, key: string) =>
    (c: IdentityChange): Change => ({
      step,
      resource: c.resource,
      field: c.field,
      live: c.live,
      wanted: c.wanted,
      kind: IDENTITY_KINDS[c.kind],
      destructive: c.kind === "one-way",
      ...(c.commands[0] ? { argv: c.commands[0] } : {}),
      key,
      // Never deleted by eksbox (the cluster creator's own access entry is one), so no drift to act on.
      ...(c.kind === "extra" ? { reportOnly: true, note: "not in the config: kept (remove it by hand if it should go)" } : {}),
    });
  const pods = want && have ? podIdentityChanges(want.podIdentityAssociations, have.podIdentityAssociations, target) : [];
  if (want?.agentAddon && pods.some((c) => c.kind === "create") && !live.addons.some((a) => a.name === POD_IDENTITY_AGENT_ADDON)) {
    pods.unshift({
      resource: `addon/${POD_IDENTITY_AGENT_ADDON}`,
      field: "addon",
      live: null,
      wanted: "latest",
      kind: "create",
      commands: [["eksctl", "create", "addon", "-f", ctx.paths.cluster, "--name", POD_IDENTITY_AGENT_ADDON]],
    });
  }
  const access = want?.access && have?.access ? accessChanges(want.access, have.access, target) : [];
  const supportType = want?.supportType;
  const support: Change[] =
    supportType && live.cluster && live.cluster.supportType !== supportType
      ? [
          {
            step: "support",
            resource: `cluster/${cluster}`,
            field: "upgradePolicy.supportType",
            live: live.cluster.supportType ?? null,
            wanted: supportType,
            kind: "inPlace",
            destructive: false,
            argv: [
              "aws",
              "eks",
              "update-cluster-config",
              "--name",
              cluster,
              "--region",
              region,
              "--upgrade-policy",
              `supportType=${supportType}`,
              "--output",
              "json",
            ],
            key: "cluster.upgradePolicy.supportType",
          },
        ]
      : [];
  return [
    ...pods.map(asChange("podidentity", "cluster.podIdentityAssociations")),
    ...access.map(asChange("access", "cluster.access")),
    ...support,
  ];
}

/** The kinds eksbox applies in karpenter mode, and the label it applies them with. */
const KARPENTER_KINDS = "nodepools.karpenter.sh,ec2nodeclasses.karpenter.k8s.aws";
const MANAGED_BY_EKSBOX = "app.kubernetes.io/managed-by=eksbox";
const KARPENTER_DISCOVERY_TAG = "karpenter.sh/discovery";

/**
 * A switch of autoscaling.mode to karpenter: each pool Karpenter provisions now gets its NodePool
 * (the karpenter step applies it), and its old nodegroups are drained and deleted once that NodePool
 * has Ready nodes (the capacity step; destructive). Back from karpenter to clusterAutoscaler: the
 * pools' nodegroups are created by the nodegroups step, and eksbox's NodePools left live are deleted
 * once those have Ready nodes (destructive).
 */
export function capacityChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const { name: cluster, region } = desired.cluster;
  const old = live.nodegroups.flatMap((ng) => {
    const pool = ctx.switchedPoolOf?.(ng.name);
    return pool === undefined ? [] : [{ name: ng.name, pool }];
  });
  const pools = [...new Set(old.map((o) => o.pool))];
  return [
    ...pools.map((pool): Change => ({
      step: "capacity",
      resource: `nodepool ${pool}`,
      field: "(nodepool)",
      live: null,
      wanted: pool,
      kind: "create",
      destructive: false,
      key: `nodePools.${pool}`,
      note: "Karpenter's NodePool and EC2NodeClass (the karpenter step applies them); waited for until it has Ready nodes",
    })),
    ...old.map((o): Change => ({
      step: "capacity",
      resource: `nodegroup ${o.name}`,
      field: "(nodegroup)",
      live: o.name,
      wanted: null,
      kind: "modeSwitch",
      destructive: true,
      argv: drainAndDeleteNodegroupArgv(cluster, region, o.name),
      key: "autoscaling.mode",
      note: `pool ${o.pool} is Karpenter's now: drained and deleted once NodePool ${o.pool} has Ready nodes`,
    })),
    ...(ctx.leftoverNodePools ?? []).map((name): Change => ({
      step: "capacity",
      resource: `nodepool ${name}`,
      field: "(nodepool)",
      live: name,
      wanted: null,
      kind: "modeSwitch",
      destructive: true,
      argv: [
        "kubectl",
        "--kubeconfig",
        ctx.paths.kubeconfig,
        "delete",
        KARPENTER_KINDS,
        "-l",
        MANAGED_BY_EKSBOX,
        "--ignore-not-found",
        "--wait=false",
      ],
      key: "autoscaling.mode",
      note: `pool ${name} is a nodegroup again (the nodegroups step creates it): NodePool and EC2NodeClass ${name} are deleted, and Karpenter's leftover instances terminated, once its nodegroups have Ready nodes; the Karpenter controller (eksctl's karpenter: block) stays`,
    })),
  ];
}

/**
 * Flux bootstrapped as the config says, or bootstrapped again (it is idempotent): one command for
 * every setting. A Flux the config has no gitops for is extra: `flux uninstall` only with --prune.
 */
export function gitopsChanges(desired: DesiredState, live: LiveState, ctx: Pick<DiffContext, "paths">): Change[] {
  const want = desired.gitops;
  const resource = "gitops flux-system";
  const have = live.gitops;
  if (!want) {
    if (!have?.url) return [];
    return [
      {
        step: "gitops",
        resource,
        field: "(flux)",
        live: `${have.url} ${have.branch ?? ""} ${normalGitPath(have.path ?? ".")}`.trim(),
        wanted: null,
        kind: "extra",
        destructive: true,
        argv: ["flux", "uninstall", "--silent", `--kubeconfig=${ctx.paths.kubeconfig}`],
        key: "gitops",
        note: "Flux runs but the config has no gitops: --prune uninstalls it (its controllers, custom resources and flux-system namespace; what it deployed stays)",
      },
    ];
  }
  if (!have?.url) {
    return [
      {
        step: "gitops",
        resource,
        field: "(flux)",
        live: null,
        wanted: `${want.repository} ${want.branch} ${want.path}`,
        kind: "create",
        destructive: false,
        argv: want.argv,
        note: have?.unread ? `Flux's state was not read (${have.unread}); bootstrapping again changes nothing that is right` : undefined,
      },
    ];
  }
  const location = (value: string) => (want.caseInsensitive ? value.toLowerCase() : value);
  const fields: [string, string, string, string][] = [
    ["repository", gitLocation(have.url), want.repository, "gitops.repository"],
    ["branch", have.branch ?? "", want.branch, "gitops.branch"],
    ["path", normalGitPath(have.path ?? "."), want.path, "gitops.path"],
  ];
  return fields
    .filter(([field, liveValue, wanted]) => (field === "repository" ? location(liveValue) !== location(wanted) : liveValue !== wanted))
    .map(([field, liveValue, wanted, key]) => ({
      step: "gitops" as const,
      resource,
      field,
      live: liveValue,
      wanted,
      kind: "inPlace" as const,
      destructive: false,
      argv: want.argv,
      key,
      note: field === "repository" ? "flux bootstrap points Flux at the new repository (it does not copy the old one)" : undefined,
    }));
}

function clusterChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const want = desired.cluster;
  const have = live.cluster!;
  const resource = `cluster ${want.name}`;
  const clusterFlags = ["--cluster", want.name, "--region", want.region];
  const changes: Change[] = [];

  if (want.subnetIds.length > 0 && !sameSet(want.subnetIds, have.subnetIds)) {
    changes.push({
      step: "cluster",
      resource,
      field: "subnets",
      live: sorted(have.subnetIds),
      wanted: sorted(want.subnetIds),
      kind: "immutable",
      destructive: false,
      key: "cluster.vpc.subnets",
      note: "a cluster's subnets are fixed when eksctl creates it; put the subnets back in the config, or create a new cluster (a new environment) on the new subnets",
    });
  }
  if (have.version && have.version !== want.version) {
    changes.push({
      step: "cluster",
      resource,
      field: "version",
      live: have.version,
      wanted: want.version,
      kind: "version",
      destructive: false,
      key: "cluster.version",
      note: `Kubernetes versions move one minor at a time with its addons and nodegroups: eksbox upgrade --env ${ctx.envName}`,
    });
  }
  if (!sameSet(want.logging, have.logging)) {
    const all = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
    const disable = all.filter((t) => !want.logging.includes(t));
    const argv = ["eksctl", "utils", "update-cluster-logging", ...clusterFlags];
    if (want.logging.length === 0) argv.push("--disable-types=all");
    else {
      argv.push(`--enable-types=${sorted(want.logging).join(",")}`);
      if (disable.length > 0) argv.push(`--disable-types=${disable.join(",")}`);
    }
    argv.push("--approve");
    changes.push({
      step: "cluster",
      resource,
      field: "logging",
      live: sorted(have.logging),
      wanted: sorted(want.logging),
      kind: "inPlace",
      destructive: false,
      argv,
      key: "cluster.logging",
    });
  }
  const loggingOn = want.logging.length > 0;
  if (want.logRetentionInDays !== undefined && loggingOn && (have.logRetentionInDays ?? null) !== want.logRetentionInDays) {
    changes.push({
      step: "cluster",
      resource,
      field: "logRetentionInDays",
      live: have.logRetentionInDays ?? null,
      wanted: want.logRetentionInDays,
      kind: "inPlace",
      destructive: false,
      key: "cluster.logRetentionInDays",
      argv: [
        "aws",
        "logs",
        "put-retention-policy",
        "--log-group-name",
        `/aws/eks/${want.name}/cluster`,
        "--retention-in-days",
        String(want.logRetentionInDays),
        "--region",
        want.region,
      ],
    });
  }
  const wantCidrs = want.publicAccessCIDRs.length > 0 ? want.publicAccessCIDRs : DEFAULT_PUBLIC_CIDRS;
  const haveCidrs = have.publicAccessCIDRs.length > 0 ? have.publicAccessCIDRs : DEFAULT_PUBLIC_CIDRS;
  const endpoint: Change[] = [];
  if (have.privateAccess !== want.privateAccess) {
    endpoint.push({
      step: "cluster",
      resource,
      field: "endpoint.privateAccess",
      live: have.privateAccess,
      wanted: want.privateAccess,
      kind: "inPlace",
      destructive: false,
      key: "cluster.endpoint.privateAccess",
    });
  }
  if (have.publicAccess !== want.publicAccess) {
    endpoint.push({
      step: "cluster",
      resource,
      field: "endpoint.publicAccess",
      live: have.publicAccess,
      wanted: want.publicAccess,
      kind: "inPlace",
      destructive: false,
      key: "cluster.endpoint.publicAccess",
    });
  }
  if (want.publicAccess && !sameSet(wantCidrs, haveCidrs)) {
    endpoint.push({
      step: "cluster",
      resource,
      field: "endpoint.publicAccessCIDRs",
      live: sorted(haveCidrs),
      wanted: sorted(wantCidrs),
      kind: "inPlace",
      destructive: false,
      key: "cluster.endpoint.publicAccessCIDRs",
    });
  }
  if (endpoint.length > 0) {
    const argv = [
      "eksctl",
      "utils",
      "update-cluster-vpc-config",
      ...clusterFlags,
      `--private-access=${want.privateAccess}`,
      `--public-access=${want.publicAccess}`,
      ...(want.publicAccess ? [`--public-access-cidrs=${sorted(wantCidrs).join(",")}`] : []),
      "--approve",
    ];
    changes.push(...endpoint.map((c) => ({ ...c, argv })));
  }
  const tagChanges = Object.entries(want.tags).filter(([key, value]) => have.tags[key] !== value);
  if (tagChanges.length > 0) {
    const argv = [
      "aws",
      "eks",
      "tag-resource",
      "--resource-arn",
      have.arn ?? "",
      "--tags",
      JSON.stringify(Object.fromEntries(tagChanges)),
      "--region",
      want.region,
    ];
    for (const [key, value] of tagChanges) {
      changes.push({
        step: "cluster",
        resource,
        field: `tags.${key}`,
        live: have.tags[key] ?? null,
        wanted: value,
        kind: "inPlace",
        destructive: false,
        argv,
        key: `cluster.tags.${key}`,
      });
    }
  }
  const extraTags = Object.keys(have.tags)
    // karpenter.sh/discovery stays after a switch back from karpenter: the Karpenter controller stays too,
    // and destroy reads the tag to clean up what Karpenter launched.
    .filter((key) => !(key in want.tags) && !ownedTag(key) && key !== KARPENTER_DISCOVERY_TAG)
    .sort();
  if (extraTags.length > 0) {
    const argv = ["aws", "eks", "untag-resource", "--resource-arn", have.arn ?? "", "--tag-keys", ...extraTags, "--region", want.region];
    for (const key of extraTags) {
      changes.push({
        step: "cluster",
        resource,
        field: `tags.${key}`,
        live: have.tags[key],
        wanted: null,
        kind: "extra",
        destructive: true,
        argv,
        key: `cluster.tags.${key}`,
        note: "not in cluster.tags: --prune removes it",
      });
    }
  }
  return changes;
}

/** A live name with its version part replaced: nodegroups in the same slot (zone) share it. */
function slotOf(name: string, version: string): string {
  const at = name.lastIndexOf(version);
  return at < 0 ? name : `${name.slice(0, at)}*${name.slice(at + version.length)}`;
}

function nodegroupChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const { name: cluster, region } = desired.cluster;
  const changes: Change[] = [];
  const ours = live.nodegroups.flatMap((ng) => {
    const version = ctx.versionOf(ng.name);
    return version === undefined ? [] : [{ ng, version, slot: slotOf(ng.name, version) }];
  });
  const liveByName = new Map(ours.map((o) => [o.ng.name, o]));
  const versionOf = (ng: DesiredNodegroup) => ng.version ?? desired.workerVersion;
  const desiredSlots = new Set(desired.nodegroups.map((ng) => slotOf(ng.name, versionOf(ng))));
  const desiredVersions = new Set(desired.nodegroups.map(versionOf));
  // A zone that left a pool is drained by born; a whole pool that left the nodegroups (removed, or
  // now Karpenter's) only with --prune, since nothing here knows its replacement is Ready.
  const desiredPools = new Set(desired.nodegroups.map((ng) => ng.pool));
  const poolStays = (name: string) => !ctx.poolOf || desiredPools.has(ctx.poolOf(name));
  const createArgv = (names: string[]) => ["eksctl", "create", "nodegroup", "-f", ctx.paths.nodegroups, `--include=${names.join(",")}`];
  const missing = desired.nodegroups.filter((ng) => !liveByName.has(ng.name)).map((ng) => ng.name);

  for (const want of desired.nodegroups) {
    const resource = `nodegroup ${want.name}`;
    const keyOf = (field: string) => `${want.configKey ?? "worker"}.${field}`;
    const have = liveByName.get(want.name)?.ng;
    if (!have) {
      const slot = slotOf(want.name, versionOf(want));
      const older = ours.filter((o) => o.slot === slot).map((o) => o.ng.name);
      changes.push({
        step: "nodegroups",
        resource,
        field: "(nodegroup)",
        live: null,
        wanted: want.name,
        kind: older.length > 0 || ours.length === 0 ? "create" : "zoneAdd",
        destructive: false,
        argv: createArgv(missing),
        note:
          older.length > 0 ? `version ${versionOf(want)} beside ${older.join(", ")}` : ours.length === 0 ? undefined : "a new zone or pool",
      });
      continue;
    }
    const scaleFields: Change[] = [];
    for (const field of ["minSize", "maxSize"] as const) {
      if (have[field] !== undefined && have[field] !== want[field]) {
        scaleFields.push({
          step: "nodegroups",
          resource,
          field,
          live: have[field],
          wanted: want[field],
          kind: "inPlace",
          destructive: false,
          key: keyOf(field),
        });
      }
    }
    const desiredDiffers = have.desiredCapacity !== undefined && have.desiredCapacity !== want.desiredCapacity;
    if (desiredDiffers) {
      scaleFields.push({
        step: "nodegroups",
        resource,
        field: "desiredCapacity",
        live: have.desiredCapacity,
        wanted: want.desiredCapacity,
        kind: "inPlace",
        destructive: false,
        key: keyOf("desiredCapacity"),
        reportOnly: !ctx.resetDesired,
        note: ctx.resetDesired ? undefined : "the autoscaler owns it after creation; --reset-desired sets it",
      });
    }
    if (scaleFields.some((c) => !c.reportOnly)) {
      const argv = [
        "eksctl",
        "scale",
        "nodegroup",
        "--cluster",
        cluster,
        "--region",
        region,
        "--name",
        want.name,
        `--nodes-min=${want.minSize}`,
        `--nodes-max=${want.maxSize}`,
      ];
      if (ctx.resetDesired && desiredDiffers) argv.push(`--nodes=${want.desiredCapacity}`);
      for (const c of scaleFields) if (!c.reportOnly) c.argv = argv;
    }
    changes.push(...scaleFields);
    if (want.managed && have.managed) {
      const haveLabels = Object.fromEntries(Object.entries(have.labels ?? {}).filter(([k]) => ownLabel(k)));
      const addOrUpdate = Object.fromEntries(Object.entries(want.labels).filter(([k, v]) => haveLabels[k] !== v));
      const remove = Object.keys(haveLabels).filter((k) => !(k in want.labels));
      const wantTaints = want.taints.map((t) => ({ key: t.key, value: t.value, effect: EKS_TAINT_EFFECTS[t.effect] ?? t.effect }));
      const haveTaints = have.taints ?? [];
      const taintId = (t: { key: string; value: string; effect: string }) => `${t.key}=${t.value}:${t.effect}`;
      const addTaints = wantTaints.filter((t) => !haveTaints.some((h) => taintId(h) === taintId(t)));
      const removeTaints = haveTaints.filter((h) => !wantTaints.some((t) => t.key === h.key && t.effect === h.effect));
      const labelsDiffer = Object.keys(addOrUpdate).length > 0 || remove.length > 0;
      const taintsDiffer = addTaints.length > 0 || removeTaints.length > 0;
      if (labelsDiffer || taintsDiffer) {
        const argv = [
          "aws",
          "eks",
          "update-nodegroup-config",
          "--cluster-name",
          cluster,
          "--nodegroup-name",
          want.name,
          "--region",
          region,
        ];
        if (labelsDiffer)
          argv.push(
            "--labels",
            JSON.stringify({
              ...(Object.keys(addOrUpdate).length ? { addOrUpdateLabels: addOrUpdate } : {}),
              ...(remove.length ? { removeLabels: remove } : {}),
            }),
          );
        if (taintsDiffer)
          argv.push(
            "--taints",
            JSON.stringify({
              ...(addTaints.length ? { addOrUpdateTaints: addTaints } : {}),
              ...(removeTaints.length ? { removeTaints } : {}),
            }),
          );
        if (labelsDiffer)
          changes.push({
            step: "nodegroups",
            resource,
            field: "labels",
            live: haveLabels,
            wanted: want.labels,
            kind: "inPlace",
            destructive: false,
            argv,
            key: keyOf("labels"),
          });
        if (taintsDiffer)
          changes.push({
            step: "nodegroups",
            resource,
            field: "taints",
            live: haveTaints,
            wanted: wantTaints,
            kind: "inPlace",
            destructive: false,
            argv,
            key: keyOf("taints"),
          });
      }
    }
    if (want.specHash && have.specHash && want.specHash !== have.specHash) {
      changes.push({
        step: "nodegroups",
        resource,
        field: "launch spec",
        live: have.specHash,
        wanted: want.specHash,
        kind: "roll",
        destructive: false,
        note: "set when the nodegroup is launched (instance types, AMI, volume, kubelet, labels/taints of self-managed nodes, IAM, security groups, spot, bootstrap commands, tags): a new nodegroup version replaces it",
      });
    }
  }
  const desiredNames = new Set(desired.nodegroups.map((ng) => ng.name));
  const configKeyByPool = new Map(desired.nodegroups.map((ng) => [ng.pool, ng.configKey ?? "worker"]));
  const zonesKey = (name: string) => configKeyByPool.get(ctx.poolOf?.(name)) ?? "worker";
  for (const { ng, version, slot } of ours) {
    if (desiredNames.has(ng.name)) continue;
    const argv = drainAndDeleteNodegroupArgv(cluster, region, ng.name);
    if (desiredVersions.has(version) && !desiredSlots.has(slot) && poolStays(ng.name)) {
      changes.push({
        step: "nodegroups",
        resource: `nodegroup ${ng.name}`,
        field: "(nodegroup)",
        live: ng.name,
        wanted: null,
        kind: "zoneRemove",
        destructive: true,
        argv,
        key: `${zonesKey(ng.name)}.zones`,
        note: `its zone left ${zonesKey(ng.name)}.zones: its nodes are drained, then it is deleted`,
      });
    } else {
      changes.push({
        step: "nodegroups",
        resource: `nodegroup ${ng.name}`,
        field: "(nodegroup)",
        live: ng.name,
        wanted: null,
        kind: "extra",
        destructive: true,
        argv,
        note: desiredSlots.has(slot)
          ? `version ${version}, not the config's: eksbox nodegroup roll retires it, or --prune deletes it`
          : "not in the config any more: --prune drains and deletes it",
      });
    }
  }
  return changes;
}

function serviceAccountChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const { name: cluster, region } = desired.cluster;
  const changes: Change[] = [];
  const id = (sa: { namespace: string; name: string }) => `${sa.namespace}/${sa.name}`;
  const liveById = new Map(live.serviceAccounts.map((sa) => [id(sa), sa]));
  const missing = desired.serviceAccounts.filter((sa) => !liveById.has(id(sa)));
  if (missing.length > 0) {
    const argv = ["eksctl", "create", "iamserviceaccount", "-f", ctx.paths.cluster, `--include=${missing.map(id).join(",")}`, "--approve"];
    if (missing.some((sa) => sa.overrideExisting)) argv.push("--override-existing-serviceaccounts");
    for (const sa of missing) {
      changes.push({
        step: "serviceaccounts",
        resource: `serviceaccount ${id(sa)}`,
        field: "(serviceaccount)",
        live: null,
        wanted: id(sa),
        kind: "create",
        destructive: false,
        argv,
      });
    }
  }
  const stale = desired.serviceAccounts.filter((sa) => {
    const have = liveById.get(id(sa));
    return have?.policies !== undefined && !sameSet(have.policies, sa.policies);
  });
  if (stale.length > 0) {
    const argv = ["eksctl", "update", "iamserviceaccount", "-f", ctx.paths.cluster, `--include=${stale.map(id).join(",")}`, "--approve"];
    for (const sa of stale) {
      changes.push({
        step: "serviceaccounts",
        resource: `serviceaccount ${id(sa)}`,
        field: "attachPolicyARNs",
        live: sorted(liveById.get(id(sa))!.policies!),
        wanted: sorted(sa.policies),
        kind: "inPlace",
        destructive: false,
        argv,
        key: "cluster.serviceAccounts[].attachPolicyARNs",
      });
    }
  }
  const wanted = new Set(desired.serviceAccounts.map(id));
  for (const sa of live.serviceAccounts) {
    if (wanted.has(id(sa))) continue;
    changes.push({
      step: "serviceaccounts",
      resource: `serviceaccount ${id(sa)}`,
      field: "(serviceaccount)",
      live: id(sa),
      wanted: null,
      kind: "extra",
      destructive: true,
      argv: [
        "eksctl",
        "delete",
        "iamserviceaccount",
        "--cluster",
        cluster,
        "--region",
        region,
        "--namespace",
        sa.namespace,
        "--name",
        sa.name,
        "--approve",
        "--wait",
      ],
      note: "not in cluster.serviceAccounts any more: --prune deletes it and its IAM role",
    });
  }
  return changes;
}

function addonChanges(desired: DesiredState, live: LiveState, ctx: DiffContext): Change[] {
  const { name: cluster, region } = desired.cluster;
  const changes: Change[] = [];
  const liveByName = new Map(live.addons.map((a) => [a.name, a]));
  const updateArgv = ["eksctl", "update", "addon", "-f", ctx.paths.cluster];
  for (const want of desired.addons) {
    const resource = `addon ${want.name}`;
    const have = liveByName.get(want.name);
    if (!have) {
      const argv = [
        "eksctl",
        "create",
        "addon",
        "--cluster",
        cluster,
        "--region",
        region,
        "--name",
        want.name,
        `--version=${want.version || "latest"}`,
      ];
      if (want.serviceAccountRoleARN) argv.push(`--service-account-role-arn=${want.serviceAccountRoleARN}`);
      changes.push({
        step: "addons",
        resource,
        field: "(addon)",
        live: null,
        wanted: want.version || "latest",
        kind: "create",
        destructive: false,
        argv,
      });
      if (want.configurationValues) {
        changes.push({
          step: "addons",
          resource,
          field: "configurationValues",
          live: "",
          wanted: want.configurationValues,
          kind: "inPlace",
          destructive: false,
          argv: updateArgv,
          key: "cluster.addons[].configurationValues",
        });
      }
      continue;
    }
    if (addonVersionDiffers(want.version, have)) {
      changes.push({
        step: "addons",
        resource,
        field: "version",
        live: have.version,
        wanted: want.version === "latest" ? `latest (${have.newerVersion})` : want.version,
        kind: "inPlace",
        destructive: false,
        argv: updateArgv,
        key: "cluster.addons[].version",
      });
    }
    if (!sameConfigurationValues(want.configurationValues, have.configurationValues)) {
      changes.push({
        step: "addons",
        resource,
        field: "configurationValues",
        live: have.configurationValues,
        wanted: want.configurationValues,
        kind: "inPlace",
        destructive: false,
        argv: updateArgv,
        key: "cluster.addons[].configurationValues",
      });
    }
  }
  const wanted = new Set(desired.addons.map((a) => a.name));
  for (const addon of live.addons) {
    if (wanted.has(addon.name)) continue;
    // Left from before a switch to autoMode: harmless, and Auto Mode runs its own; eksctl leaves deleting them to the user.
    const autoModeRunsIt = !!desired.cluster.autoMode?.enabled && AUTO_MODE_BUILTIN_ADDONS.includes(addon.name);
    const remove = ["eksctl", "delete", "addon", "--cluster", cluster, "--region", region, "--name", addon.name];
    changes.push({
      step: "addons",
      resource: `addon ${addon.name}`,
      field: "(addon)",
      live: addon.version,
      wanted: null,
      kind: "extra",
      destructive: true,
      ...(autoModeRunsIt
        ? { reportOnly: true, note: `EKS Auto Mode runs it itself: kept (${remove.join(" ")} removes it)` }
        : { argv: remove, note: "not in cluster.addons any more: --prune deletes it" }),
    });
  }
  return changes;
}

/** The distinct commands of some changes, in order of first appearance. */
export function commandsOf(changes: readonly Change[]): string[][] {
  const seen = new Set<string>();
  const commands: string[][] = [];
  for (const change of changes) {
    if (!change.argv) continue;
    const key = JSON.stringify(change.argv);
    if (seen.has(key)) continue;
    seen.add(key);
    commands.push(change.argv);
  }
  return commands;
}

/** One line per change, as plan and diff print it. */
export function describeChange(change: Change): string {
  const value = (v: unknown) => (v === null || v === undefined ? "(none)" : typeof v === "string" ? v : JSON.stringify(v));
  const marks: Record<ChangeKind, string> = {
    create: "+",
    inPlace: "~",
    roll: "±",
    zoneAdd: "+",
    zoneRemove: "-",
    version: "^",
    immutable: "!",
    extra: "-",
    modeSwitch: "-",
    oneWay: "!",
  };
  const what = change.field.startsWith("(")
    ? change.kind === "extra" || change.kind === "zoneRemove"
      ? `${change.resource}`
      : `${change.resource}`
    : `${change.resource} ${change.field}: ${value(change.live)} → ${value(change.wanted)}`;
  const tags = [change.kind, change.destructive ? "destructive" : undefined, change.reportOnly ? "reported only" : undefined]
    .filter(Boolean)
    .join(", ");
  return `${marks[change.kind]} ${what} (${tags})${change.note ? `: ${change.note}` : ""}`;
}
