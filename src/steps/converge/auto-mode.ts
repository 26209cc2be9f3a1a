// EKS Auto Mode on a live cluster, compared (pure, like diff.ts): what cluster.yaml's autoModeConfig
// wants against describe-cluster's computeConfig. Every change goes through `eksctl update
// auto-mode-config -f build/<env>/cluster.yaml`, which reads autoModeConfig.enabled (true or false, so
// eksbox writes it in every mode) and nodePools, and does what eksctl does to turn Auto Mode on
// (Auto Mode's policies on the cluster role, its node role, UpdateClusterConfig) or off.
//   to autoMode: Auto Mode on (cluster step, not destructive); then the nodegroups eksbox made that
//     the config no longer names are drained and deleted once Auto Mode has Ready nodes (capacity step,
//     destructive);
//   its node pools changed: in place (cluster step);
//   away from autoMode: the nodegroups step creates the config's nodegroups; once they have Ready nodes,
//     Auto Mode is turned off (capacity step, destructive: Auto Mode's instances are terminated).
import type { Change } from "./change.js";
import { drainAndDeleteNodegroupArgv } from "../eksctl-argv.js";

/** What of diff.ts's desired state, live state and context the comparison reads (diff.ts imports this module). */
export interface AutoModeDesired {
  cluster: { name: string; region: string; autoMode?: { enabled: boolean; nodePools: string[] } };
  nodegroups: readonly { name: string }[];
}
export interface AutoModeLive {
  cluster?: { autoMode?: boolean; autoModeNodePools?: string[] };
  nodegroups: readonly { name: string; specHash?: string }[];
}
export interface AutoModeContext {
  paths: { cluster: string };
  /** The node pool of a live nodegroup name of the config's pools. */
  poolOf?(name: string): string | undefined;
}

/** The label EKS Auto Mode puts on every node it launches. */
export const AUTO_MODE_COMPUTE_LABEL = "eks.amazonaws.com/compute-type";

export const AUTO_MODE_FIELD = "autoModeConfig.enabled";

const sorted = (values: readonly string[]) => [...new Set(values)].sort();

export function autoModeArgv(ctx: AutoModeContext): string[] {
  return ["eksctl", "update", "auto-mode-config", "-f", ctx.paths.cluster];
}

export function autoModeChanges(desired: AutoModeDesired, live: AutoModeLive, ctx: AutoModeContext): Change[] {
  const want = desired.cluster.autoMode;
  const have = live.cluster;
  if (!want || !have) return [];
  const { name: cluster, region } = desired.cluster;
  const resource = `cluster ${cluster}`;
  const argv = autoModeArgv(ctx);
  const on = have.autoMode === true;
  const changes: Change[] = [];
  if (want.enabled && !on) {
    changes.push({
      step: "cluster",
      resource,
      field: AUTO_MODE_FIELD,
      live: false,
      wanted: true,
      kind: "inPlace",
      destructive: false,
      argv,
      key: "autoscaling.mode",
      note: `EKS Auto Mode on, node pools ${want.nodePools.join(", ") || "(none)"} (eksctl adds Auto Mode's policies to the cluster role and creates its node role); the nodegroups keep running until Auto Mode has Ready nodes`,
    });
  }
  if (want.enabled && on && JSON.stringify(sorted(want.nodePools)) !== JSON.stringify(sorted(have.autoModeNodePools ?? []))) {
    changes.push({
      step: "cluster",
      resource,
      field: "autoModeConfig.nodePools",
      live: sorted(have.autoModeNodePools ?? []),
      wanted: sorted(want.nodePools),
      kind: "inPlace",
      destructive: false,
      argv,
      key: "autoscaling.autoModeNodePools",
    });
  }
  if (want.enabled) {
    // The nodegroups eksbox made (they carry its spec hash) that no pool of the config names any more.
    const desiredNames = new Set(desired.nodegroups.map((ng) => ng.name));
    for (const ng of live.nodegroups) {
      if (ng.specHash === undefined || desiredNames.has(ng.name) || ctx.poolOf?.(ng.name) !== undefined) continue;
      changes.push({
        step: "capacity",
        resource: `nodegroup ${ng.name}`,
        field: "(nodegroup)",
        live: ng.name,
        wanted: null,
        kind: "modeSwitch",
        destructive: true,
        argv: drainAndDeleteNodegroupArgv(cluster, region, ng.name),
        key: "autoscaling.mode",
        note: "no pool of the config names it in autoMode: drained and deleted once EKS Auto Mode has Ready nodes",
      });
    }
  }
  if (!want.enabled && on) {
    changes.push({
      step: "capacity",
      resource,
      field: AUTO_MODE_FIELD,
      live: true,
      wanted: false,
      kind: "modeSwitch",
      destructive: true,
      argv,
      key: "autoscaling.mode",
      note: "EKS Auto Mode off once the config's nodegroups have Ready nodes: Auto Mode's instances are terminated (their pods move to the nodegroups), its node role deleted",
    });
  }
  return changes;
}
