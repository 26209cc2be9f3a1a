// What the templates see: the environment's config plus the values derived from it (nodegroup
// names, tags, log rotation in the form each node image reads it), per node pool.
import { poolArchitecture, type Architecture } from "../config/node-pools.js";
import { KARPENTER_VERSION, type Environment, type NodePoolConfig } from "../config/schema.js";

/** The core networking addons Auto Mode brings itself (eksctl: "not required on a cluster using Auto Mode"). */
export const AUTO_MODE_BUILTIN_ADDONS: readonly string[] = ["vpc-cni", "coredns", "kube-proxy"];

export interface NodegroupView {
  /** workers-1b-20261125 (per zone) or system-20261125 (one group across the zones). */
  name: string;
  /** The first (for per-zone groups: the only) zone. */
  zone: string;
  zones: string[];
  poolName: string;
  pool: NodePoolConfig;
  /** amd64 or arm64, from the instance types: eksctl picks the AMI type (AL2023_ARM_64_STANDARD, ...) from them. */
  arch: Architecture;
  version: string;
  /** The pool's tags plus, in clusterAutoscaler mode on per-zone groups, the discovery tags. */
  tags: Record<string, string>;
  kubeletLogRotation?: { containerLogMaxSize: string; containerLogMaxFiles: number };
  nodeadmConfig?: Record<string, unknown>;
  bottlerocketLogRotation?: Record<string, unknown>;
}

export function nodegroupName(namePrefix: string, zone: string, workerVersion: string): string {
  return `${namePrefix}-${zone.split("-").pop()}-${workerVersion}`;
}

