// The one definition of an environment's configuration. Types, defaults, validation and the JSON
// Schema that editors use (config/schema/environment.schema.json) all come from here, so they
// cannot drift apart. Zod does this better than hand-written checks: one declaration gives the
// TypeScript type, the defaults, precise issue paths and a JSON Schema export.
import * as z from "zod";
import type { ConfigIssue } from "../core/errors.js";
import { NODEGROUP_VERSION_PATTERN } from "../core/layout.js";

export const DEFAULT_KUBERNETES_VERSION = "1.34";
/** eksctl's AmazonLinux2EOLVersion: AL2 nodes are refused from this version on. */
export const AL2_EOL_VERSION = "1.33";

const nonEmpty = z.string().min(1);

export { envNamePattern } from "./env-names.js";

const kubernetesVersion = z
  .string({ error: 'must be a quoted string such as "1.34" (unquoted 1.30 would be read as the number 1.3)' })
  .regex(/^1\.\d{1,2}$/, 'must look like "1.34"');

const awsRegion = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, "must be an AWS region such as ap-northeast-1");
const availabilityZone = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$/, "must be an availability zone such as ap-northeast-1b");
const accountId = z.string().regex(/^\d{12}$/, 'must be the 12-digit AWS account id, quoted ("123456789012")');
const arn = z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:/, "must be an ARN (arn:aws:...)");
const subnetId = z.string().regex(/^subnet-[0-9a-zA-Z]+$/, "must be a subnet id such as subnet-0abc1234");
const securityGroupId = z.string().regex(/^sg-[0-9a-zA-Z]+$/, "must be a security group id such as sg-0abc1234");
const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 203.0.113.10/32");
const stringMap = z.record(z.string(), z.string());

/** Kubelet reads container log sizes as Kubernetes quantities: "50m" would mean 0.05 bytes. */
const logSize = z
  .string()
  .regex(/^\d+(Ki|Mi|Gi)$/, 'must be a size with a binary unit such as "50Mi" (docker-style "50m" means 0.05 bytes to kubelet)');

export const controlPlaneLogTypes = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** A role assumed from the credentials on this machine for every step of the environment (credentials.ts). */
const assumeRoleSchema = z.strictObject({
  roleArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/,
      "must be an IAM role ARN such as arn:aws:iam::123456789012:role/eksbox-deploy",
    ),
  externalId: z
    .string()
    .regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2-1224 letters, digits or +=,.@:/-")
    .optional()
    .describe("Only when the role's trust policy asks for one."),
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/, "must be 2-64 letters, digits or +=,.@-")
    .optional()
    .describe("Shown in CloudTrail; default eksbox-<env>."),
  durationSeconds: z
    .number()
    .int()
    .min(900, "must be at least 900 (STS's minimum)")
    .max(43200, "must be at most 43200 (12 hours)")
    .default(3600)
    .describe("How long each assumed session lasts; eksbox renews it before it ends."),
});

const awsSchema = z.strictObject({
  profile: z.string().default("").describe("Named profile from ~/.aws; empty means the environment's own credentials."),
  region: awsRegion.describe("The AWS region the environment lives in."),
  accountId: accountId.describe("The only account eksbox will act in: preflight refuses any other."),
  endpointUrl: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe("For the local emulator only (make demo); real environments leave it unset."),
  assumeRole: assumeRoleSchema
    .optional()
    .describe("Per-environment role: every step runs as this role, assumed from the credentials on this machine."),
});

const subnetsByZone = z.record(availabilityZone, z.strictObject({ id: subnetId }));

const serviceAccountSchema = z.strictObject({
  name: nonEmpty,
  namespace: nonEmpty.default("default"),
  attachPolicyARNs: z.array(arn).default([]),
  roleName: z.string().optional(),
  overrideExisting: z.boolean().default(false).describe("Keep a service account that already exists in the cluster instead of failing."),
  labels: stringMap.default({}),
});

const addonSchema = z.strictObject({
  name: nonEmpty,
  version: z.string().default("latest"),
  serviceAccountRoleARN: arn.optional(),
  attachPolicyARNs: z.array(arn).default([]),
  configurationValues: z.string().optional(),
  resolveConflicts: z.enum(["none", "overwrite", "preserve"]).default("overwrite"),
});

/**
 * EKS Pod Identity: a service account's pods get the role's credentials from the pod identity agent,
 * without the OIDC trust that IRSA needs. Either roleARN (an existing role) or attachPolicyARNs
 * (eksctl creates the role), as eksctl's iam.podIdentityAssociations takes them.
 */
