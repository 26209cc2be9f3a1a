// Checks that span several keys, which the per-key schema cannot express. Each is a rule eksctl or
// AWS would enforce later, found here so the error can point at the config line.
import { EKS_VERSIONS, EKS_VERSIONS_TAKEN_ON, eksVersion } from "./eks-versions.js";
import { LABEL_KEY_RULE, LABEL_VALUE_RULE, labelValueProblem, qualifiedNameProblem } from "./kubernetes-labels.js";
import { instanceArchitecture, poolArchitecture, type Architecture } from "./node-pools.js";
import { AL2_EOL_VERSION, type amiFamilies, type EnvironmentConfig, type NodePoolConfig } from "./schema.js";
import { dottedPath, type KeyPath } from "./yaml-source.js";

type AmiFamily = (typeof amiFamilies)[number];

export interface RuleFinding {
  path: KeyPath;
  /** Other keys the finding depends on: a problem caused by a `--set` of one of them is shown against that argument. */
  causes?: KeyPath[];
  message: string;
  hint?: string;
}

export function compareKubernetesVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

type RuleConfig = Omit<EnvironmentConfig, "cluster"> & { cluster: Omit<EnvironmentConfig["cluster"], "name"> };

/**
 * Each rule reads the keys it names (a finding's path and its `causes`). When the schema refused one
 * of those keys, the rule ran on a default instead and its finding is dropped (see load.ts).
 */
const rules: ((config: RuleConfig) => RuleFinding[])[] = [
  function kubernetesVersion({ cluster }) {
    if (eksVersion(cluster.version)) return [];
    return [
      {
        path: ["cluster", "version"],
        message: `EKS has no Kubernetes ${cluster.version}`,
        hint: `EKS has ${EKS_VERSIONS.map((v) => v.version)
          .reverse()
          .join(", ")} (AWS's calendar as of ${EKS_VERSIONS_TAKEN_ON}; src/config/eks-versions.ts)`,
      },
    ];
  },

  function endpoint({ cluster }) {
    const found: RuleFinding[] = [];
    if (!cluster.endpoint.publicAccess && cluster.endpoint.publicAccessCIDRs.length > 0) {
      found.push({
        path: ["cluster", "endpoint", "publicAccessCIDRs"],
        causes: [["cluster", "endpoint", "publicAccess"]],
        message: "has no effect while cluster.endpoint.publicAccess is false",
      });
    }
    if (!cluster.endpoint.publicAccess && !cluster.endpoint.privateAccess) {
      found.push({ path: ["cluster", "endpoint"], message: "privateAccess and publicAccess cannot both be false" });
    }
    return found;
  },

  function serviceAccounts({ cluster }) {
    const found: RuleFinding[] = [];
    if (cluster.serviceAccounts.length > 0 && !cluster.oidc) {
      found.push({
        path: ["cluster", "oidc"],
        causes: [["cluster", "serviceAccounts"]],
        message: "must be true for cluster.serviceAccounts (IAM roles for service accounts need the OIDC provider)",
      });
    }
    const seenAccounts = new Set<string>();
    cluster.serviceAccounts.forEach((account, index) => {
      const id = `${account.namespace}/${account.name}`;
      if (seenAccounts.has(id)) found.push({ path: ["cluster", "serviceAccounts", index, "name"], message: `${id} is listed twice` });
      seenAccounts.add(id);
      if (account.attachPolicyARNs.length === 0) {
        found.push({
          path: ["cluster", "serviceAccounts", index, "attachPolicyARNs"],
          message: `${id} needs at least one policy`,
          hint: "add attachPolicyARNs (eksctl refuses a service account with no policy)",
        });
      }
    });
    return found;
  },

  function serviceAccountLabels({ cluster }) {
    return cluster.serviceAccounts.flatMap((account, index) =>
      labelFindings(account.labels, ["cluster", "serviceAccounts", index, "labels"]),
    );
  },

  function identity({ cluster }) {
    return identityRules(cluster);
  },
];

