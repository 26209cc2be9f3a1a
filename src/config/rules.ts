// Checks that span several keys, which the per-key schema cannot express. Each is a rule eksctl or
// AWS would enforce later, found here so the error can point at the config line.
import { EKS_VERSIONS, EKS_VERSIONS_TAKEN_ON, eksVersion } from "./eks-versions.js";
import { AL2_EOL_VERSION, type EnvironmentConfig } from "./schema.js";
import type { KeyPath } from "./yaml-source.js";

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
  function sizes({ worker }) {
    const found: RuleFinding[] = [];
    if (worker.minSize > worker.maxSize) {
      found.push({ path: ["worker", "minSize"], causes: [["worker", "maxSize"]], message: `is ${worker.minSize}, above worker.maxSize (${worker.maxSize})` });
    }
    if (worker.desiredCapacity < worker.minSize || worker.desiredCapacity > worker.maxSize) {
      found.push({
        path: ["worker", "desiredCapacity"],
        causes: [["worker", "minSize"], ["worker", "maxSize"]],
        message: `is ${worker.desiredCapacity}, outside worker.minSize..worker.maxSize (${worker.minSize}..${worker.maxSize})`,
      });
    }
    return found;
  },

  function kubernetesVersion({ cluster }) {
    if (eksVersion(cluster.version)) return [];
    return [{
      path: ["cluster", "version"],
      message: `EKS has no Kubernetes ${cluster.version}`,
      hint: `EKS has ${EKS_VERSIONS.map((v) => v.version).reverse().join(", ")} (AWS's calendar as of ${EKS_VERSIONS_TAKEN_ON}; src/config/eks-versions.ts)`,
    }];
  },

  function amazonLinux2({ worker, cluster }) {
    if (worker.amiFamily !== "AmazonLinux2" || compareKubernetesVersions(cluster.version, AL2_EOL_VERSION) < 0) return [];
    return [{
      path: ["worker", "amiFamily"],
      causes: [["cluster", "version"]],
      message: `AmazonLinux2 is not available for Kubernetes ${cluster.version} (eksctl refuses it from ${AL2_EOL_VERSION} on)`,
      hint: "use AmazonLinux2023",
    }];
  },

  function zones({ worker, aws }) {
    const found: RuleFinding[] = [];
    const seenZones = new Set<string>();
    worker.zones.forEach((zone, index) => {
      if (seenZones.has(zone)) found.push({ path: ["worker", "zones", index], message: `${zone} is listed twice (one nodegroup per zone)` });
      seenZones.add(zone);
      if (!zone.startsWith(aws.region)) {
        found.push({ path: ["worker", "zones", index], causes: [["aws", "region"]], message: `${zone} is not in aws.region ${aws.region}` });
      }
    });
    return found;
  },

  function subnetsForZones({ worker, cluster }) {
    const subnets = cluster.vpc.subnets;
    const usesExistingVpc = Object.keys(subnets.public).length + Object.keys(subnets.private).length > 0;
    if (!usesExistingVpc) return [];
    const kind = worker.privateNetworking ? "private" : "public";
    return worker.zones.flatMap((zone, index) =>
      subnets[kind][zone]
        ? []
        : [{
            path: ["worker", "zones", index],
            causes: [["worker", "privateNetworking"], ["cluster", "vpc", "subnets"]],
            message: `${zone} has no ${kind} subnet in cluster.vpc.subnets.${kind}`,
            hint: `add cluster.vpc.subnets.${kind}.${zone}.id, or remove the zone`,
          }],
    );
  },

  function endpoint({ cluster }) {
    const found: RuleFinding[] = [];
    if (!cluster.endpoint.publicAccess && cluster.endpoint.publicAccessCIDRs.length > 0) {
      found.push({ path: ["cluster", "endpoint", "publicAccessCIDRs"], causes: [["cluster", "endpoint", "publicAccess"]], message: "has no effect while cluster.endpoint.publicAccess is false" });
    }
    if (!cluster.endpoint.publicAccess && !cluster.endpoint.privateAccess) {
      found.push({ path: ["cluster", "endpoint"], message: "privateAccess and publicAccess cannot both be false" });
    }
    return found;
  },

  function serviceAccounts({ cluster }) {
    const found: RuleFinding[] = [];
    if (cluster.serviceAccounts.length > 0 && !cluster.oidc) {
      found.push({ path: ["cluster", "oidc"], causes: [["cluster", "serviceAccounts"]], message: "must be true for cluster.serviceAccounts (IAM roles for service accounts need the OIDC provider)" });
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

  function spotAndIam({ worker }) {
    const found: RuleFinding[] = [];
    const { spot } = worker;
    if (spot.spotInstancePools !== undefined && spot.spotAllocationStrategy !== "lowest-price") {
      found.push({
        path: ["worker", "spot", "spotInstancePools"],
        causes: [["worker", "spot", "spotAllocationStrategy"]],
        message: `only applies with spotAllocationStrategy lowest-price (it is ${spot.spotAllocationStrategy})`,
        hint: "remove spotInstancePools, or set worker.spot.spotAllocationStrategy: lowest-price",
      });
    }
    const roleGiven = worker.iam.instanceProfileARN !== undefined || worker.iam.instanceRoleARN !== undefined;
    if (roleGiven && worker.iam.attachPolicyARNs.length > 0) {
      found.push({
        path: ["worker", "iam", "attachPolicyARNs"],
        causes: [["worker", "iam", "instanceProfileARN"], ["worker", "iam", "instanceRoleARN"]],
        message: "cannot be combined with an existing instanceProfileARN/instanceRoleARN (eksctl does not modify a role it did not create)",
      });
    }
    if (worker.iam.instanceProfileARN !== undefined && worker.iam.instanceRoleARN === undefined) {
      found.push({ path: ["worker", "iam", "instanceRoleARN"], causes: [["worker", "iam", "instanceProfileARN"]], message: "is required with instanceProfileARN (the role is what lets the nodes join the cluster)" });
    }
    if (worker.amiFamily === "Bottlerocket" && worker.preBootstrapCommands.length > 0) {
      found.push({ path: ["worker", "preBootstrapCommands"], causes: [["worker", "amiFamily"]], message: "are not supported on Bottlerocket" });
    }
    return found;
  },

  function managedNodegroups({ worker }) {
    if (worker.type !== "managed") return [];
    const found: RuleFinding[] = [];
    const { spot } = worker;
    const causes: KeyPath[] = [["worker", "type"]];
    if (worker.iam.instanceProfileARN !== undefined) {
      found.push({ path: ["worker", "iam", "instanceProfileARN"], causes, message: "is for self-managed nodegroups only; managed nodegroups take instanceRoleARN" });
    }
    if (spot.enabled && (spot.onDemandBaseCapacity > 0 || spot.onDemandPercentageAboveBaseCapacity > 0)) {
      found.push({
        path: ["worker", "spot"],
        causes,
        message: "a managed nodegroup is all spot or all on-demand: onDemandBaseCapacity/onDemandPercentageAboveBaseCapacity need worker.type selfManaged",
      });
    }
    if (spot.spotInstancePools !== undefined) {
      found.push({
        path: ["worker", "spot", "spotInstancePools"],
        causes,
        message: "is for self-managed nodegroups only",
        hint: "remove it: `spotInstancePools: null` in the environment file drops the default (or --set worker.spot.spotInstancePools=null)",
      });
    }
    return found;
  },

  function labelsAndTaints({ worker, cluster }) {
    const found: RuleFinding[] = [];
    const labels = (labelMap: Record<string, string>, path: KeyPath) => {
      for (const [key, value] of Object.entries(labelMap)) {
        const keyProblem = qualifiedNameProblem(key);
        if (keyProblem) found.push({ path: [...path, key], message: `label key ${JSON.stringify(key)} ${keyProblem}`, hint: LABEL_KEY_RULE });
        const valueProblem = labelValueProblem(value);
        if (valueProblem) found.push({ path: [...path, key], message: `label value ${valueProblem}`, hint: LABEL_VALUE_RULE });
      }
    };
    labels(worker.labels, ["worker", "labels"]);
    cluster.serviceAccounts.forEach((account, index) => labels(account.labels, ["cluster", "serviceAccounts", index, "labels"]));
    worker.taints.forEach((taint, index) => {
      const keyProblem = qualifiedNameProblem(taint.key);
      if (keyProblem) found.push({ path: ["worker", "taints", index, "key"], message: `taint key ${JSON.stringify(taint.key)} ${keyProblem}`, hint: LABEL_KEY_RULE });
      const valueProblem = labelValueProblem(taint.value);
      if (valueProblem) found.push({ path: ["worker", "taints", index, "value"], message: `taint value ${valueProblem}`, hint: LABEL_VALUE_RULE });
    });
    return found;
  },
];

export function checkConfigRules(config: RuleConfig): RuleFinding[] {
  const found = rules.flatMap((rule) => rule(config));
  if (config.gitops) found.push(...gitopsFindings(config.gitops));
  return found;
}

// Kubernetes' rules for label keys and values (taints take the same), as eksctl and the API server
// apply them: refused here, with the key, instead of in the middle of born.
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_KEY_RULE = "Kubernetes label and taint keys are [prefix/]name: name up to 63 characters, letters, digits, '-', '_' and '.', beginning and ending with a letter or digit; prefix a lower-case DNS subdomain up to 253 characters";
const LABEL_VALUE_RULE = "Kubernetes label and taint values are empty or up to 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit";

function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "has an empty name";
  if (name.length > 63) return `has a name of ${name.length} characters (63 characters at most)`;
  if (!/^[-A-Za-z0-9_.]*$/.test(name)) return "may hold only letters, digits, '-', '_' and '.'";
  if (!NAME.test(name)) return "must begin and end with a letter or digit";
  return undefined;
}