const podIdentityAssociationSchema = z.strictObject({
  namespace: nonEmpty.default("default"),
  serviceAccountName: nonEmpty,
  roleARN: arn.optional(),
  /** Name for the role eksctl creates (with attachPolicyARNs); default: one eksctl makes up. */
  roleName: z.string().optional(),
  attachPolicyARNs: z.array(arn).default([]),
  /** A role in another account that the pods end up with (EKS chains the two roles). */
  targetRoleARN: arn.optional(),
  /** Let eksctl create the Kubernetes ServiceAccount too. */
  createServiceAccount: z.boolean().default(false),
});

export const clusterAdminPolicyARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

const accessPolicySchema = z.strictObject({
  policyARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:eks::aws:cluster-access-policy\/[A-Za-z0-9]+$/,
      "must be an EKS access policy ARN such as arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    ),
  accessScope: z
    .strictObject({
      type: z.enum(["cluster", "namespace"]),
      namespaces: z.array(nonEmpty).default([]),
    })
    .default({ type: "cluster", namespaces: [] }),
});

const accessEntrySchema = z.strictObject({
  principalARN: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:(iam|sts)::\d{12}:(user|role|assumed-role)\/.+$/,
      "must be an IAM user or role ARN (arn:aws:iam::123456789012:role/name)",
    ),
  kubernetesGroups: z.array(nonEmpty).default([]),
  accessPolicies: z.array(accessPolicySchema).default([]),
});

/** The order EKS allows: CONFIG_MAP -> API_AND_CONFIG_MAP -> API, never back. */
export const authenticationModes = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"] as const;

const accessSchema = z.strictObject({
  /** API_AND_CONFIG_MAP keeps the aws-auth ConfigMap working beside access entries; API is the end of the one-way road. */
  authenticationMode: z.enum(["API_AND_CONFIG_MAP", "API"]).default("API_AND_CONFIG_MAP"),
  /** The creator of the cluster gets cluster admin as an access entry (EKS's default). */
  bootstrapClusterCreatorAdminPermissions: z.boolean().default(true),
  entries: z.array(accessEntrySchema).default([]),
});

const clusterSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z][-a-zA-Z0-9]{0,99}$/, "must start with a letter and hold only letters, digits and '-'")
    .optional()
    .describe("Defaults to the environment's name."),
  version: kubernetesVersion.default(DEFAULT_KUBERNETES_VERSION).describe('Kubernetes version of the control plane, quoted ("1.34").'),
  endpoint: z
    .strictObject({
      privateAccess: z.boolean().default(true),
      publicAccess: z.boolean().default(true),
      publicAccessCIDRs: z.array(cidr).default([]),
    })
    .default({ privateAccess: true, publicAccess: true, publicAccessCIDRs: [] }),
  logging: z
    .array(z.enum(controlPlaneLogTypes))
    .default([...controlPlaneLogTypes])
    .describe("Control-plane log types sent to CloudWatch Logs."),
  logRetentionInDays: z.number().int().positive().optional(),
  vpc: z
    .strictObject({
      subnets: z
        .strictObject({
          public: subnetsByZone.default({}),
          private: subnetsByZone.default({}),
        })
        .default({ public: {}, private: {} }),
    })
    .default({ subnets: { public: {}, private: {} } }),
  oidc: z.boolean().default(true),
  serviceAccounts: z.array(serviceAccountSchema).default([]),
  podIdentityAssociations: z.array(podIdentityAssociationSchema).default([]),
  /** Cluster access through EKS access entries (eksctl's accessConfig); unset: eksctl's defaults, entries not managed. */
  access: accessSchema.optional(),
  /** STANDARD ends with standard support (14 months) and is the cheaper, safe choice for non-prod; EXTENDED is billed at 6x. */
  upgradePolicy: z.strictObject({ supportType: z.enum(["STANDARD", "EXTENDED"]) }).optional(),
  addons: z.array(addonSchema).default([
    { name: "vpc-cni", version: "latest", attachPolicyARNs: [], resolveConflicts: "overwrite" },
    { name: "coredns", version: "latest", attachPolicyARNs: [], resolveConflicts: "overwrite" },
    { name: "kube-proxy", version: "latest", attachPolicyARNs: [], resolveConflicts: "overwrite" },
  ]),
  tags: stringMap.default({}),
});

const taintSchema = z.strictObject({
  key: nonEmpty,
  value: z.string().default(""),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
});