/** Kubernetes' rules for each key and value of a label map found at `path`. */
function labelFindings(labelMap: Record<string, string>, path: KeyPath): RuleFinding[] {
  const found: RuleFinding[] = [];
  for (const [key, value] of Object.entries(labelMap)) {
    const keyProblem = qualifiedNameProblem(key);
    if (keyProblem) found.push({ path: [...path, key], message: `label key ${JSON.stringify(key)} ${keyProblem}`, hint: LABEL_KEY_RULE });
    const valueProblem = labelValueProblem(value);
    if (valueProblem) found.push({ path: [...path, key], message: `label value ${valueProblem}`, hint: LABEL_VALUE_RULE });
  }
  return found;
}

/** Rules each node pool must follow; `at` is where the pool's keys are (worker, or nodePools.<name>). */
const poolRules: ((config: RuleConfig, worker: NodePoolConfig, at: KeyPath, name: string) => RuleFinding[])[] = [
  function sizes(_config, worker, at) {
    const found: RuleFinding[] = [];
    if (worker.minSize > worker.maxSize) {
      found.push({
        path: [...at, "minSize"],
        causes: [[...at, "maxSize"]],
        message: `is ${worker.minSize}, above maxSize (${worker.maxSize})`,
      });
    }
    if (worker.desiredCapacity < worker.minSize || worker.desiredCapacity > worker.maxSize) {
      found.push({
        path: [...at, "desiredCapacity"],
        causes: [
          [...at, "minSize"],
          [...at, "maxSize"],
        ],
        message: `is ${worker.desiredCapacity}, outside minSize..maxSize (${worker.minSize}..${worker.maxSize})`,
      });
    }
    return found;
  },

  function zones({ aws }, worker, at) {
    const found: RuleFinding[] = [];
    const seenZones = new Set<string>();
    worker.zones.forEach((zone, index) => {
      if (seenZones.has(zone)) found.push({ path: [...at, "zones", index], message: `${zone} is listed twice (one nodegroup per zone)` });
      seenZones.add(zone);
      if (!zone.startsWith(aws.region)) {
        found.push({ path: [...at, "zones", index], causes: [["aws", "region"]], message: `${zone} is not in aws.region ${aws.region}` });
      }
    });
    return found;
  },

  function subnetsForZones({ cluster }, worker, at) {
    const subnets = cluster.vpc.subnets;
    const usesExistingVpc = Object.keys(subnets.public).length + Object.keys(subnets.private).length > 0;
    if (!usesExistingVpc) return [];
    const kind = worker.privateNetworking ? "private" : "public";
    return worker.zones.flatMap((zone, index) =>
      subnets[kind][zone]
        ? []
        : [
            {
              path: [...at, "zones", index],
              causes: [
                [...at, "privateNetworking"],
                ["cluster", "vpc", "subnets"],
              ],
              message: `${zone} has no ${kind} subnet in cluster.vpc.subnets.${kind}`,
              hint: `add cluster.vpc.subnets.${kind}.${zone}.id, or remove the zone`,
            },
          ],
    );
  },

  function spotAndIam(_config, worker, at) {
    const found: RuleFinding[] = [];
    const { spot } = worker;
    if (spot.spotInstancePools !== undefined && spot.spotAllocationStrategy !== "lowest-price") {
      found.push({
        path: [...at, "spot", "spotInstancePools"],
        causes: [[...at, "spot", "spotAllocationStrategy"]],
        message: `only applies with spotAllocationStrategy lowest-price (it is ${spot.spotAllocationStrategy})`,
        hint: "remove spotInstancePools, or set spot.spotAllocationStrategy: lowest-price",
      });
    }
    const roleGiven = worker.iam.instanceProfileARN !== undefined || worker.iam.instanceRoleARN !== undefined;
    if (roleGiven && worker.iam.attachPolicyARNs.length > 0) {
      found.push({
        path: [...at, "iam", "attachPolicyARNs"],
        causes: [
          [...at, "iam", "instanceProfileARN"],
          [...at, "iam", "instanceRoleARN"],
        ],
        message: "cannot be combined with an existing instanceProfileARN/instanceRoleARN (eksctl does not modify a role it did not create)",
      });
    }
    if (worker.iam.instanceProfileARN !== undefined && worker.iam.instanceRoleARN === undefined) {
      found.push({
        path: [...at, "iam", "instanceRoleARN"],
        causes: [[...at, "iam", "instanceProfileARN"]],
        message: "is required with instanceProfileARN (the role is what lets the nodes join the cluster)",
      });
    }
    if (worker.amiFamily === "Bottlerocket" && worker.preBootstrapCommands.length > 0) {
      found.push({ path: [...at, "preBootstrapCommands"], causes: [[...at, "amiFamily"]], message: "are not supported on Bottlerocket" });
    }
    return found;
  },

  function managedNodegroups({ autoscaling }, worker, at, name) {
    if (worker.type !== "managed" || (autoscaling.mode === "karpenter" && name !== "system")) return [];
    const found: RuleFinding[] = [];
    const { spot } = worker;
    const causes: KeyPath[] = [[...at, "type"]];
    if (worker.iam.instanceProfileARN !== undefined) {
      found.push({
        path: [...at, "iam", "instanceProfileARN"],
        causes,
        message: "is for self-managed nodegroups only; managed nodegroups take instanceRoleARN",
      });
    }
    if (spot.enabled && (spot.onDemandBaseCapacity > 0 || spot.onDemandPercentageAboveBaseCapacity > 0)) {
      found.push({
        path: [...at, "spot"],
        causes,
        message:
          "a managed nodegroup is all spot or all on-demand: onDemandBaseCapacity/onDemandPercentageAboveBaseCapacity need type selfManaged",
      });
    }
    if (spot.spotInstancePools !== undefined) {
      found.push({
        path: [...at, "spot", "spotInstancePools"],
        causes,
        message: "is for self-managed nodegroups only",
        hint: `remove it: \`spotInstancePools: null\` in the environment file drops the default (or --set ${dottedPath([...at, "spot", "spotInstancePools"])}=null)`,
      });
    }
    return found;
  },

  function poolLabelsAndTaints(_config, worker, at) {
    const found = labelFindings(worker.labels, [...at, "labels"]);
    worker.taints.forEach((taint, index) => {
      const keyProblem = qualifiedNameProblem(taint.key);
      if (keyProblem)
        found.push({
          path: [...at, "taints", index, "key"],
          message: `taint key ${JSON.stringify(taint.key)} ${keyProblem}`,
          hint: LABEL_KEY_RULE,
        });
      const valueProblem = labelValueProblem(taint.value);
      if (valueProblem)
        found.push({ path: [...at, "taints", index, "value"], message: `taint value ${valueProblem}`, hint: LABEL_VALUE_RULE });
    });
    return found;
  },

  function architectureAndImages({ cluster, autoscaling }, worker, at, name) {
    const found: RuleFinding[] = [];
    const becomesNodegroup = autoscaling.mode !== "karpenter" || name === "system";
    const families = worker.instanceTypes.filter((t) => !t.includes("."));
    if (becomesNodegroup && families.length > 0) {
      found.push({
        path: [...at, "instanceTypes"],
        message: `${families.join(", ")}: instance families are for Karpenter pools; a nodegroup needs instance types such as ${families[0]}.large`,
      });
    }
    if (!becomesNodegroup && worker.ami === undefined && !karpenterAmiFamilies.includes(worker.amiFamily)) {
      found.push({
        path: [...at, "amiFamily"],
        message: `${worker.amiFamily}: Karpenter finds node images by alias, and has none for it (it has ${karpenterAmiFamilies.join(", ")})`,
        hint: "use one of those, or give the image's id in ami",
      });
    }
    const arch = poolArchitecture(worker.instanceTypes);
    if (arch === undefined) {
      const byArch = worker.instanceTypes.map((t) => `${t} (${instanceArchitecture(t)})`).join(", ");
      found.push({
        path: [...at, "instanceTypes"],
        message: `mix architectures: ${byArch}; one pool runs one architecture (its nodes share one image)`,
        hint: "split them into two pools, one arm64 (Graviton: m7g, c7g, r7g, t4g, ...) and one amd64",
      });
    }
    const images = amiImages[worker.amiFamily];
    if (arch !== undefined && !images.arches.includes(arch)) {
      found.push({
        path: [...at, "amiFamily"],
        causes: [[...at, "instanceTypes"]],
        message: `${worker.amiFamily} has no ${arch} image (the instance types ${worker.instanceTypes.join(", ")} are ${arch})`,
        hint: arch === "arm64" ? "use AmazonLinux2023 or Bottlerocket, or amd64 instance types" : undefined,
      });
    }
    if (images.beforeVersion && compareKubernetesVersions(cluster.version, images.beforeVersion) >= 0) {
      found.push({
        path: [...at, "amiFamily"],
        causes: [["cluster", "version"]],
        message: `${worker.amiFamily} is not available for Kubernetes ${cluster.version} (eksctl refuses it from ${images.beforeVersion} on)`,
        hint: "use AmazonLinux2023",
      });
    }
    if (images.fromVersion && compareKubernetesVersions(cluster.version, images.fromVersion) < 0) {
      found.push({
        path: [...at, "amiFamily"],
        causes: [["cluster", "version"]],
        message: `${worker.amiFamily} has no image for Kubernetes ${cluster.version} (its images begin at ${images.fromVersion})`,
        hint: "use AmazonLinux2023, or raise cluster.version",
      });
    }
    return found;
  },
];

