// Today's EKS identity as converge sees it: pod identity associations and access entries, desired
// (the config) against live (what AWS says), giving typed changes with the exact argv that makes
// each one; and the reads of what is live. The born steps that show and apply them are in
// steps/identity.ts.
//   missing -> create, changed -> update, extra -> reported (never deleted here)
// The authenticationMode change is one-way (CONFIG_MAP -> API_AND_CONFIG_MAP -> API); a plan after
// which the principal running eksbox would no longer be cluster admin is refused (checkLockOut).
import { authenticationModes, clusterAdminPolicyARN, type EnvironmentConfig } from "../../config/schema.js";
import { UserError } from "../../core/errors.js";
import { runJson } from "../cloud.js";
import type { LifecycleContext } from "../lifecycle.js";

export type IdentityChangeKind = "create" | "update" | "extra" | "one-way";

export interface IdentityChange {
  /** "podidentityassociation/<ns>/<sa>", "accessentry/<principal>", "cluster/<name>". */
  resource: string;
  field: string;
  live: unknown;
  wanted: unknown;
  kind: IdentityChangeKind;
  /** The commands that make it; none for an extra, which is only reported. */
  commands: string[][];
}

export interface Target {
  cluster: string;
  region: string;
  /** build/<env>/cluster.yaml, for the eksctl commands that read it. */
  clusterFile: string;
}

type Cluster = EnvironmentConfig["cluster"];
export type DesiredAssociation = Cluster["podIdentityAssociations"][number];
export type DesiredAccess = NonNullable<Cluster["access"]>;
export type DesiredEntry = DesiredAccess["entries"][number];

export interface LiveAssociation {
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn?: string;
  /** For associations whose role eksctl made from attachPolicyARNs: the role's attached policies. */
  attachedPolicyArns?: string[];
}

export interface LivePolicy {
  policyARN: string;
  accessScope: { type: string; namespaces?: string[] };
}

export interface LiveEntry {
  principalARN: string;
  kubernetesGroups?: string[];
  accessPolicies?: LivePolicy[];
}

export interface LiveAccess {
  authenticationMode: string;
  entries: LiveEntry[];
}

const sorted = (values: readonly string[] | undefined) => [...(values ?? [])].sort();
const sameSet = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

// ---- pod identity associations -------------------------------------------------------------------

export function associationKey(a: { namespace: string; serviceAccountName?: string; serviceAccount?: string }): string {
  return `${a.namespace}/${a.serviceAccountName ?? a.serviceAccount}`;
}

/** `eksctl <verb> podidentityassociation` for one association: the flags that name it. */
function associationArgv(verb: "create" | "update", a: DesiredAssociation, t: Target): string[] {
  return [
    "eksctl",
    verb,
    "podidentityassociation",
    "--cluster",
    t.cluster,
    "--region",
    t.region,
    "--namespace",
    a.namespace,
    "--service-account-name",
    a.serviceAccountName,
  ];
}

export function createAssociationArgv(a: DesiredAssociation, t: Target): string[] {
  const argv = associationArgv("create", a, t);
  if (a.roleARN) argv.push("--role-arn", a.roleARN);
  else {
    argv.push(`--permission-policy-arns=${a.attachPolicyARNs.join(",")}`);
    if (a.roleName) argv.push("--role-name", a.roleName);
  }
  if (a.targetRoleARN) argv.push("--target-role-arn", a.targetRoleARN);
  if (a.createServiceAccount) argv.push("--create-service-account");
  return argv;
}

/** desired vs live pod identity associations -> the changes, in the order they are made. */
export function podIdentityChanges(desired: readonly DesiredAssociation[], live: readonly LiveAssociation[], t: Target): IdentityChange[] {
  const changes: IdentityChange[] = [];
  const liveByKey = new Map(live.map((a) => [associationKey(a), a]));
  const update = (a: DesiredAssociation) => associationArgv("update", a, t);
  for (const a of desired) {
    const key = associationKey(a);
    const resource = `podidentityassociation/${key}`;
    const current = liveByKey.get(key);
    if (!current) {
      changes.push({
        resource,
        field: "association",
        live: null,
        wanted: a.roleARN ?? a.attachPolicyARNs,
        kind: "create",
        commands: [createAssociationArgv(a, t)],
      });
      continue;
    }
    if (a.roleARN && current.roleArn !== a.roleARN) {
      changes.push({
        resource,
        field: "roleARN",
        live: current.roleArn,
        wanted: a.roleARN,
        kind: "update",
        commands: [[...update(a), "--role-arn", a.roleARN]],
      });
    }
    if (!a.roleARN && current.attachedPolicyArns && !sameSet(current.attachedPolicyArns, a.attachPolicyARNs)) {
      changes.push({
        resource,
        field: "attachPolicyARNs",
        live: sorted(current.attachedPolicyArns),
        wanted: sorted(a.attachPolicyARNs),
        kind: "update",
        commands: [["eksctl", "update", "podidentityassociation", "-f", t.clusterFile]],
      });
    }
    if ((current.targetRoleArn ?? "") !== (a.targetRoleARN ?? "")) {
      changes.push({
        resource,
        field: "targetRoleARN",
        live: current.targetRoleArn ?? null,
        wanted: a.targetRoleARN ?? null,
        kind: "update",
        commands: [[...update(a), "--target-role-arn", a.targetRoleARN ?? ""]],
      });
    }
  }
  const wanted = new Set(desired.map(associationKey));
  for (const a of live) {
    const key = associationKey(a);
    if (!wanted.has(key))
      changes.push({
        resource: `podidentityassociation/${key}`,
        field: "association",
        live: a.roleArn,
        wanted: null,
        kind: "extra",
        commands: [],
      });
  }
  return changes;
}

