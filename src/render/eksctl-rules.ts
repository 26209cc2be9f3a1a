// eksctl rules its JSON Schema does not express but that decide whether `eksctl create` works,
// checked on the rendered documents so they also hold for hand-edited templates.
import { compareKubernetesVersions } from "../config/rules.js";
import { AL2_EOL_VERSION } from "../config/schema.js";
import { isPlainObject } from "../config/merge.js";
import { autoscalerTags } from "./view-model.js";

export interface RuleFinding {
  document: "cluster" | "nodegroups";
  path: (string | number)[];
  message: string;
  hint?: string;
}

const selfManagedOnly = ["instancesDistribution", "kubeletExtraConfig"] as const;
const managedOnly = ["spot", "instanceTypes"] as const;

export function checkRenderedRules(
  cluster: Record<string, unknown>,
  nodegroups: Record<string, unknown>,
  opts: { clusterAutoscaler: boolean },
): RuleFinding[] {
  const found: RuleFinding[] = [];
  const clusterMeta = isPlainObject(cluster.metadata) ? cluster.metadata : {};
  const version = clusterMeta.version;
  if (typeof version !== "string" || !/^\d+\.\d+$/.test(version)) {
    found.push({
      document: "cluster",
      path: ["metadata", "version"],
      message: `must be a quoted string such as "1.34" (got ${JSON.stringify(version)})`,
      hint: 'write version: "1.34": unquoted, YAML reads 1.30 as the number 1.3',
    });
  }
  for (const key of ["nodeGroups", "managedNodeGroups"]) {
    if (key in cluster) {
      found.push({ document: "cluster", path: [key], message: "nodegroups belong in nodegroups.yaml (created separately, so they can be replaced without touching the cluster)" });
    }
  }

  const nodegroupMeta = isPlainObject(nodegroups.metadata) ? nodegroups.metadata : {};
  for (const key of ["name", "region"]) {
    if (nodegroupMeta[key] !== clusterMeta[key]) {
      found.push({ document: "nodegroups", path: ["metadata", key], message: `is ${JSON.stringify(nodegroupMeta[key])} but cluster.yaml says ${JSON.stringify(clusterMeta[key])}` });
    }
  }
  if (nodegroupMeta.version !== undefined && typeof nodegroupMeta.version !== "string") {
    found.push({ document: "nodegroups", path: ["metadata", "version"], message: 'must be a quoted string such as "1.34"' });
  }
  const clusterName = typeof clusterMeta.name === "string" ? clusterMeta.name : "";
  const names = new Set<string>();
  let count = 0;
  for (const kind of ["nodeGroups", "managedNodeGroups"] as const) {
    const list = nodegroups[kind];
    if (list === undefined) continue;
    if (!Array.isArray(list)) continue; // the schema reports it
    list.forEach((ng: unknown, index) => {
      if (!isPlainObject(ng)) return;
      count++;
      const at = (...rest: (string | number)[]) => [kind, index, ...rest];
      const name = String(ng.name);
      if (names.has(name)) found.push({ document: "nodegroups", path: at("name"), message: `${name} is used twice` });
      names.add(name);

      if (ng.amiFamily === "AmazonLinux2" && typeof version === "string" && compareKubernetesVersions(version, AL2_EOL_VERSION) >= 0) {
        found.push({ document: "nodegroups", path: at("amiFamily"), message: `AmazonLinux2 is refused by eksctl for Kubernetes ${version} (>= ${AL2_EOL_VERSION})`, hint: "use AmazonLinux2023" });
      }
      const wrongFields = kind === "managedNodeGroups" ? selfManagedOnly : managedOnly;
      for (const field of wrongFields) {
        if (field in ng) {
          found.push({
            document: "nodegroups",
            path: at(field),
            message: kind === "managedNodeGroups" ? "is for self-managed nodeGroups only" : "is for managedNodeGroups only",
            hint: kind === "managedNodeGroups" ? undefined : "self-managed nodegroups take instancesDistribution.instanceTypes",
          });
        }
      }
      if (kind === "managedNodeGroups" && isPlainObject(ng.iam) && ng.iam.instanceProfileARN !== undefined) {
        found.push({ document: "nodegroups", path: at("iam", "instanceProfileARN"), message: "is for self-managed nodeGroups only; managed nodegroups take instanceRoleARN" });
      }
      if (kind === "nodeGroups" && ng.instancesDistribution !== undefined && ng.instanceType !== undefined && ng.instanceType !== "mixed") {
        found.push({ document: "nodegroups", path: at("instanceType"), message: 'must be absent or "mixed" with instancesDistribution' });
      }
      const distribution = ng.instancesDistribution;
      if (isPlainObject(distribution) && distribution.spotInstancePools !== undefined && (distribution.spotAllocationStrategy ?? "lowest-price") !== "lowest-price") {
        found.push({ document: "nodegroups", path: at("instancesDistribution", "spotInstancePools"), message: "only applies with spotAllocationStrategy lowest-price" });
      }
      if (String(ng.amiFamily ?? "").startsWith("Bottlerocket") && Array.isArray(ng.preBootstrapCommands) && ng.preBootstrapCommands.length > 0) {
        found.push({ document: "nodegroups", path: at("preBootstrapCommands"), message: "are not supported on Bottlerocket" });
      }

      const zones = Array.isArray(ng.availabilityZones) ? ng.availabilityZones : [];
      const subnets = Array.isArray(ng.subnets) ? ng.subnets : [];
      if (!(zones.length === 1 || (zones.length === 0 && subnets.length === 1))) {
        found.push({
          document: "nodegroups",
          path: at(zones.length > 0 ? "availabilityZones" : "name"),
          message: `must be in exactly one zone (has ${zones.length || subnets.length || "none"})`,
          hint: "one nodegroup per zone lets cluster-autoscaler grow the zone that needs capacity",
        });
      }

      const autoscaled = typeof ng.minSize === "number" && typeof ng.maxSize === "number" && ng.minSize !== ng.maxSize;
      if (opts.clusterAutoscaler && autoscaled) {
        const tags = isPlainObject(ng.tags) ? ng.tags : {};
        const missing = Object.entries(autoscalerTags(clusterName)).filter(([k, v]) => tags[k] !== v);
        if (missing.length > 0) {
          found.push({
            document: "nodegroups",
            path: at("tags"),
            message: `lacks the cluster-autoscaler discovery tag${missing.length > 1 ? "s" : ""} ${missing.map(([k, v]) => `${k}: "${v}"`).join(", ")}`,
            hint: "without them cluster-autoscaler never scales this group",
          });
        }
        if (kind === "managedNodeGroups" && ng.propagateASGTags !== true) {
          found.push({ document: "nodegroups", path: at("propagateASGTags"), message: "must be true so the discovery tags reach the Auto Scaling group" });
        }
      }
    });
  }
  if (count === 0) found.push({ document: "nodegroups", path: [], message: "defines no nodegroups" });
  return found;
}