function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return "must be prefix/name, with one '/'";
  if (parts.length === 2) {
    const [prefix, name] = parts as [string, string];
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) return `has a prefix (${prefix}) that is not a lower-case DNS subdomain`;
    return nameProblem(name);
  }
  return nameProblem(key);
}

function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63) return `is ${value.length} characters (63 characters at most)`;
  if (!/^[-A-Za-z0-9_.]*$/.test(value)) return "may hold only letters, digits, '-', '_' and '.'";
  if (!NAME.test(value)) return "must begin and end with a letter or digit";
  return undefined;
}

const hostedProviderKeys = ["owner", "repository"] as const;
const gitProviderKeys = ["url", "username", "privateKeyFile"] as const;

/** flux bootstrap git takes a URL; the hosted providers take owner and repository. Each refuses the other's flags. */
function gitopsFindings(gitops: NonNullable<EnvironmentConfig["gitops"]>): RuleFinding[] {
  const found: RuleFinding[] = [];
  const at = (key: string): KeyPath => ["gitops", key];
  if (gitops.provider === "git") {
    for (const key of hostedProviderKeys) {
      if (gitops[key] !== undefined) found.push({ path: at(key), message: "is not used by provider git (flux bootstrap git takes the repository's URL)", hint: "remove it; set gitops.url" });
    }
    if (gitops.url === undefined) {
      found.push({ path: at("url"), message: "is required: provider git needs the repository's URL", hint: "for example url: https://git.example.com/ops/fleet.git or ssh://git@git.example.com/ops/fleet.git" });
      return found;
    }
    const scheme = /^(https?|ssh):\/\//.exec(gitops.url)?.[1];
    if (scheme === undefined) {
      found.push({ path: at("url"), message: "must start with https:// or ssh:// (flux bootstrap git --url)" });
    } else if (scheme === "ssh") {
      if (gitops.privateKeyFile === undefined) {
        found.push({ path: at("privateKeyFile"), message: "is required for an ssh:// URL: the toolbox has no SSH agent", hint: "name a key file in the project (kept out of git), or use an https:// URL with tokenEnv" });
      }
      if (gitops.username !== undefined) found.push({ path: at("username"), message: "is for https:// URLs; an ssh:// URL carries its user (ssh://git@host/...)" });
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
    if (gitops[key] !== undefined) found.push({ path: at(key), message: `is only for provider git (flux bootstrap ${gitops.provider} takes owner and repository)` });
  }
  return found;
}