export function autoscalerTags(clusterName: string): Record<string, string> {
  return { "k8s.io/cluster-autoscaler/enabled": "true", [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned" };
}

/** The addon that hands pods their pod identity credentials; eksctl refuses associations without it. */
export const POD_IDENTITY_AGENT_ADDON = "eks-pod-identity-agent";

/**
 * The configured addons, plus the pod identity agent when any association needs it and the config does not name it.
 * Auto Mode runs the agent itself, so it gets none.
 */
export function addonsWithPodIdentityAgent(env: Environment): Environment["config"]["cluster"]["addons"] {
  const { cluster, autoscaling } = env.config;
  const needsAgent =
    cluster.podIdentityAssociations.length > 0 &&
    autoscaling.mode !== "autoMode" &&
    !cluster.addons.some((a) => a.name === POD_IDENTITY_AGENT_ADDON);
  return needsAgent
    ? [...cluster.addons, { name: POD_IDENTITY_AGENT_ADDON, version: "latest", attachPolicyARNs: [], resolveConflicts: "overwrite" }]
    : cluster.addons;
}

/** The pools that become eksctl nodegroups: all of them, except in karpenter mode (only `system`). */
export function nodegroupPools(env: Environment): [string, NodePoolConfig][] {
  const pools = Object.entries(env.config.nodePools);
  return env.config.autoscaling.mode === "karpenter" ? pools.filter(([name]) => name === "system") : pools;
}

/** The pools Karpenter provisions (karpenter mode, every pool but `system`). */
export function karpenterPools(env: Environment): [string, NodePoolConfig][] {
  return env.config.autoscaling.mode === "karpenter" ? Object.entries(env.config.nodePools).filter(([name]) => name !== "system") : [];
}

export function logRotationOf(pool: NodePoolConfig) {
  return { containerLogMaxSize: pool.logRotation.maxSize, containerLogMaxFiles: pool.logRotation.maxFiles };
}

/** A nodeadm NodeConfig carrying the kubelet's log rotation (managed AL2023 groups, Karpenter's AL2023 nodes). */
export function nodeadmLogRotation(pool: NodePoolConfig): Record<string, unknown> {
  return { apiVersion: "node.eks.aws/v1alpha1", kind: "NodeConfig", spec: { kubelet: { config: logRotationOf(pool) } } };
}

export function poolNodegroups(env: Environment, poolName: string, pool: NodePoolConfig, version: string): NodegroupView[] {
  const { cluster, autoscaling } = env.config;
  const logRotation = logRotationOf(pool);
  const isBottlerocket = pool.amiFamily === "Bottlerocket";
  const isAl2023 = pool.amiFamily === "AmazonLinux2023";
  const groups = pool.perZone
    ? pool.zones.map((zone) => ({ name: nodegroupName(poolName, zone, version), zones: [zone] }))
    : [{ name: `${poolName}-${version}`, zones: pool.zones }];
  const discovery = autoscaling.mode === "clusterAutoscaler" && pool.clusterAutoscaler && pool.perZone;
  return groups.map(({ name, zones }) => ({
    name,
    zone: zones[0]!,
    zones,
    poolName,
    pool,
    arch: poolArchitecture(pool.instanceTypes) ?? "amd64",
    version,
    tags: { ...pool.tags, ...(discovery ? autoscalerTags(cluster.name) : {}) },
    // Self-managed nodegroups: eksctl passes kubeletExtraConfig to kubelet (on AL2023 through nodeadm).
    kubeletLogRotation: pool.type === "selfManaged" && !isBottlerocket ? logRotation : undefined,
    // Managed AL2023 nodegroups have no kubeletExtraConfig; EKS merges this NodeConfig with its own.
    nodeadmConfig: pool.type === "managed" && isAl2023 && !pool.ami ? nodeadmLogRotation(pool) : undefined,
    bottlerocketLogRotation: isBottlerocket
      ? {
          kubernetes: {
            "container-log-max-size": logRotation.containerLogMaxSize,
            "container-log-max-files": logRotation.containerLogMaxFiles,
          },
        }
      : undefined,
  }));
}

export function buildViewModel(env: Environment, versions: Record<string, string>): Record<string, unknown> {
  const { aws, worker, gitops, autoscaling } = env.config;
  const cluster = { ...env.config.cluster, addons: addonsWithPodIdentityAgent(env) };
  const nodegroups = nodegroupPools(env).flatMap(([name, pool]) => poolNodegroups(env, name, pool, versions[name] ?? "unversioned"));
  // The `worker` shorthand keeps the variables templates written before node pools use.
  const first = worker ? nodegroups.find((ng) => ng.pool === worker) : undefined;
  const legacy = first
    ? {
        workerVersion: first.version,
        nodegroupTags: first.tags,
        kubeletLogRotation: first.kubeletLogRotation,
        nodeadmConfig: first.nodeadmConfig,
        bottlerocketLogRotation: first.bottlerocketLogRotation,
      }
    : {};
  return {
    ...legacy,
    env: env.name,
    aws,
    cluster,
    worker,
    nodePools: env.config.nodePools,
    gitops,
    autoscaling,
    versions,
    nodegroups,
    managedNodegroups: nodegroups.filter((ng) => ng.pool.type === "managed"),
    selfManagedNodegroups: nodegroups.filter((ng) => ng.pool.type === "selfManaged"),
    karpenter: autoscaling.mode === "karpenter" ? { version: KARPENTER_VERSION } : undefined,
    /** Karpenter finds the cluster's subnets and security groups by this tag. */
    clusterTags: autoscaling.mode === "karpenter" ? { ...cluster.tags, "karpenter.sh/discovery": cluster.name } : cluster.tags,
    // Off is written out too: eksctl means to make Auto Mode its default, and `eksctl update auto-mode-config` needs enabled set.
    autoMode: autoscaling.mode === "autoMode" ? { enabled: true, nodePools: autoscaling.autoModeNodePools } : { enabled: false },
    // Auto Mode runs networking itself: eksctl refuses these addons in `create cluster` with it.
    clusterAddons:
      autoscaling.mode === "autoMode" ? cluster.addons.filter((a) => !AUTO_MODE_BUILTIN_ADDONS.includes(a.name)) : cluster.addons,
  };
}