// ---- access entries -----------------------------------------------------------------------------

const awsEks = (t: Target, verb: string) => ["aws", "eks", verb, "--cluster-name", t.cluster, "--region", t.region];

function scopeArg(scope: { type: string; namespaces?: string[] }): string {
  return scope.type === "namespace" ? `type=namespace,namespaces=${(scope.namespaces ?? []).join(",")}` : "type=cluster";
}

function sameScope(a: { type: string; namespaces?: string[] }, b: { type: string; namespaces?: string[] }): boolean {
  return a.type === b.type && sameSet(a.namespaces, b.namespaces);
}

/** Whether an entry, as it will be, makes its principal cluster admin. */
export function grantsClusterAdmin(entry: Pick<LiveEntry, "accessPolicies" | "kubernetesGroups"> | undefined): boolean {
  if (!entry) return false;
  return (
    (entry.accessPolicies ?? []).some((p) => p.policyARN === clusterAdminPolicyARN && p.accessScope.type === "cluster") ||
    (entry.kubernetesGroups ?? []).includes("system:masters")
  );
}

/** desired vs live access config -> the changes, the one-way mode change first. */
export function accessChanges(desired: DesiredAccess, live: LiveAccess, t: Target): IdentityChange[] {
  const changes: IdentityChange[] = [];
  if (live.authenticationMode !== desired.authenticationMode) {
    const from = authenticationModes.indexOf(live.authenticationMode as (typeof authenticationModes)[number]);
    const to = authenticationModes.indexOf(desired.authenticationMode);
    if (from > to) {
      throw new UserError(
        `cluster ${t.cluster} is in authenticationMode ${live.authenticationMode}; EKS cannot go back to ${desired.authenticationMode} (CONFIG_MAP -> API_AND_CONFIG_MAP -> API is one-way)`,
        { hint: `set cluster.access.authenticationMode: ${live.authenticationMode} in the config` },
      );
    }
    changes.push({
      resource: `cluster/${t.cluster}`,
      field: "authenticationMode",
      live: live.authenticationMode,
      wanted: desired.authenticationMode,
      kind: "one-way",
      commands: [
        [
          "aws",
          "eks",
          "update-cluster-config",
          "--name",
          t.cluster,
          "--region",
          t.region,
          "--access-config",
          `authenticationMode=${desired.authenticationMode}`,
          // Its answer is read (the update's id, waited for: steps/cluster-update.ts), whatever the profile's output setting.
          "--output",
          "json",
        ],
      ],
    });
  }
  const liveByPrincipal = new Map(live.entries.map((e) => [e.principalARN, e]));
  const missing = desired.entries.filter((e) => !liveByPrincipal.has(e.principalARN));
  // eksctl creates every entry of the file whose stack does not exist yet: one command for all.
  missing.forEach((entry, index) =>
    changes.push({
      resource: `accessentry/${entry.principalARN}`,
      field: "entry",
      live: null,
      wanted: { kubernetesGroups: entry.kubernetesGroups, accessPolicies: entry.accessPolicies.map((p) => p.policyARN) },
      kind: "create",
      commands: index === 0 ? [["eksctl", "create", "accessentry", "-f", t.clusterFile]] : [],
    }),
  );
  for (const entry of desired.entries) {
    const current = liveByPrincipal.get(entry.principalARN);
    if (!current) continue;
    const resource = `accessentry/${entry.principalARN}`;
    const withPrincipal = (verb: string) => [...awsEks(t, verb), "--principal-arn", entry.principalARN];
    if (!sameSet(current.kubernetesGroups, entry.kubernetesGroups)) {
      const groups = entry.kubernetesGroups.length > 0 ? entry.kubernetesGroups : ["[]"];
      changes.push({
        resource,
        field: "kubernetesGroups",
        live: sorted(current.kubernetesGroups),
        wanted: sorted(entry.kubernetesGroups),
        kind: "update",
        commands: [[...withPrincipal("update-access-entry"), "--kubernetes-groups", ...groups]],
      });
    }
    const livePolicies = new Map((current.accessPolicies ?? []).map((p) => [p.policyARN, p]));
    for (const policy of entry.accessPolicies) {
      const had = livePolicies.get(policy.policyARN);
      if (had && sameScope(had.accessScope, policy.accessScope)) continue;
      changes.push({
        resource,
        field: `accessPolicies[${policy.policyARN.split("/").pop()}]`,
        live: had ? scopeArg(had.accessScope) : null,
        wanted: scopeArg(policy.accessScope),
        kind: had ? "update" : "create",
        commands: [
          [...withPrincipal("associate-access-policy"), "--policy-arn", policy.policyARN, "--access-scope", scopeArg(policy.accessScope)],
        ],
      });
    }
    const wantedPolicies = new Set(entry.accessPolicies.map((p) => p.policyARN));
    for (const had of current.accessPolicies ?? []) {
      if (wantedPolicies.has(had.policyARN)) continue;
      changes.push({
        resource,
        field: `accessPolicies[${had.policyARN.split("/").pop()}]`,
        live: scopeArg(had.accessScope),
        wanted: null,
        kind: "update",
        commands: [[...withPrincipal("disassociate-access-policy"), "--policy-arn", had.policyARN]],
      });
    }
  }
  const wanted = new Set(desired.entries.map((e) => e.principalARN));
  for (const entry of live.entries) {
    if (!wanted.has(entry.principalARN)) {
      changes.push({
        resource: `accessentry/${entry.principalARN}`,
        field: "entry",
        live: (entry.accessPolicies ?? []).map((p) => p.policyARN),
        wanted: null,
        kind: "extra",
        commands: [],
      });
    }
  }
  return changes;
}

