// eksctl rules its JSON Schema does not express but that decide whether `eksctl create` works,
// checked on the rendered documents so they also hold for hand-edited templates.
import { compareKubernetesVersions } from "../config/rules.js";
import { AL2_EOL_VERSION, type AutoscalingMode } from "../config/schema.js";
import { isReservedNodeLabel, labelValueFault, qualifiedNameFault, TAINT_EFFECTS } from "../config/kubernetes-labels.js";
import { isPlainObject } from "../config/merge.js";
import { AUTO_MODE_BUILTIN_ADDONS, autoscalerTags } from "./view-model.js";

export interface RuleFinding {
  document: "cluster" | "nodegroups";
  path: (string | number)[];
  message: string;
  hint?: string;
  /**
   * "eksbox" marks the project's own policy (one zone per nodegroup, nodegroups in their own file,
   * the autoscaler tags): eksctl accepts such files. The oracle tests (test/oracle/) compare only the
   * other findings with real eksctl's verdict.
   */
  policy?: "eksbox";
}

/**
 * Kubernetes versions eksctl creates clusters with. eksctl asks EKS (DescribeClusterVersions) at run
 * time; this is that list when eksctl 0.230.0 was pinned, so that "1.3" or "1.9" fails in
 * `eksbox validate` rather than in `eksctl create cluster`. Add a version here when EKS adds one.
 */
export const EKS_KUBERNETES_VERSIONS = ["1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"] as const;

const selfManagedOnly = ["instancesDistribution", "kubeletExtraConfig"] as const;
const managedOnly = ["spot", "instanceTypes"] as const;

