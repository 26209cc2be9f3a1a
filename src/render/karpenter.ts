// Karpenter mode: every pool but `system` becomes a Karpenter NodePool (karpenter.sh/v1) and its
// EC2NodeClass (karpenter.k8s.aws/v1), written to build/<env>/karpenter/<pool>.yaml. They are built
// from the same pool config the nodegroups come from, so one key (autoscaling.mode) switches a pool
// between the two. Each object is checked against Karpenter's own v1 schemas (the generated
// validators of @kubernetes-models/karpenter) before anything is applied.
import { createHash } from "node:crypto";
import { poolArchitecture } from "../config/node-pools.js";
import type { Environment, NodePoolConfig } from "../config/schema.js";
import { yamlLibrary } from "../config/yaml-lib.js";
import type { ConfigIssue } from "../core/errors.js";
import { envPaths } from "../core/layout.js";
import { karpenterPools, nodeadmLogRotation } from "./view-model.js";

export const KARPENTER_MANAGED_BY = { "app.kubernetes.io/managed-by": "eksbox" };
/** On every object: the hash of what eksbox applied, so born can tell from the cluster whether it is current. */
export const CONFIG_HASH_ANNOTATION = "eksbox.io/config-hash";

function stamped(object: Record<string, unknown>): Record<string, unknown> {
  const hash = createHash("sha256").update(JSON.stringify(object)).digest("hex").slice(0, 16);
  const metadata = object.metadata as Record<string, unknown>;
  return { ...object, metadata: { ...metadata, annotations: { [CONFIG_HASH_ANNOTATION]: hash } } };
}

export interface KarpenterManifest {
  pool: string;
  /** build/<env>/karpenter/<pool>.yaml */
  relativePath: string;
  text: string;
  nodeClass: Record<string, unknown>;
  nodePool: Record<string, unknown>;
}

/** Karpenter selects AMIs by alias; these families have one. */
const amiAlias: Partial<Record<NodePoolConfig["amiFamily"], string>> = {
  AmazonLinux2023: "al2023@latest",
  AmazonLinux2: "al2@latest",
  Bottlerocket: "bottlerocket@latest",
};

export function karpenterAmiAliasFor(family: NodePoolConfig["amiFamily"]): string | undefined {
  return amiAlias[family];
}

/** An entry without a dot is an instance family (m7g), with one an instance type (m7g.large). */
function instanceRequirements(types: readonly string[]): Record<string, unknown>[] {
  const families = types.filter((t) => !t.includes("."));
  const exact = types.filter((t) => t.includes("."));
  const out: Record<string, unknown>[] = [];
  if (exact.length > 0) out.push({ key: "node.kubernetes.io/instance-type", operator: "In", values: exact });
  if (families.length > 0) out.push({ key: "karpenter.k8s.aws/instance-family", operator: "In", values: families });
  return out;
}

/** Kubelet's log rotation where each image reads it: nodeadm's NodeConfig (AL2023), Bottlerocket's TOML settings. */
function userData(pool: NodePoolConfig): string | undefined {
  const { maxSize, maxFiles } = pool.logRotation;
  if (pool.amiFamily === "Bottlerocket") {
    return `[settings.kubernetes]\ncontainer-log-max-size = ${JSON.stringify(maxSize)}\ncontainer-log-max-files = ${maxFiles}\n`;
  }
  if (pool.amiFamily !== "AmazonLinux2023") return undefined;
  const nodeConfig = yamlLibrary().stringify(nodeadmLogRotation(pool), { lineWidth: 0 });
  if (pool.preBootstrapCommands.length === 0) return nodeConfig;
  // Commands as a shell part before nodeadm's config: a MIME multi-part document, as nodeadm reads it.
  const boundary = "EKSBOX-BOUNDARY";
  return [
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: application/node.eks.aws",
    "",
    nodeConfig.trimEnd(),
    `--${boundary}`,
    'Content-Type: text/x-shellscript; charset="us-ascii"',
    "",
    "#!/bin/bash",
    "set -euo pipefail",
    ...pool.preBootstrapCommands,
    `--${boundary}--`,
    "",
  ].join("\n");
}

function nodeClassFor(env: Environment, name: string, pool: NodePoolConfig): Record<string, unknown> {
  const { cluster } = env.config;
  const subnetKind = pool.privateNetworking ? "private" : "public";
  const existing = cluster.vpc.subnets[subnetKind];
  const subnetSelectorTerms =
    Object.keys(existing).length > 0
      ? pool.zones.flatMap((zone) => (existing[zone] ? [{ id: existing[zone].id }] : []))
      : // The subnets of the VPC eksctl made for this cluster, by the tags eksctl gives them.
        [
          {
            tags: {
              "alpha.eksctl.io/cluster-name": cluster.name,
              [pool.privateNetworking ? "kubernetes.io/role/internal-elb" : "kubernetes.io/role/elb"]: "1",
            },
          },
        ];
  const securityGroupSelectorTerms =
    pool.securityGroups.length > 0 ? pool.securityGroups.map((id) => ({ id })) : [{ tags: { "aws:eks:cluster-name": cluster.name } }];
  const roleName = pool.iam.instanceRoleARN?.split("/").pop() ?? `eksctl-KarpenterNodeRole-${cluster.name}`;
  const deviceName = pool.amiFamily === "Bottlerocket" ? "/dev/xvdb" : "/dev/xvda";
  const data = userData(pool);
  return {
    apiVersion: "karpenter.k8s.aws/v1",
    kind: "EC2NodeClass",
    metadata: { name, labels: { ...KARPENTER_MANAGED_BY } },
    spec: {
      role: roleName,
      amiSelectorTerms: pool.ami ? [{ id: pool.ami }] : [{ alias: amiAlias[pool.amiFamily] ?? "al2023@latest" }],
      subnetSelectorTerms,
      securityGroupSelectorTerms,
      blockDeviceMappings: [
        {
          deviceName,
          ebs: {
            volumeSize: `${pool.volume.size}Gi`,
            volumeType: pool.volume.type,
            encrypted: pool.volume.encrypted,
            ...(pool.volume.kmsKeyID ? { kmsKeyID: pool.volume.kmsKeyID } : {}),
          },
        },
      ],
      ...(Object.keys(pool.tags).length > 0 ? { tags: pool.tags } : {}),
      ...(data ? { userData: data } : {}),
    },
  };
}