/** arn:aws:sts::1:assumed-role/R/session is the IAM role arn:aws:iam::1:role/R to EKS. */
export function principalOf(callerArn: string): string {
  const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(callerArn);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return callerArn.replace(/^arn:(aws[a-z-]*):sts::/, "arn:$1:iam::");
}

/**
 * Refuses a plan after which the principal running eksbox would not be cluster admin: when the mode
 * becomes API (the aws-auth ConfigMap stops counting) or the plan takes away the admin it has.
 * Entries the config does not name are kept (extras are only reported), so they count as they are.
 */
export function checkLockOut(callerArn: string, desired: DesiredAccess, live: LiveAccess, clusterName: string): void {
  const principal = principalOf(callerArn);
  const liveEntry = live.entries.find((e) => e.principalARN === principal);
  const desiredEntry = desired.entries.find((e) => e.principalARN === principal);
  const after = desiredEntry ?? liveEntry;
  if (grantsClusterAdmin(after)) return;
  const adminBefore = grantsClusterAdmin(liveEntry);
  if (desired.authenticationMode !== "API" && !adminBefore) return;
  const why = adminBefore
    ? `the plan takes cluster admin away from ${principal}`
    : `in authenticationMode API only access entries count, and ${principal} would have none with cluster admin`;
  throw new UserError(`refusing a plan that locks out the principal running eksbox from cluster ${clusterName}: ${why}`, {
    hint: `keep an entry for it in cluster.access.entries with policyARN ${clusterAdminPolicyARN} (accessScope type cluster), or run eksbox as a principal that keeps one`,
  });
}

// ---- reading live state -------------------------------------------------------------------------

interface AssociationSummary {
  namespace: string;
  serviceAccount: string;
  associationId: string;
}

export async function livePodIdentityAssociations(
  ctx: LifecycleContext,
  step: string,
  desired: readonly DesiredAssociation[],
): Promise<LiveAssociation[]> {
  const { clusterName: cluster, region } = ctx.facts;
  const list = await runJson<{ associations?: AssociationSummary[] }>(ctx.toolbox, step, [
    "aws",
    "eks",
    "list-pod-identity-associations",
    "--cluster-name",
    cluster,
    "--region",
    region,
    "--output",
    "json",
  ]);
  const withPolicies = new Set(desired.filter((a) => !a.roleARN).map(associationKey));
  return Promise.all(
    (list.associations ?? []).map(async (summary) => {
      const { association } = await runJson<{ association: { roleArn: string; targetRoleArn?: string } }>(ctx.toolbox, step, [
        "aws",
        "eks",
        "describe-pod-identity-association",
        "--cluster-name",
        cluster,
        "--region",
        region,
        "--association-id",
        summary.associationId,
        "--output",
        "json",
      ]);
      const live: LiveAssociation = {
        namespace: summary.namespace,
        serviceAccount: summary.serviceAccount,
        roleArn: association.roleArn,
        targetRoleArn: association.targetRoleArn || undefined,
      };
      if (withPolicies.has(associationKey(live))) {
        // The facts' read: converge reads the same roles' policies for the identity step's other checks.
        live.attachedPolicyArns = (await ctx.facts.attachedPolicies([association.roleArn])).get(association.roleArn) ?? [];
      }
      return live;
    }),
  );
}

export async function liveAccess(ctx: LifecycleContext, step: string): Promise<LiveAccess> {
  const cluster = await ctx.facts.cluster();
  const authenticationMode = cluster?.authenticationMode ?? "CONFIG_MAP";
  if (authenticationMode === "CONFIG_MAP") return { authenticationMode, entries: [] };
  const rows = await runJson<LiveEntry[]>(ctx.toolbox, step, [
    "eksctl",
    "get",
    "accessentry",
    "--cluster",
    ctx.facts.clusterName,
    "--region",
    ctx.facts.region,
    "-o",
    "json",
  ]);
  return { authenticationMode, entries: Array.isArray(rows) ? rows : [] };
}