export function checkRenderedRules(
  cluster: Record<string, unknown>,
  nodegroups: Record<string, unknown>,
  opts: { mode: AutoscalingMode; discoverable: (nodegroupName: string) => boolean },
): RuleFinding[] {
  const found: RuleFinding[] = [];
  const clusterMeta = isPlainObject(cluster.metadata) ? cluster.metadata : {};
  const version = clusterMeta.version;
  if (version === undefined) {
    // eksctl would take its default version; eksbox always says which one.
    found.push({
      document: "cluster",
      path: ["metadata", "version"],
      message: 'is missing: write the Kubernetes version, such as "1.34"',
      policy: "eksbox",
    });
  } else if (typeof version !== "string" || !/^\d+\.\d+$/.test(version)) {
    found.push({
      document: "cluster",
      path: ["metadata", "version"],
      message: `must be a quoted string such as "1.34" (got ${JSON.stringify(version)})`,
      hint: 'write version: "1.34": unquoted, YAML reads 1.30 as the number 1.3',
    });
  } else if (!(EKS_KUBERNETES_VERSIONS as readonly string[]).includes(version)) {
    found.push({
      document: "cluster",
      path: ["metadata", "version"],
      message: `${version} is not a Kubernetes version EKS offers (${EKS_KUBERNETES_VERSIONS.join(", ")})`,
      hint: version.length < 4 ? 'a quoted "1.3" is not "1.30": write the minor version in full' : undefined,
    });
  }
  for (const key of ["nodeGroups", "managedNodeGroups"]) {
    if (key in cluster) {
      found.push({
        document: "cluster",
        path: [key],
        message: "nodegroups belong in nodegroups.yaml (created separately, so they can be replaced without touching the cluster)",
        policy: "eksbox",
      });
    }
  }

  const nodegroupMeta = isPlainObject(nodegroups.metadata) ? nodegroups.metadata : {};
  for (const key of ["name", "region"]) {
    if (nodegroupMeta[key] !== clusterMeta[key]) {
      found.push({
        document: "nodegroups",
        path: ["metadata", key],
        message: `is ${JSON.stringify(nodegroupMeta[key])} but cluster.yaml says ${JSON.stringify(clusterMeta[key])}`,
        policy: "eksbox",
      });
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

      if (typeof ng.name === "string" && !/^[a-zA-Z][-a-zA-Z0-9]*$/.test(ng.name)) {
        const message = `${JSON.stringify(ng.name)} must be letters, digits and '-', starting with a letter`;
        found.push({ document: "nodegroups", path: at("name"), message });
      }
      if (isPlainObject(ng.labels)) {
        for (const [key, value] of Object.entries(ng.labels)) {
          const problem = labelProblem(key, value);
          if (problem) found.push({ document: "nodegroups", path: at("labels", key), message: problem });
        }
      }
      if (Array.isArray(ng.taints)) {
        ng.taints.forEach((taint: unknown, t) => {
          if (!isPlainObject(taint)) return;
          const keyProblem = typeof taint.key === "string" ? qualifiedNameProblem(taint.key) : "must be a string";
          if (keyProblem) found.push({ document: "nodegroups", path: at("taints", t, "key"), message: `taint key ${keyProblem}` });
          if (typeof taint.value === "string" && !isLabelValue(taint.value)) {
            found.push({
              document: "nodegroups",
              path: at("taints", t, "value"),
              message: `${JSON.stringify(taint.value)} is not a valid taint value: ${LABEL_VALUE_RULE}`,
            });
          }
          if (!TAINT_EFFECTS.includes(taint.effect as string)) {
            found.push({ document: "nodegroups", path: at("taints", t, "effect"), message: `must be one of ${TAINT_EFFECTS.join(", ")}` });
          }
        });
      }
      if (typeof ng.ami === "string" && ng.ami !== "") {
        const family = String(ng.amiFamily ?? "");
        const bootstrapsItself = ["AmazonLinux2023", "Bottlerocket"].includes(family) || family.startsWith("Windows");
        if (!bootstrapsItself && ng.overrideBootstrapCommand === undefined) {
          found.push({
            document: "nodegroups",
            path: at("ami"),
            message: `a custom AMI based on ${family || "an unset amiFamily"} needs overrideBootstrapCommand`,
            hint: "eksctl bootstraps custom AMIs itself only for AmazonLinux2023 and Bottlerocket",
          });
        }
        if (kind === "managedNodeGroups" && !ng.ami.startsWith("ami-")) {
          const message = `${JSON.stringify(ng.ami)} is not an AMI id (ami-...); managed nodegroups take only AMI ids`;
          found.push({ document: "nodegroups", path: at("ami"), message });
        }
      }
      // eksctl checks sizes only for managed nodegroups; for self-managed ones the Auto Scaling group
      // (desired outside min..max) or EBS (size 0) refuses them later, half-way through a create.
      const { minSize, maxSize, desiredCapacity } = ng;
      if (typeof minSize === "number" && typeof maxSize === "number" && minSize > maxSize) {
        found.push({ document: "nodegroups", path: at("minSize"), message: `is ${minSize}, above maxSize (${maxSize})` });
      } else if (
        typeof desiredCapacity === "number" &&
        ((typeof minSize === "number" && desiredCapacity < minSize) || (typeof maxSize === "number" && desiredCapacity > maxSize))
      ) {
        const bound = (v: unknown) => (typeof v === "number" ? String(v) : "?");
        const message = `is ${desiredCapacity}, outside minSize..maxSize (${bound(minSize)}..${bound(maxSize)})`;
        found.push({ document: "nodegroups", path: at("desiredCapacity"), message });
      }
      if (typeof ng.volumeSize === "number" && ng.volumeSize < 1) {
        found.push({ document: "nodegroups", path: at("volumeSize"), message: "must be at least 1 (GiB)" });
      }
      if (ng.volumeKmsKeyID !== undefined && ng.volumeEncrypted !== true) {
        found.push({ document: "nodegroups", path: at("volumeKmsKeyID"), message: "needs volumeEncrypted: true" });
      }

      if (ng.amiFamily === "AmazonLinux2" && typeof version === "string" && compareKubernetesVersions(version, AL2_EOL_VERSION) >= 0) {
        found.push({
          document: "nodegroups",
          path: at("amiFamily"),
          message: `AmazonLinux2 is refused by eksctl for Kubernetes ${version} (>= ${AL2_EOL_VERSION})`,
          hint: "use AmazonLinux2023",
        });
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
        found.push({
          document: "nodegroups",
          path: at("iam", "instanceProfileARN"),
          message: "is for self-managed nodeGroups only; managed nodegroups take instanceRoleARN",
        });
      }
      if (kind === "nodeGroups" && ng.instancesDistribution !== undefined && ng.instanceType !== undefined && ng.instanceType !== "mixed") {
        found.push({ document: "nodegroups", path: at("instanceType"), message: 'must be absent or "mixed" with instancesDistribution' });
      }
      const distribution = ng.instancesDistribution;
      if (
        isPlainObject(distribution) &&
        distribution.spotInstancePools !== undefined &&
        (distribution.spotAllocationStrategy ?? "lowest-price") !== "lowest-price"
      ) {
        found.push({
          document: "nodegroups",
          path: at("instancesDistribution", "spotInstancePools"),
          message: "only applies with spotAllocationStrategy lowest-price",
        });
      }
      if (
        String(ng.amiFamily ?? "").startsWith("Bottlerocket") &&
        Array.isArray(ng.preBootstrapCommands) &&
        ng.preBootstrapCommands.length > 0
      ) {
        found.push({ document: "nodegroups", path: at("preBootstrapCommands"), message: "are not supported on Bottlerocket" });
      }
      // Bottlerocket takes its settings in `bottlerocket.settings`, not a kubelet file or a bootstrap script.
      for (const field of ["kubeletExtraConfig", "overrideBootstrapCommand"] as const) {
        if (ng.amiFamily === "Bottlerocket" && ng[field] !== undefined) {
          found.push({
            document: "nodegroups",
            path: at(field),
            message: "is not supported on Bottlerocket",
            hint: "use bottlerocket.settings",
          });
        }
      }

      const zones = Array.isArray(ng.availabilityZones) ? ng.availabilityZones : [];
      const subnets = Array.isArray(ng.subnets) ? ng.subnets : [];
      const discoverable = opts.mode === "clusterAutoscaler" && opts.discoverable(name);
      if (zones.length === 0 && subnets.length === 0) {
        found.push({ document: "nodegroups", path: at("name"), message: "is in no zone", hint: "list the pool's zones", policy: "eksbox" });
      } else if (discoverable && !(zones.length === 1 || (zones.length === 0 && subnets.length === 1))) {
        found.push({
          document: "nodegroups",
          path: at(zones.length > 0 ? "availabilityZones" : "name"),
          message: `must be in exactly one zone (has ${zones.length || subnets.length})`,
          hint: "one nodegroup per zone lets cluster-autoscaler grow the zone that needs capacity (perZone: true)",
          policy: "eksbox",
        });
      }

      const tags = isPlainObject(ng.tags) ? ng.tags : {};
      if (opts.mode !== "clusterAutoscaler" && Object.keys(autoscalerTags(clusterName)).some((k) => k in tags)) {
        found.push({
          document: "nodegroups",
          path: at("tags"),
          message: `carries cluster-autoscaler discovery tags, but autoscaling.mode is ${opts.mode}`,
          hint: "two autoscalers would fight over the same nodes: remove the tags",
          policy: "eksbox",
        });
      }
      const autoscaled = typeof ng.minSize === "number" && typeof ng.maxSize === "number" && ng.minSize !== ng.maxSize;
      if (discoverable && autoscaled) {
        const missing = Object.entries(autoscalerTags(clusterName)).filter(([k, v]) => tags[k] !== v);
        if (missing.length > 0) {
          found.push({
            document: "nodegroups",
            path: at("tags"),
            message: `lacks the cluster-autoscaler discovery tag${missing.length > 1 ? "s" : ""} ${missing.map(([k, v]) => `${k}: "${v}"`).join(", ")}`,
            hint: "without them cluster-autoscaler never scales this group",
            policy: "eksbox",
          });
        }
        if (kind === "managedNodeGroups" && ng.propagateASGTags !== true) {
          found.push({
            document: "nodegroups",
            path: at("propagateASGTags"),
            message: "must be true so the discovery tags reach the Auto Scaling group",
            policy: "eksbox",
          });
        }
      }
    });
  }
  // Auto Mode brings its own capacity: a cluster with no nodegroups is complete there.
  if (count === 0 && opts.mode !== "autoMode")
    found.push({ document: "nodegroups", path: [], message: "defines no nodegroups", policy: "eksbox" });
  if (opts.mode === "karpenter" && !isPlainObject(cluster.karpenter)) {
    found.push({
      document: "cluster",
      path: ["karpenter"],
      message: "is required in karpenter mode (eksctl installs Karpenter from it)",
      policy: "eksbox",
    });
  }
  if (opts.mode === "autoMode" && !(isPlainObject(cluster.autoModeConfig) && cluster.autoModeConfig.enabled === true)) {
    found.push({ document: "cluster", path: ["autoModeConfig", "enabled"], message: "must be true in autoMode", policy: "eksbox" });
  }
  if (isPlainObject(cluster.autoModeConfig) && cluster.autoModeConfig.enabled === true && Array.isArray(cluster.addons)) {
    cluster.addons.forEach((addon: unknown, index) => {
      if (isPlainObject(addon) && AUTO_MODE_BUILTIN_ADDONS.includes(String(addon.name))) {
        found.push({
          document: "cluster",
          path: ["addons", index, "name"],
          message: `${String(addon.name)}: eksctl refuses the core networking addons at cluster creation with Auto Mode (Auto Mode runs them)`,
        });
      }
    });
  }
  for (const [key, wanted] of [
    ["karpenter", "karpenter"],
    ["autoModeConfig", "autoMode"],
  ] as const) {
    // autoModeConfig with enabled false is how every other mode says Auto Mode is off.
    const off = key === "autoModeConfig" && isPlainObject(cluster.autoModeConfig) && cluster.autoModeConfig.enabled === false;
    if (key in cluster && opts.mode !== wanted && !off) {
      found.push({
        document: "cluster",
        path: [key],
        message: `belongs to autoscaling.mode ${wanted}, not ${opts.mode}`,
        policy: "eksbox",
      });
    }
  }
  return found;
}