function nodePoolFor(name: string, pool: NodePoolConfig): Record<string, unknown> {
  const arch = poolArchitecture(pool.instanceTypes) ?? "amd64";
  const capacityTypes = pool.spot.enabled ? ["spot", "on-demand"] : ["on-demand"];
  const limits = Object.fromEntries(Object.entries(pool.limits ?? {}).filter(([, v]) => v !== undefined));
  return {
    apiVersion: "karpenter.sh/v1",
    kind: "NodePool",
    metadata: { name, labels: { ...KARPENTER_MANAGED_BY } },
    spec: {
      template: {
        metadata: { labels: { ...pool.labels, "eksbox.io/pool": name } },
        spec: {
          nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name },
          requirements: [
            ...instanceRequirements(pool.instanceTypes),
            { key: "karpenter.sh/capacity-type", operator: "In", values: capacityTypes },
            { key: "topology.kubernetes.io/zone", operator: "In", values: pool.zones },
            { key: "kubernetes.io/arch", operator: "In", values: [arch] },
            { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
          ],
          ...(pool.taints.length > 0
            ? { taints: pool.taints.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect })) }
            : {}),
          expireAfter: "720h",
        },
      },
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      disruption: {
        consolidationPolicy: "WhenEmptyOrUnderutilized",
        consolidateAfter: "1m",
        budgets: [{ nodes: pool.disruptionBudget }],
      },
    },
  };
}

export function renderKarpenterManifests(env: Environment): KarpenterManifest[] {
  const yaml = yamlLibrary();
  return karpenterPools(env).map(([name, pool]) => {
    const nodeClass = stamped(nodeClassFor(env, name, pool));
    const nodePool = stamped(nodePoolFor(name, pool));
    const header = `# Generated by eksbox from nodePools.${name} for environment ${env.name} (autoscaling.mode karpenter): edit config/, not this file.\n`;
    const text = `${header}${yaml.stringify(nodeClass, { lineWidth: 0 })}---\n${yaml.stringify(nodePool, { lineWidth: 0 })}`;
    return { pool: name, relativePath: envPaths(env.name).karpenterPool(name), text, nodeClass, nodePool };
  });
}

interface ValidationErrorLike {
  errors?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  message?: string;
}

type Models = [
  typeof import("@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"),
  typeof import("@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass"),
];
let models: Models | undefined;

/** Loads Karpenter's models once, when an environment has Karpenter pools (validation is synchronous). */
export async function loadKarpenterModels(): Promise<void> {
  models ??= await Promise.all([
    import("@kubernetes-models/karpenter/karpenter.sh/v1/NodePool"),
    import("@kubernetes-models/karpenter/karpenter.k8s.aws/v1/EC2NodeClass"),
  ]);
}

/** Every problem Karpenter's v1 schemas find in the manifests, pointed at the file and the pool's config. */
export function validateKarpenterManifests(manifests: readonly KarpenterManifest[]): ConfigIssue[] {
  if (manifests.length === 0) return [];
  if (!models) throw new Error("internal: loadKarpenterModels() has not run");
  const [{ NodePool }, { EC2NodeClass }] = models;
  const issues: ConfigIssue[] = [];
  for (const manifest of manifests) {
    const checks: [string, () => void][] = [
      ["EC2NodeClass", () => new EC2NodeClass(manifest.nodeClass as ConstructorParameters<typeof EC2NodeClass>[0]).validate()],
      ["NodePool", () => new NodePool(manifest.nodePool as ConstructorParameters<typeof NodePool>[0]).validate()],
    ];
    for (const [kind, check] of checks) {
      try {
        check();
      } catch (error) {
        const found = (error as ValidationErrorLike).errors ?? [{ message: (error as ValidationErrorLike).message ?? String(error) }];
        for (const e of found) {
          const where = (e.instancePath ?? "").replace(/^\//, "").replaceAll("/", ".");
          const extra = e.params && "allowedValues" in e.params ? ` (${(e.params.allowedValues as unknown[]).join(", ")})` : "";
          issues.push({
            file: manifest.relativePath,
            path: `${kind}${where ? `.${where}` : ""}`,
            message: `Karpenter v1 schema: ${e.message ?? "invalid"}${extra}`,
            hint: `made from nodePools.${manifest.pool}`,
          });
        }
      }
    }
  }
  return issues;
}