/** The AMI families Karpenter's EC2NodeClass can select by alias (al2023@latest, al2@latest, bottlerocket@latest). */
export const karpenterAmiFamilies: readonly string[] = ["AmazonLinux2023", "AmazonLinux2", "Bottlerocket"];

/** Which AMI families have images for which architectures and Kubernetes versions (eksctl's and the vendors' tables). */
const amiImages: Record<AmiFamily, { arches: Architecture[]; fromVersion?: string; beforeVersion?: string }> = {
  AmazonLinux2023: { arches: ["amd64", "arm64"] },
  AmazonLinux2: { arches: ["amd64", "arm64"], beforeVersion: AL2_EOL_VERSION },
  Bottlerocket: { arches: ["amd64", "arm64"] },
  Ubuntu2404: { arches: ["amd64", "arm64"], fromVersion: "1.31" },
  // Real eksctl accepts UbuntuPro2404 on arm64 (the oracle found it), so eksbox does too.
  UbuntuPro2404: { arches: ["amd64", "arm64"], fromVersion: "1.31" },
};

/**
 * Where each pool's keys are in the config: `worker` for the shorthand, `nodePools.<name>` otherwise
 * (the loader points a key inherited from `worker` back at it).
 */
export type PoolPath = (pool: string) => KeyPath;

