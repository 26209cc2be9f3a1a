// What the templates see: the environment's config plus the values derived from it (nodegroup
// names, tags, log rotation in the form each node image reads it).
import type { Environment } from "../config/schema.js";

export interface NodegroupView {
  /** worker-1b-20261125: the prefix, the zone's suffix, the worker version. */
  name: string;
  zone: string;
}

export function nodegroupName(namePrefix: string, zone: string, workerVersion: string): string {
  return `${namePrefix}-${zone.split("-").pop()}-${workerVersion}`;
}

export function autoscalerTags(clusterName: string): Record<string, string> {
  return { "k8s.io/cluster-autoscaler/enabled": "true", [`k8s.io/cluster-autoscaler/${clusterName}`]: "owned" };
}

export function buildViewModel(env: Environment, workerVersion: string): Record<string, unknown> {
  const { aws, cluster, worker, gitops } = env.config;
  const nodegroups: NodegroupView[] = worker.zones.map((zone) => ({ name: nodegroupName(worker.namePrefix, zone, workerVersion), zone }));
  const logRotation = { containerLogMaxSize: worker.logRotation.maxSize, containerLogMaxFiles: worker.logRotation.maxFiles };
  const isBottlerocket = worker.amiFamily === "Bottlerocket";
  const isAl2023 = worker.amiFamily === "AmazonLinux2023";
  return {
    env: env.name,
    aws,
    cluster,
    worker,
    gitops,
    workerVersion,
    nodegroups,
    nodegroupTags: { ...worker.tags, ...(worker.clusterAutoscaler ? autoscalerTags(cluster.name) : {}) },
    // Self-managed nodegroups: eksctl passes kubeletExtraConfig to kubelet (on AL2023 through nodeadm).
    kubeletLogRotation: worker.type === "selfManaged" && !isBottlerocket ? logRotation : undefined,
    // Managed AL2023 nodegroups have no kubeletExtraConfig; EKS merges this NodeConfig with its own.
    nodeadmConfig:
      worker.type === "managed" && isAl2023 && !worker.ami
        ? { apiVersion: "node.eks.aws/v1alpha1", kind: "NodeConfig", spec: { kubelet: { config: logRotation } } }
        : undefined,
    bottlerocketLogRotation: isBottlerocket
      ? { kubernetes: { "container-log-max-size": logRotation.containerLogMaxSize, "container-log-max-files": logRotation.containerLogMaxFiles } }
      : undefined,
  };
}
