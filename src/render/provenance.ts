// Points a problem in a rendered document back at what produced it: the template line that
// writes the key, and the config key whose value ended up there.
import type { KeyPath } from "../config/yaml-source.js";

const clusterKeys: [RegExp, string][] = [
  [/^metadata\.version/, "cluster.version"],
  [/^metadata\.name/, "cluster.name"],
  [/^metadata\.region/, "aws.region"],
  [/^metadata\.tags/, "cluster.tags"],
  [/^cloudWatch\.clusterLogging\.logRetentionInDays/, "cluster.logRetentionInDays"],
  [/^cloudWatch/, "cluster.logging"],
  [/^vpc\.publicAccessCIDRs/, "cluster.endpoint.publicAccessCIDRs"],
  [/^vpc\.clusterEndpoints/, "cluster.endpoint"],
  [/^vpc\.subnets/, "cluster.vpc.subnets"],
  [/^iam\.withOIDC/, "cluster.oidc"],
  [/^iam\.serviceAccounts/, "cluster.serviceAccounts"],
  [/^addons/, "cluster.addons"],
];

const nodegroupFields: Record<string, string> = {
  name: "worker.namePrefix / worker.version",
  amiFamily: "worker.amiFamily",
  ami: "worker.ami",
  minSize: "worker.minSize",
  maxSize: "worker.maxSize",
  desiredCapacity: "worker.desiredCapacity",
  volumeSize: "worker.volume.size",
  volumeType: "worker.volume.type",
  volumeEncrypted: "worker.volume.encrypted",
  volumeKmsKeyID: "worker.volume.kmsKeyID",
  privateNetworking: "worker.privateNetworking",
  availabilityZones: "worker.zones",
  labels: "worker.labels",
  taints: "worker.taints",
  tags: "worker.tags",
  iam: "worker.iam",
  securityGroups: "worker.securityGroups",
  preBootstrapCommands: "worker.preBootstrapCommands",
  instancesDistribution: "worker.spot / worker.instanceTypes",
  instanceTypes: "worker.instanceTypes",
  instanceType: "worker.instanceTypes",
  spot: "worker.spot.enabled",
  kubeletExtraConfig: "worker.logRotation",
  overrideBootstrapCommand: "worker.logRotation",
  bottlerocket: "worker.logRotation",
};

export function configKeyFor(path: KeyPath): string | undefined {
  if (path[0] === "metadata") {
    const dotted = path.join(".");
    return clusterKeys.find(([pattern]) => pattern.test(dotted))?.[1];
  }
  if ((path[0] === "nodeGroups" || path[0] === "managedNodeGroups") && typeof path[2] === "string") {
    return nodegroupFields[path[2]];
  }
  const dotted = path.filter((p) => typeof p === "string").join(".");
  return clusterKeys.find(([pattern]) => pattern.test(dotted))?.[1];
}

/**
 * The template line that writes the deepest key of `path` that appears literally in the template
 * (keys printed from config, such as label names, fall back to their parent).
 */
export function templateLineFor(templateSource: string, path: KeyPath): number | undefined {
  const lines = templateSource.split("\n");
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment !== "string") continue;
    const escaped = segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const keyLine = new RegExp(`^\\s*(- )?${escaped}:`);
    const index = lines.findIndex((line) => keyLine.test(line));
    if (index !== -1) return index + 1;
  }
  return undefined;
}