function modeFindings(config: RuleConfig, poolPath: PoolPath): RuleFinding[] {
  const found: RuleFinding[] = [];
  const { cluster } = config;
  const mode = config.autoscaling.mode;
  const pools = Object.entries(config.nodePools);
  if (pools.length === 0 && mode !== "autoMode") {
    found.push({
      path: ["nodePools"],
      causes: [["autoscaling", "mode"]],
      message: `defines no node pool (autoscaling.mode ${mode} needs nodegroups)`,
      hint: "add worker: or nodePools:, or use autoscaling.mode autoMode, where nodegroups are optional",
    });
  }
  if (mode === "karpenter") {
    const system = config.nodePools.system;
    if (!system) {
      found.push({
        path: ["nodePools", "system"],
        causes: [["autoscaling", "mode"]],
        message: "is required in karpenter mode: a small managed nodegroup runs Karpenter itself",
        hint: "add nodePools.system with type: managed (for example 2 on-demand nodes across the zones)",
      });
    } else if (system.type !== "managed") {
      found.push({
        path: [...poolPath("system"), "type"],
        causes: [["autoscaling", "mode"]],
        message: "must be managed in karpenter mode (the system pool runs Karpenter, which cannot run on nodes it manages)",
      });
    }
    if (!cluster.oidc)
      found.push({
        path: ["cluster", "oidc"],
        causes: [["autoscaling", "mode"]],
        message: "must be true in karpenter mode (Karpenter's controller uses IAM roles for service accounts)",
      });
  }
  if (mode === "autoMode") {
    for (const [name, pool] of pools) {
      if (pool.type === "selfManaged") {
        found.push({
          path: [...poolPath(name), "type"],
          causes: [["autoscaling", "mode"]],
          message: `pool ${name} is self-managed: autoscaling.mode autoMode takes managed nodegroups only (Auto Mode manages its own nodes; self-managed ones would not be)`,
          hint: "set type: managed, or remove the pool and let Auto Mode's node pools carry the load",
        });
      }
    }
  }
  return found;
}