/** A pool's name starts its nodegroups' names (system-20261125, workers-1b-20261125). */
export const poolNamePattern = /^[a-z][a-z0-9-]{0,30}$/;
const poolName = z.string().regex(poolNamePattern, "must be lower-case letters, digits and '-'");

export const amiFamilies = ["AmazonLinux2023", "AmazonLinux2", "Bottlerocket", "Ubuntu2404", "UbuntuPro2404"] as const;

/** Everything one node pool is; `worker` is the same plus its name (namePrefix). */
const poolFields = {
  type: z
    .enum(["selfManaged", "managed"])
    .default("selfManaged")
    .describe("self-managed nodegroups (spot with instancesDistribution, kubeletExtraConfig) or EKS managed ones."),
  perZone: z
    .boolean()
    .default(true)
    .describe("true: one nodegroup per zone (<pool>-<zone>-<version>); false: one across the zones (<pool>-<version>)."),
  version: z
    .string()
    .regex(NODEGROUP_VERSION_PATTERN, "must be 1-16 lower-case letters or digits, such as 20261125")
    .optional()
    .describe(
      "Suffix that versions the nodegroups (worker-1b-<version>), so a new set can be built beside the old one. Unset: the version recorded when the nodegroups were created is used.",
    ),
  amiFamily: z.enum(amiFamilies).default("AmazonLinux2023"),
  ami: z.string().optional(),
  instanceTypes: z.array(nonEmpty).min(1).default(["m5.xlarge"]),
  spot: z
    .strictObject({
      enabled: z.boolean().default(true),
      onDemandBaseCapacity: z.number().int().min(0).default(0),
      onDemandPercentageAboveBaseCapacity: z.number().int().min(0).max(100).default(0),
      spotInstancePools: z.number().int().min(1).max(20).optional().describe("Only for the lowest-price allocation strategy."),
      spotAllocationStrategy: z
        .enum(["lowest-price", "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized"])
        .default("price-capacity-optimized"),
    })
    .default({
      enabled: true,
      onDemandBaseCapacity: 0,
      onDemandPercentageAboveBaseCapacity: 0,
      spotAllocationStrategy: "price-capacity-optimized",
    }),
  minSize: z.number().int().min(0).default(1),
  maxSize: z.number().int().min(1).default(10),
  desiredCapacity: z.number().int().min(0).default(1),
  volume: z
    .strictObject({
      size: z.number().int().min(1).max(16384).default(80),
      type: z.enum(["gp3", "gp2", "io1", "io2", "sc1", "st1"]).default("gp3"),
      encrypted: z.boolean().default(true),
      kmsKeyID: z.string().optional(),
    })
    .default({ size: 80, type: "gp3", encrypted: true }),
  logRotation: z
    .strictObject({
      maxSize: logSize.default("10Mi"),
      maxFiles: z.number().int().min(2).max(100).default(5),
    })
    .default({ maxSize: "10Mi", maxFiles: 5 }),
  zones: z.array(availabilityZone).min(1).describe("One nodegroup per zone, so cluster-autoscaler can grow the zone that needs capacity."),
  privateNetworking: z.boolean().default(false),
  labels: stringMap.default({}),
  taints: z.array(taintSchema).default([]),
  tags: stringMap.default({}),
  iam: z
    .strictObject({
      instanceProfileARN: arn.optional(),
      instanceRoleARN: arn.optional(),
      attachPolicyARNs: z.array(arn).default([]),
    })
    .default({ attachPolicyARNs: [] }),
  securityGroups: z.array(securityGroupId).default([]),
  preBootstrapCommands: z.array(z.string()).default([]),
  clusterAutoscaler: z
    .boolean()
    .default(true)
    .describe("Enables the cluster-autoscaler auto-discovery tags on every nodegroup (autoscaling.mode clusterAutoscaler only)."),
  limits: z
    .strictObject({
      cpu: z.union([z.number().int().positive(), z.string().regex(/^\d+m?$/, 'must be CPUs such as 100 or "1000m"')]).optional(),
      memory: z
        .string()
        .regex(/^\d+(Ki|Mi|Gi|Ti)$/, 'must be a size such as "400Gi"')
        .optional(),
    })
    .optional()
    .describe("Karpenter mode: the most CPU and memory the pool may hold (a NodePool's limits)."),
  disruptionBudget: z
    .string()
    .regex(/^(\d+|\d+%)$/, 'must be a count or a percentage such as "10%"')
    .default("10%")
    .describe('Karpenter mode: how many of the pool\'s nodes may be disrupted at once ("10%" or a count).'),
};

export const nodePoolSchema = z.strictObject(poolFields);

