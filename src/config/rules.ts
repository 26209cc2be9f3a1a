// Checks that span several keys, which the per-key schema cannot express. Each is a rule eksctl or
// AWS would enforce later, found here so the error can point at the config line.
import { AL2_EOL_VERSION, type EnvironmentConfig } from "./schema.js";
import type { KeyPath } from "./yaml-source.js";

export interface RuleFinding {
  path: KeyPath;
  message: string;
  hint?: string;
}

export function compareKubernetesVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split(".").map(Number);
  const [bMajor = 0, bMinor = 0] = b.split(".").map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}

export function checkConfigRules(config: Omit<EnvironmentConfig, "cluster"> & { cluster: Omit<EnvironmentConfig["cluster"], "name"> }): RuleFinding[] {
  const found: RuleFinding[] = [];
  const { worker, cluster, aws } = config;

  if (worker.minSize > worker.maxSize) {
    found.push({ path: ["worker", "minSize"], message: `is ${worker.minSize}, above worker.maxSize (${worker.maxSize})` });
  }
  if (worker.desiredCapacity < worker.minSize || worker.desiredCapacity > worker.maxSize) {
    found.push({
      path: ["worker", "desiredCapacity"],
      message: `is ${worker.desiredCapacity}, outside worker.minSize..worker.maxSize (${worker.minSize}..${worker.maxSize})`,
    });
  }

  if (worker.amiFamily === "AmazonLinux2" && compareKubernetesVersions(cluster.version, AL2_EOL_VERSION) >= 0) {
    found.push({
      path: ["worker", "amiFamily"],
      message: `AmazonLinux2 is not available for Kubernetes ${cluster.version} (eksctl refuses it from ${AL2_EOL_VERSION} on)`,
      hint: "use AmazonLinux2023",
    });
  }

  const seenZones = new Set<string>();
  worker.zones.forEach((zone, index) => {
    if (seenZones.has(zone)) found.push({ path: ["worker", "zones", index], message: `${zone} is listed twice (one nodegroup per zone)` });
    seenZones.add(zone);
    if (!zone.startsWith(aws.region)) {
      found.push({ path: ["worker", "zones", index], message: `${zone} is not in aws.region ${aws.region}` });
    }
  });

  const subnets = cluster.vpc.subnets;
  const usesExistingVpc = Object.keys(subnets.public).length + Object.keys(subnets.private).length > 0;
  if (usesExistingVpc) {
    const kind = worker.privateNetworking ? "private" : "public";
    worker.zones.forEach((zone, index) => {
      if (!subnets[kind][zone]) {
        found.push({
          path: ["worker", "zones", index],
          message: `${zone} has no ${kind} subnet in cluster.vpc.subnets.${kind}`,
          hint: `add cluster.vpc.subnets.${kind}.${zone}.id, or remove the zone`,
        });
      }
    });
  }

  if (!cluster.endpoint.publicAccess && cluster.endpoint.publicAccessCIDRs.length > 0) {
    found.push({ path: ["cluster", "endpoint", "publicAccessCIDRs"], message: "has no effect while cluster.endpoint.publicAccess is false" });
  }
  if (!cluster.endpoint.publicAccess && !cluster.endpoint.privateAccess) {
    found.push({ path: ["cluster", "endpoint"], message: "privateAccess and publicAccess cannot both be false" });
  }

  if (cluster.serviceAccounts.length > 0 && !cluster.oidc) {
    found.push({ path: ["cluster", "oidc"], message: "must be true for cluster.serviceAccounts (IAM roles for service accounts need the OIDC provider)" });
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

  const { spot } = worker;
  if (spot.spotInstancePools !== undefined && spot.spotAllocationStrategy !== "lowest-price") {
    found.push({
      path: ["worker", "spot", "spotInstancePools"],
      message: `only applies with spotAllocationStrategy lowest-price (it is ${spot.spotAllocationStrategy})`,
      hint: "remove spotInstancePools, or set worker.spot.spotAllocationStrategy: lowest-price",
    });
  }
  const roleGiven = worker.iam.instanceProfileARN !== undefined || worker.iam.instanceRoleARN !== undefined;
  if (roleGiven && worker.iam.attachPolicyARNs.length > 0) {
    found.push({
      path: ["worker", "iam", "attachPolicyARNs"],
      message: "cannot be combined with an existing instanceProfileARN/instanceRoleARN (eksctl does not modify a role it did not create)",
    });
  }
  if (worker.iam.instanceProfileARN !== undefined && worker.iam.instanceRoleARN === undefined) {
    found.push({ path: ["worker", "iam", "instanceRoleARN"], message: "is required with instanceProfileARN (the role is what lets the nodes join the cluster)" });
  }
  if (worker.amiFamily === "Bottlerocket" && worker.preBootstrapCommands.length > 0) {
    found.push({ path: ["worker", "preBootstrapCommands"], message: "are not supported on Bottlerocket" });
  }
  if (worker.type === "managed") {
    if (worker.iam.instanceProfileARN !== undefined) {
      found.push({ path: ["worker", "iam", "instanceProfileARN"], message: "is for self-managed nodegroups only; managed nodegroups take instanceRoleARN" });
    }
    if (spot.enabled && (spot.onDemandBaseCapacity > 0 || spot.onDemandPercentageAboveBaseCapacity > 0)) {
      found.push({
        path: ["worker", "spot"],
        message: "a managed nodegroup is all spot or all on-demand: onDemandBaseCapacity/onDemandPercentageAboveBaseCapacity need worker.type selfManaged",
      });
    }
    if (spot.spotInstancePools !== undefined) {
      found.push({
        path: ["worker", "spot", "spotInstancePools"],
        message: "is for self-managed nodegroups only",
        hint: "remove it: `spotInstancePools: null` in the environment file drops the default (or --set worker.spot.spotInstancePools=null)",
      });
    }
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
