// Today's EKS identity, converged like the rest: pod identity associations and access entries.
// Each is a pure comparison of desired (the config) against live (what AWS says), giving typed
// changes with the exact argv that makes each one, so the converge plan can take them as they are;
// and a born step that reads live, compares, shows and applies them.
//   missing -> create, changed -> update, extra -> reported (never deleted here)
// The authenticationMode change is one-way (CONFIG_MAP -> API_AND_CONFIG_MAP -> API), so it needs
// --yes; a plan after which the principal running eksbox would no longer be cluster admin is refused.
import { authenticationModes, clusterAdminPolicyARN, type EnvironmentConfig } from "../config/schema.js";
import { UserError } from "../core/errors.js";
import { log } from "../core/events.js";
import { runJson } from "./cloud.js";
import { confirmDestructive } from "./guard.js";
import { envPaths } from "../core/layout.js";
import type { LifecycleContext } from "./lifecycle.js";
import { convergeFor, forgetConverge } from "./converge/converge.js";
import { runDecision, runPlannedCommands, skipDecision, stepId, type Step, type StepDecision } from "./model.js";

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

export function createAssociationArgv(a: DesiredAssociation, t: Target): string[] {
  const argv = [
    "eksctl",
    "create",
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
  const update = (a: DesiredAssociation) => [
    "eksctl",
    "update",
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
        const roleName = association.roleArn.split("/").pop()!;
        const attached = await runJson<{ AttachedPolicies?: { PolicyArn: string }[] }>(ctx.toolbox, step, [
          "aws",
          "iam",
          "list-attached-role-policies",
          "--role-name",
          roleName,
          "--output",
          "json",
        ]);
        live.attachedPolicyArns = (attached.AttachedPolicies ?? []).map((p) => p.PolicyArn);
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

// ---- showing and applying -----------------------------------------------------------------------

export function describeChange(c: IdentityChange): string {
  const show = (v: unknown) => (v === null || v === undefined ? "-" : typeof v === "string" ? v : JSON.stringify(v));
  switch (c.kind) {
    case "create":
      return `create ${c.resource}${c.field === "entry" || c.field === "association" ? "" : ` ${c.field} ${show(c.wanted)}`}`;
    case "update":
      return `update ${c.resource} ${c.field}: ${show(c.live)} -> ${show(c.wanted)}`;
    case "one-way":
      return `ONE-WAY ${c.resource} ${c.field}: ${show(c.live)} -> ${show(c.wanted)} (cannot be undone; needs --yes)`;
    case "extra":
      return `extra ${c.resource}: not in the config, kept (remove it by hand if it should go)`;
  }
}

function decisionFor(changes: IdentityChange[], noneReason: string, files: string[]): StepDecision {
  const acting = changes.filter((c) => c.kind !== "extra");
  const lines = changes.map(describeChange).join("; ");
  if (acting.length === 0) return skipDecision(changes.length > 0 ? `${noneReason}; ${lines}` : noneReason);
  return runDecision(
    lines,
    acting.flatMap((c) => c.commands),
    files,
  );
}

/** A step's share of the converge result, in this module's terms. */
async function shareOf(ctx: LifecycleContext, step: "podidentity" | "access"): Promise<IdentityChange[]> {
  const kinds: Record<string, IdentityChangeKind> = { create: "create", inPlace: "update", extra: "extra", oneWay: "one-way" };
  return (await convergeFor(ctx)).changes
    .filter((c) => c.step === step)
    .map((c) => ({ ...c, kind: kinds[c.kind] ?? "update", commands: c.argv ? [c.argv] : [] }));
}

function target(ctx: LifecycleContext): Target {
  return { cluster: ctx.facts.clusterName, region: ctx.facts.region, clusterFile: envPaths(ctx.env.name).cluster };
}

async function clusterIsUp(ctx: LifecycleContext): Promise<boolean> {
  const cluster = await ctx.facts.cluster();
  return cluster !== undefined && (cluster.status === "ACTIVE" || cluster.status === "UPDATING");
}

export const podIdentityStep: Step<LifecycleContext> = {
  id: "podidentity",
  description: "create and update the pod identity associations",
  needs: ["cluster"],
  async decide(ctx) {
    const desired = ctx.env.config.cluster.podIdentityAssociations;
    const cluster = await ctx.facts.cluster();
    if (!cluster) {
      return desired.length === 0
        ? skipDecision("no pod identity associations configured")
        : skipDecision(`eksctl create cluster creates the ${desired.length} pod identity association(s) with the cluster`);
    }
    if (!(await clusterIsUp(ctx))) return skipDecision(`cluster ${cluster.name} is ${cluster.status}`);
    // Its changes are the converge result's (diff.ts identityChanges), so diff and a saved plan hold them too.
    const changes = await shareOf(ctx, "podidentity");
    const none =
      desired.length === 0
        ? "no pod identity associations configured"
        : `all ${desired.length} pod identity association(s) match the config`;
    return decisionFor(changes, none, [target(ctx).clusterFile]);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    forgetConverge(ctx);
  },
};

/** Converges the authenticationMode (one-way: through the project's guard, steps/guard.ts) and the access entries. */
export const accessStep: Step<LifecycleContext> = {
  id: "access",
  description: "converge the authentication mode and the access entries",
  needs: ["cluster"],
  async decide(ctx) {
    const desired = ctx.env.config.cluster.access;
    if (!desired) return skipDecision("cluster.access not configured: access entries are not managed");
    const cluster = await ctx.facts.cluster();
    if (!cluster)
      return skipDecision(
        `eksctl create cluster sets authenticationMode ${desired.authenticationMode} and creates the ${desired.entries.length} access entr(ies)`,
      );
    if (!(await clusterIsUp(ctx))) return skipDecision(`cluster ${cluster.name} is ${cluster.status}`);
    const { live: all } = await convergeFor(ctx);
    const live = all.identity?.access ?? (await liveAccess(ctx, stepId(ctx)));
    const changes = await shareOf(ctx, "access");
    const identity = await ctx.facts.identity();
    checkLockOut(identity.Arn, desired, live, cluster.name);
    const oneWay = changes.filter((c) => c.kind === "one-way").map(describeChange);
    // Asked from inside the step, where there is no terminal: --yes (and --allow-protected when protected).
    if (!ctx.planning) {
      await confirmDestructive({
        env: { name: ctx.env.name, protected: ctx.env.config.protected },
        actions: oneWay,
        confirmWord: cluster.name,
        command: `eksbox born --env ${ctx.env.name}`,
        yes: ctx.converge?.yes,
        allowProtected: ctx.converge?.allowProtected,
      });
    }
    const decision = decisionFor(
      changes,
      `authenticationMode ${live.authenticationMode} and all ${desired.entries.length} access entr(ies) match the config`,
      [target(ctx).clusterFile],
    );
    return decision.action === "run" && oneWay.length > 0 ? { ...decision, destructive: oneWay.join("; ") } : decision;
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("cluster");
    forgetConverge(ctx);
  },
};

/** Extras are reported as warnings too, so they are seen in a run, not only in plan. */
export function warnExtras(ctx: LifecycleContext, changes: IdentityChange[]): void {
  for (const c of changes) if (c.kind === "extra") log.warn(ctx.events, describeChange(c));
}