// Kubernetes' label syntax and reserved labels (config/kubernetes-labels.ts), which eksctl applies to
// nodegroup labels and taints before it creates anything; worded here for the rendered file.
const LABEL_VALUE_RULE = "at most 63 characters: letters, digits, '-', '_' and '.', starting and ending with a letter or digit";

const isLabelValue = (value: string): boolean => labelValueFault(value) === undefined;

function qualifiedNameProblem(key: string): string | undefined {
  const fault = qualifiedNameFault(key);
  if (!fault) return undefined;
  if (fault.part === "slashes") return `${JSON.stringify(key)} has more than one '/'`;
  if (fault.part === "prefix") return `${JSON.stringify(key)}: the prefix before '/' must be a lower-case DNS name such as example.com`;
  return `${JSON.stringify(key)}: the name must be ${LABEL_VALUE_RULE.replace("at most 63", "1 to 63")}`;
}

function labelProblem(key: string, value: unknown): string | undefined {
  const keyProblem = qualifiedNameProblem(key);
  if (keyProblem) return `label key ${keyProblem}`;
  if (typeof value !== "string" || !isLabelValue(value)) return `${JSON.stringify(value)} is not a valid label value: ${LABEL_VALUE_RULE}`;
  if (isReservedNodeLabel(key)) return `${key} is reserved for Kubernetes (kubernetes.io/ and k8s.io/ prefixes): use your own domain`;
  return undefined;
}
