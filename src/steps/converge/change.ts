// One difference converge found between the config and the live cluster. A leaf of the import graph:
// the step model (StepDecision.changes) and born's options carry changes without depending on the diff.
export type ChangeKind =
  /** Missing: the step creates it. */
  | "create"
  /** Changed where it stands (a size, logging, endpoint access, tags, policies, an addon version). */
  | "inPlace"
  /** Baked into the nodegroup's launch template: only a new nodegroup version (a roll) changes it. */
  | "roll"
  | "zoneAdd"
  /** A zone left the config: its nodegroup is drained and deleted (destructive). */
  | "zoneRemove"
  /** The Kubernetes version: eksbox upgrade's work. */
  | "version"
  /** Cannot change on a live cluster: refused. */
  | "immutable"
  /** Live, of eksbox's kind and naming, but no longer in the config: deleted only with --prune. */
  | "extra"
  /**
   * Capacity that autoscaling.mode moved elsewhere (a nodegroup of a pool Karpenter provisions now, or
   * that autoMode no longer has; Auto Mode itself after a switch away): removed once the new capacity
   * has Ready nodes (destructive).
   */
  | "modeSwitch"
  /** Cannot be undone (authenticationMode CONFIG_MAP -> API_AND_CONFIG_MAP -> API): needs --yes. */
  | "oneWay";

export type ConvergeStep =
  "cluster" | "nodegroups" | "serviceaccounts" | "addons" | "podidentity" | "access" | "capacity" | "support" | "gitops";

export interface Change {
  step: ConvergeStep;
  /** "cluster e2e", "nodegroup worker-1a-20261126", "serviceaccount kube-system/external-dns", "addon vpc-cni". */
  resource: string;
  field: string;
  live: unknown;
  wanted: unknown;
  kind: ChangeKind;
  destructive: boolean;
  /** Shown and compared, but not applied unless asked for (desiredCapacity belongs to the autoscaler). */
  reportOnly?: boolean;
  /** The command that makes it; several changes can share one. None for roll/version/immutable. */
  argv?: string[];
  /** The config key it comes from (for immutable changes and messages). */
  key?: string;
  /** Why, or what to do about it. */
  note?: string;
}