export function checkConfigRules(config: RuleConfig, poolPath: PoolPath = () => ["worker"]): RuleFinding[] {
  const found = rules.flatMap((rule) => rule(config));
  found.push(...modeFindings(config, poolPath));
  for (const [name, pool] of Object.entries(config.nodePools)) {
    found.push(...poolRules.flatMap((rule) => rule(config, pool, poolPath(name), name)));
  }
  if (config.gitops) found.push(...gitopsFindings(config.gitops));
  return found;
}

const hostedProviderKeys = ["owner", "repository"] as const;
const gitProviderKeys = ["url", "username", "privateKeyFile"] as const;

/** flux bootstrap git takes a URL; the hosted providers take owner and repository. Each refuses the other's flags. */
function gitopsFindings(gitops: NonNullable<EnvironmentConfig["gitops"]>): RuleFinding[] {
  const found: RuleFinding[] = [];
  const at = (key: string): KeyPath => ["gitops", key];
  if (gitops.provider === "git") {
    for (const key of hostedProviderKeys) {
      if (gitops[key] !== undefined)
        found.push({
          path: at(key),
          message: "is not used by provider git (flux bootstrap git takes the repository's URL)",
          hint: "remove it; set gitops.url",
        });
    }
    if (gitops.url === undefined) {
      found.push({
        path: at("url"),
        message: "is required: provider git needs the repository's URL",
        hint: "for example url: https://git.example.com/ops/fleet.git or ssh://git@git.example.com/ops/fleet.git",
      });
      return found;
    }
    const scheme = /^(https?|ssh):\/\//.exec(gitops.url)?.[1];
    if (scheme === undefined) {
      found.push({ path: at("url"), message: "must start with https:// or ssh:// (flux bootstrap git --url)" });
    } else if (scheme === "ssh") {
      if (gitops.privateKeyFile === undefined) {
        found.push({
          path: at("privateKeyFile"),
          message: "is required for an ssh:// URL: the toolbox has no SSH agent",
          hint: "name a key file in the project (kept out of git), or use an https:// URL with tokenEnv",
        });
      }
      if (gitops.username !== undefined)
        found.push({ path: at("username"), message: "is for https:// URLs; an ssh:// URL carries its user (ssh://git@host/...)" });
    } else if (gitops.privateKeyFile !== undefined) {
      found.push({ path: at("privateKeyFile"), message: "is for ssh:// URLs; over https the password comes from gitops.tokenEnv" });
    }
    if (gitops.privateKeyFile !== undefined && (gitops.privateKeyFile.startsWith("/") || gitops.privateKeyFile.split("/").includes(".."))) {
      found.push({ path: at("privateKeyFile"), message: "must be a path inside the project (the toolbox sees only the project)" });
    }
    return found;
  }
  for (const key of hostedProviderKeys) {
    if (gitops[key] === undefined) found.push({ path: at(key), message: `is required for provider ${gitops.provider}` });
  }
  for (const key of gitProviderKeys) {
    if (gitops[key] !== undefined)
      found.push({ path: at(key), message: `is only for provider git (flux bootstrap ${gitops.provider} takes owner and repository)` });
  }
  return found;
}