const workerSchema = z.strictObject({
  ...poolFields,
  namePrefix: poolName.default("worker"),
});

/**
 * The pinned Karpenter eksctl installs in karpenter mode (eksctl's `karpenter.version`; eksctl only
 * sets a minimum). 1.9 is Karpenter's long-term-support line and runs on Kubernetes 1.29-1.35, every
 * version eksbox accepts; 1.6 (pinned before) stops at 1.34.
 */
export const KARPENTER_VERSION = "1.9.2";
/** The node pools EKS Auto Mode brings (eksctl's autoModeConfig.nodePools accepts these). */
export const autoModeBuiltinPools = ["general-purpose", "system"] as const;

const autoscalingSchema = z.strictObject({
  mode: z
    .enum(["clusterAutoscaler", "karpenter", "autoMode"])
    .default("clusterAutoscaler")
    .describe(
      "clusterAutoscaler: nodegroups with the auto-discovery tags. karpenter: eksctl installs Karpenter, the `system` pool is a managed nodegroup that runs it, every other pool a NodePool. autoMode: EKS Auto Mode's own node pools; nodegroups optional.",
    ),
  autoModeNodePools: z
    .array(z.enum(autoModeBuiltinPools))
    .default([...autoModeBuiltinPools])
    .describe("autoMode: which of Auto Mode's built-in node pools to create."),
});

const gitopsSchema = z.strictObject({
  provider: z.enum(["github", "gitlab", "bitbucket-server", "gitea", "git"]).describe("The `flux bootstrap` provider."),
  owner: nonEmpty.optional().describe("For the hosted providers (github, gitlab, bitbucket-server, gitea): the user or organisation."),
  repository: nonEmpty.optional().describe("For the hosted providers: the repository's name."),
  url: nonEmpty.optional().describe("For provider git: the repository's https:// or ssh:// URL."),
  username: nonEmpty
    .optional()
    .describe("For provider git over https: the user name (the password comes from tokenEnv, default GIT_PASSWORD)."),
  privateKeyFile: nonEmpty
    .optional()
    .describe("For provider git over ssh: the private key file, relative to the project (keep it out of git)."),
  branch: nonEmpty.default("main").describe("The branch Flux bootstraps and reads."),
  path: z.string().optional().describe("Path in the repository for this cluster's manifests; defaults to clusters/<env>."),
  personal: z.boolean().default(false),
  hostname: z.string().optional(),
  tokenEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, "must be an environment variable name such as GITHUB_TOKEN")
    .optional()
    .describe("Name of the environment variable that holds the provider token (never the token itself)."),
});

export const environmentSchema = z.strictObject({
  $schema: z.string().optional(),
  protected: z.boolean().default(false).describe("Refuse destroy (and other destructive tasks) without --allow-protected."),
  aws: awsSchema,
  cluster: clusterSchema.default(clusterSchema.parse({})),
  worker: workerSchema.optional().describe("One pool, named by worker.namePrefix; with nodePools, the defaults of every pool."),
  nodePools: z
    .record(poolName, nodePoolSchema)
    .optional()
    .describe(
      "Node pools by name (system, workers, ...); each takes worker's keys as its defaults (docs/config.md, Node pools and autoscaling modes).",
    ),
  autoscaling: autoscalingSchema.default({ mode: "clusterAutoscaler", autoModeNodePools: [...autoModeBuiltinPools] }),
  gitops: gitopsSchema.optional(),
});

export type NodePoolConfig = z.output<typeof nodePoolSchema>;
export type WorkerConfig = z.output<typeof workerSchema>;
export type AutoscalingMode = z.output<typeof autoscalingSchema>["mode"];

/** What a user writes (defaults optional). */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** What the rest of eksbox works with: validated, defaults filled, `cluster.name` resolved. */
export type EnvironmentConfig = z.output<typeof environmentSchema> & {
  cluster: z.output<typeof clusterSchema> & { name: string };
  /** Every pool by name, `worker` included as the pool named by its namePrefix (config/node-pools.ts). */
  nodePools: Record<string, NodePoolConfig>;
};

/** A loaded, validated environment: its config plus where it came from. */
export interface Environment {
  name: string;
  config: EnvironmentConfig;
  /** Files merged to make it, lowest precedence first. */
  sources: string[];
  /** What the config says that eksbox ignores (each says why); shown, never fatal. */
  warnings?: ConfigIssue[];
}

/** JSON Schema for editors (yaml-language-server). Defaults are optional keys for the user. */
export function environmentJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(environmentSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