/** Pod identity associations and access entries: what eksctl and EKS would refuse later. */
function identityRules(cluster: Omit<EnvironmentConfig["cluster"], "name">): RuleFinding[] {
  const found: RuleFinding[] = [];
  const seenAssociations = new Set<string>();
  cluster.podIdentityAssociations.forEach((association, index) => {
    const id = `${association.namespace}/${association.serviceAccountName}`;
    const at = (key: string) => ["cluster", "podIdentityAssociations", index, key];
    if (seenAssociations.has(id))
      found.push({ path: at("serviceAccountName"), message: `${id} is listed twice (EKS allows one association per service account)` });
    seenAssociations.add(id);
    const hasPolicies = association.attachPolicyARNs.length > 0;
    if (association.roleARN === undefined && !hasPolicies) {
      found.push({
        path: at("roleARN"),
        message: `${id} needs a role`,
        hint: "set roleARN (an existing role) or attachPolicyARNs (eksctl creates the role)",
      });
    }
    if (association.roleARN !== undefined && hasPolicies) {
      found.push({
        path: at("attachPolicyARNs"),
        message: `${id}: attachPolicyARNs cannot be combined with roleARN (eksctl does not change a role it did not create)`,
      });
    }
    if (association.roleARN !== undefined && association.roleName !== undefined) {
      found.push({ path: at("roleName"), message: `${id}: roleName names a role eksctl creates; it has no meaning with roleARN` });
    }
    if (cluster.serviceAccounts.some((sa) => sa.namespace === association.namespace && sa.name === association.serviceAccountName)) {
      found.push({
        path: at("serviceAccountName"),
        message: `${id} is also in cluster.serviceAccounts (IRSA): one service account gets its role one way`,
        hint: "keep one of them; eksbox migrate pod-identity moves IRSA service accounts to pod identity",
      });
    }
  });
  const access = cluster.access;
  if (access) {
    const seenPrincipals = new Set<string>();
    access.entries.forEach((entry, index) => {
      const at = (...rest: (string | number)[]) => ["cluster", "access", "entries", index, ...rest];
      if (seenPrincipals.has(entry.principalARN))
        found.push({ path: at("principalARN"), message: `${entry.principalARN} is listed twice` });
      seenPrincipals.add(entry.principalARN);
      if (entry.principalARN.includes(":assumed-role/")) {
        found.push({
          path: at("principalARN"),
          message: "an access entry takes the IAM role's ARN, not an assumed-role session",
          hint: "write arn:aws:iam::<account>:role/<name>",
        });
      }
      if (entry.kubernetesGroups.some((group) => group.startsWith("system:"))) {
        found.push({
          path: at("kubernetesGroups"),
          message: "EKS refuses groups that start with system:",
          hint: "use the access policy AmazonEKSClusterAdminPolicy for cluster admin",
        });
      }
      entry.accessPolicies.forEach((policy, p) => {
        const { type, namespaces } = policy.accessScope;
        if (type === "namespace" && namespaces.length === 0) {
          found.push({
            path: at("accessPolicies", p, "accessScope", "namespaces"),
            message: "a namespace scope needs at least one namespace",
          });
        }
        if (type === "cluster" && namespaces.length > 0) {
          found.push({
            path: at("accessPolicies", p, "accessScope", "namespaces"),
            message: "namespaces have no meaning with scope type cluster",
          });
        }
      });
    });
  }
  return found;
}
