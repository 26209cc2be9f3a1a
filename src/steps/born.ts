// born: the whole cluster, from nothing or from wherever an earlier run stopped.
//   preflight -> generate -> cluster -> { nodegroups, serviceaccounts, addons, podidentity, access, kubeconfig -> karpenter -> capacity, support } -> gitops
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError, UserError } from "../core/errors.js";
import { envPaths } from "../core/layout.js";
import { recordPoolVersions } from "../core/state.js";
import { CONFIG_HASH_ANNOTATION, type KarpenterManifest } from "../render/karpenter.js";
import { probeOutput } from "./cloud.js";
import { clusterArgs, requireRendered, type ConvergeOptions, type LifecycleContext } from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type StepDecision, type Task, runPlannedCommands, stepId } from "./model.js";
import { generateStep, preflightStep } from "./common-steps.js";
import { convergeFor, forgetConverge, readClusterIdentity, recordClusterIdentity } from "./converge/converge.js";
import type { Change, ConvergeStep } from "./converge/change.js";
import { commandsOf, describeChange } from "./converge/diff.js";
import { refuseUnconfirmed } from "./converge/guard.js";
import { capacitySwitchStep, refuseUnsupportedSwitch, refuseWithoutKarpenter } from "./converge/mode-switch.js";
import { accessStep, podIdentityStep } from "./identity.js";
import type { PlanEntry } from "./scheduler.js";
import { supportStep } from "./support-calendar.js";

async function changesFor(ctx: LifecycleContext, step: ConvergeStep): Promise<Change[]> {
  return (await convergeFor(ctx)).changes.filter((c) => c.step === step);
}

const summary = (changes: readonly Change[]) =>
  `${changes.length} change(s): ${changes.map((c) => `${c.resource.split(" ").slice(1).join(" ")} ${c.field}`).join(", ")}`;

/** A saved plan (born --plan) is applied only to the world it was made from, and only as it was. */
async function refuseMovedPlan(ctx: LifecycleContext): Promise<void> {
  const saved = ctx.converge?.savedPlan;
  if (!saved) return;
  const now = await convergeFor(ctx);
  if (now.fingerprint !== saved.fingerprint) {
    throw new UserError(`the live state of ${ctx.facts.clusterName} has changed since ${saved.file} was made; nothing was applied`, {
      hint: `make a new plan (eksbox plan born --env ${ctx.env.name} --out ${saved.file}), review it, then apply it`,
    });
  }
  // What the autoscaler moves (reported only) is no reason to refuse.
  const key = (changes: readonly Change[]) =>
    JSON.stringify(changes.filter((c) => !c.reportOnly).map((c) => [c.step, c.resource, c.field, c.kind, c.wanted, c.argv ?? null]));
  if (key(now.changes) !== key(saved.changes)) {
    throw new UserError(`the config of ${ctx.env.name} no longer gives the changes in ${saved.file}; nothing was applied`, {
      hint: `make a new plan (eksbox plan born --env ${ctx.env.name} --out ${saved.file}), review it, then apply it`,
    });
  }
}

/** Renaming the cluster or moving its region in the config would make a second cluster: refused. */
async function refuseMovedCluster(ctx: LifecycleContext): Promise<void> {
  const recorded = await readClusterIdentity(ctx.projectRoot, ctx.env.name);
  const name = ctx.facts.clusterName;
  const region = ctx.facts.region;
  if (!recorded || (recorded.name === name && recorded.region === region)) return;
  const stillThere =
    recorded.region === region
      ? (await ctx.facts.clusterNames()).includes(recorded.name)
      : (
          await ctx.toolbox.run({
            step: stepId(ctx),
            argv: ["aws", "eks", "describe-cluster", "--name", recorded.name, "--region", recorded.region, "--output", "json"],
            output: probeOutput(ctx.events, stepId(ctx)),
          })
        ).exitCode === 0;
  if (!stillThere) return;
  const file = `config/environments/${ctx.env.name}.yaml`;
  const issues = [];
  if (recorded.name !== name) {
    issues.push({
      file,
      path: "cluster.name",
      message: `the cluster is ${recorded.name}, the config now says ${name}: an EKS cluster cannot be renamed, and born would create a second cluster`,
    });
  }
  if (recorded.region !== region) {
    issues.push({
      file,
      path: "aws.region",
      message: `the cluster is in ${recorded.region}, the config now says ${region}: a cluster cannot move to another region, and born would create a second cluster`,
    });
  }
  throw new ConfigError(issues, `refusing an immutable change to environment ${ctx.env.name}; nothing was changed`);
}

export const clusterStep: Step<LifecycleContext> = {
  id: "cluster",
  description: "create the EKS cluster, or bring its settings to the config",
  needs: ["generate"],
  async decide(ctx) {
    const cluster = await ctx.facts.cluster();
    const name = ctx.facts.clusterName;
    // A switch of autoscaling.mode eksbox cannot make is refused before anything changes.
    if (cluster) await refuseUnsupportedSwitch(ctx);
    if (!cluster) {
      await refuseMovedCluster(ctx);
      await refuseMovedPlan(ctx);
      const paths = envPaths(ctx.env.name);
      return runDecision(
        `cluster ${name} does not exist`,
        [["eksctl", "create", "cluster", "-f", paths.cluster, "--kubeconfig", paths.kubeconfig]],
        { files: [paths.cluster], done: `created cluster ${name}` },
      );
    }
    switch (cluster.status) {
      case "ACTIVE":
      case "UPDATING": {
        if (!ctx.planning && !(await readClusterIdentity(ctx.projectRoot, ctx.env.name))) {
          await recordClusterIdentity(ctx.projectRoot, ctx.env.name, { name, region: ctx.facts.region });
        }
        await refuseMovedPlan(ctx);
        const changes = await changesFor(ctx, "cluster");
        const immutable = changes.filter((c) => c.kind === "immutable");
        if (immutable.length > 0) {
          throw new ConfigError(
            immutable.map((c) => ({ file: `config/environments/${ctx.env.name}.yaml`, path: c.key, message: `${describeChange(c)}` })),
            `refusing an immutable change to cluster ${name}; nothing was changed`,
          );
        }
        const prune = !!ctx.converge?.prune;
        const extras = changes.filter((c) => c.kind === "extra");
        const inPlace = changes.filter((c) => (c.kind === "inPlace" || (c.kind === "extra" && prune)) && !c.reportOnly);
        const destructive = inPlace.filter((c) => c.destructive);
        if (!ctx.planning) await refuseUnconfirmed(ctx, destructive, `eksbox born --prune --env ${ctx.env.name}`);
        // A switch of autoscaling.mode is confirmed as a whole before its first part (Auto Mode on, a NodePool) is made.
        const switchRemovals = (await convergeFor(ctx)).changes.filter((c) => c.kind === "modeSwitch" && c.destructive);
        if (!ctx.planning) await refuseUnconfirmed(ctx, switchRemovals, `eksbox born --env ${ctx.env.name}`);
        const kept = prune || extras.length === 0 ? "" : `; ${extras.length} not in the config (kept; --prune removes)`;
        const wanted = ctx.env.config.cluster.version;
        const note =
          cluster.version && cluster.version !== wanted
            ? `; it runs ${cluster.version}, the config says ${wanted}: see eksbox upgrade`
            : "";
        const exists = `cluster ${name} exists (${cluster.status}, Kubernetes ${cluster.version ?? "?"})${note}`;
        if (inPlace.length === 0) return skipDecision(exists + kept, changes);
        return runDecision(`${exists}; ${summary(inPlace)}`, commandsOf(inPlace), {
          changes,
          done: `changed ${summary(inPlace)}`,
          destructive: destructive.length > 0 ? destructive.map(describeChange).join("; ") : undefined,
        });
      }
      case "CREATING":
        throw new UserError(`cluster ${name} is still being created (CREATING)`, {
          hint: "another run or someone by hand is creating it; wait until it is ACTIVE (aws eks wait cluster-active), then rerun born",
        });
      case "DELETING":
        throw new UserError(`cluster ${name} is being deleted (DELETING)`, { hint: "wait until it is gone, then rerun born" });
      case "FAILED":
        throw new UserError(`cluster ${name} exists but is FAILED`, {
          hint: `look at its CloudFormation stack eksctl-${name}-cluster for the cause, delete it (eksbox destroy --env ${ctx.env.name}), then rerun born`,
        });
      default:
        throw new UserError(`cluster ${name} is ${cluster.status}`, { hint: "wait until it is ACTIVE, then rerun born" });
    }
  },
  async run(ctx, decision) {
    const creating = createsCluster(decision);
    await runPlannedCommands(ctx, decision);
    if (creating) await recordClusterIdentity(ctx.projectRoot, ctx.env.name, { name: ctx.facts.clusterName, region: ctx.facts.region });
    ctx.facts.forget("cluster", "nodegroups", "serviceaccounts", "asgs", "managed", "addons", "policies", "loggroup");
    forgetConverge(ctx);
  },
};

const createsCluster = (decision: StepDecision | undefined) =>
  decision?.action === "run" && decision.commands.some((c) => c.argv[1] === "create");

/** Whether born's plan creates the cluster: it does not exist yet, so nothing else (a roll) can be planned against it before born runs. */
export function plansNewCluster(entries: readonly PlanEntry[]): boolean {
  return createsCluster(entries.find((e) => e.id === clusterStep.id)?.decision);
}

/** What a step did, for its done line: "created a, b; changed c maxSize; deleted d". */
function doneLine(applied: readonly Change[]): string {
  const name = (c: Change) => c.resource.split(" ").slice(1).join(" ");
  const unique = (list: string[]) => [...new Set(list)].join(", ");
  const created = applied.filter((c) => c.kind === "create" || c.kind === "zoneAdd").map(name);
  const changed = applied.filter((c) => c.kind === "inPlace").map((c) => `${name(c)} ${c.field}`);
  const deleted = applied.filter((c) => c.destructive).map(name);
  return [
    created.length ? `created ${unique(created)}` : "",
    changed.length ? `changed ${unique(changed)}` : "",
    deleted.length ? `deleted ${unique(deleted)}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** Commands of some changes, in the order the kinds must run in: create before change before delete. */
function orderedCommands(changes: readonly Change[]): string[][] {
  const rank = (c: Change) => (c.kind === "create" || c.kind === "zoneAdd" ? 0 : c.destructive ? 2 : 1);
  return commandsOf([...changes].sort((a, b) => rank(a) - rank(b)));
}

/**
 * The decision of a step from its share of the changes: creates and in-place changes run; extras are
 * deleted only with --prune; destructive ones need the confirmation; roll changes are only said.
 */
async function convergeDecision(
  ctx: LifecycleContext,
  changes: readonly Change[],
  nothing: string,
  files: string[],
  command: string,
): Promise<StepDecision> {
  const prune = !!ctx.converge?.prune;
  const applied = changes.filter(
    (c) =>
      (c.kind === "create" || c.kind === "zoneAdd" || c.kind === "inPlace" || c.kind === "zoneRemove" || (c.kind === "extra" && prune)) &&
      !c.reportOnly,
  );
  const destructive = applied.filter((c) => c.destructive);
  if (!ctx.planning) await refuseUnconfirmed(ctx, destructive, command);
  const notes: string[] = [];
  const rolls = changes.filter((c) => c.kind === "roll");
  if (rolls.length > 0) {
    const names = [...new Set(rolls.map((c) => c.resource.split(" ")[1]))].join(", ");
    notes.push(
      ctx.converge?.roll
        ? `a roll follows for ${names} (--roll)`
        : `a roll is needed for ${names} (the launch spec changed); nothing is rolled without --roll: eksbox born --roll --env ${ctx.env.name}, or eksbox nodegroup roll`,
    );
  }
  const extras = changes.filter((c) => c.kind === "extra" && !prune);
  if (extras.length > 0) notes.push(`${extras.length} not in the config any more (kept; --prune deletes)`);
  if (ctx.planning && destructive.length > 0 && !ctx.converge?.yes)
    notes.push(`${destructive.length} destructive: born needs --yes${ctx.env.config.protected ? " --allow-protected" : ""}`);
  const reason = (applied.length > 0 ? summary(applied) : nothing) + (notes.length > 0 ? `; ${notes.join("; ")}` : "");
  if (applied.length === 0) return skipDecision(reason, changes);
  return runDecision(reason, orderedCommands(applied), {
    files: applied.some((c) => c.argv?.includes("-f")) ? files : undefined,
    changes,
    done: doneLine(applied),
    destructive: destructive.length > 0 ? destructive.map(describeChange).join("; ") : undefined,
  });
}

export const nodegroupsStep: Step<LifecycleContext> = {
  id: "nodegroups",
  description: "create the missing nodegroups (one per zone) and bring their sizes, labels and taints to the config",
  needs: ["cluster"],
  async decide(ctx) {
    const rendered = requireRendered(ctx);
    const changes = await changesFor(ctx, "nodegroups");
    const paths = envPaths(ctx.env.name);
    return convergeDecision(
      ctx,
      changes,
      `all ${rendered.nodegroupNames.length} nodegroups exist as configured`,
      [paths.nodegroups],
      `eksbox born --env ${ctx.env.name}`,
    );
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    if (decision.commands.some((c) => c.argv[1] === "create"))
      await recordPoolVersions(ctx.projectRoot, ctx.env.name, requireRendered(ctx).versions);
    ctx.facts.forget("nodegroups", "asgs", "managed");
  },
};

export const serviceAccountsStep: Step<LifecycleContext> = {
  id: "serviceaccounts",
  description: "create the IAM service accounts and bring their policies to the config",
  needs: ["cluster"],
  async decide(ctx) {
    const wanted = ctx.env.config.cluster.serviceAccounts;
    const changes = await changesFor(ctx, "serviceaccounts");
    const paths = envPaths(ctx.env.name);
    const nothing =
      wanted.length === 0 ? "no IAM service accounts configured" : `all ${wanted.length} service accounts exist as configured`;
    return convergeDecision(ctx, changes, nothing, [paths.cluster], `eksbox born --env ${ctx.env.name}`);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("serviceaccounts", "policies");
  },
};

export const addonsStep: Step<LifecycleContext> = {
  id: "addons",
  description: "create the configured EKS addons and bring their versions and configuration to the config",
  needs: ["cluster"],
  async decide(ctx) {
    if (!(await ctx.facts.cluster())) return skipDecision("the addons are created with the cluster (they are in its file)");
    const changes = await changesFor(ctx, "addons");
    const paths = envPaths(ctx.env.name);
    return convergeDecision(
      ctx,
      changes,
      `all ${ctx.env.config.cluster.addons.length} addons are as configured`,
      [paths.cluster],
      `eksbox born --env ${ctx.env.name}`,
    );
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("addons");
  },
};

export const kubeconfigStep: Step<LifecycleContext> = {
  id: "kubeconfig",
  description: "write the environment's kubeconfig",
  needs: ["cluster"],
  async decide(ctx) {
    const paths = envPaths(ctx.env.name);
    const existing = await readFile(join(ctx.projectRoot, paths.kubeconfig), "utf8").catch(() => undefined);
    const cluster = await ctx.facts.cluster();
    const argv = ["eksctl", "utils", "write-kubeconfig", ...clusterArgs(ctx), "--kubeconfig", paths.kubeconfig];
    const done = { done: `wrote ${paths.kubeconfig}` };
    if (existing === undefined) return runDecision(`${paths.kubeconfig} is missing`, [argv], done);
    const servers = kubeconfigServers(existing, ctx.facts.clusterName);
    if (servers.length === 0) return runDecision(`${paths.kubeconfig} does not name cluster ${ctx.facts.clusterName}`, [argv], done);
    // Until the cluster exists (plan before born) there is no endpoint to compare with.
    if (!cluster?.endpoint) return skipDecision(`${paths.kubeconfig} names cluster ${ctx.facts.clusterName}`);
    if (!servers.includes(cluster.endpoint)) {
      return runDecision(
        `${paths.kubeconfig} points at ${servers.join(", ")}, the cluster's endpoint is ${cluster.endpoint}`,
        [argv],
        done,
      );
    }
    return skipDecision(`${paths.kubeconfig} points at ${cluster.endpoint}`);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    // Flux's state is read through the kubeconfig: the gitops step asks again through the new one.
    ctx.facts.forget("gitops");
    forgetConverge(ctx);
  },
};

interface KubeObjectList {
  items?: { kind?: string; metadata?: { name?: string; annotations?: Record<string, string> } }[];
}

/**
 * Karpenter mode: applies each pool's NodePool and EC2NodeClass (build/<env>/karpenter/) with
 * `kubectl apply --server-side` once the system pool that runs Karpenter is there. Applied by eksbox
 * even when gitops is configured: they are the cluster's capacity, needed before anything Flux
 * reconciles can be scheduled, and eksbox never commits to the gitops repository.
 */
export const karpenterStep: Step<LifecycleContext> = {
  id: "karpenter",
  description: "apply the Karpenter NodePools and EC2NodeClasses",
  needs: ["nodegroups", "kubeconfig"],
  async decide(ctx) {
    const manifests = requireRendered(ctx).karpenter;
    if (manifests.length === 0) return skipDecision(`autoscaling.mode ${ctx.env.config.autoscaling.mode}: no Karpenter pools`);
    const paths = envPaths(ctx.env.name);
    const kubectl = ["kubectl", "--kubeconfig", paths.kubeconfig];
    const kubeconfigThere = await access(join(ctx.projectRoot, paths.kubeconfig)).then(
      () => true,
      () => false,
    );
    if (kubeconfigThere && (await ctx.facts.cluster())) {
      const probe = await ctx.toolbox.run({
        step: stepId(ctx),
        argv: [
          ...kubectl,
          "get",
          "nodepools.karpenter.sh,ec2nodeclasses.karpenter.k8s.aws",
          "-l",
          "app.kubernetes.io/managed-by=eksbox",
          "-o",
          "json",
        ],
        captureStdout: true,
        output: probeOutput(ctx.events, stepId(ctx)),
      });
      // A live cluster that does not serve NodePools has no Karpenter (a switch from clusterAutoscaler).
      if (probe.exitCode !== 0) await refuseWithoutKarpenter(ctx);
      if (probe.exitCode === 0) {
        const live = new Map(
          ((JSON.parse(probe.stdout || "{}") as KubeObjectList).items ?? []).map((o) => [
            `${o.kind}/${o.metadata?.name}`,
            o.metadata?.annotations?.[CONFIG_HASH_ANNOTATION],
          ]),
        );
        const stale = manifests.filter((m) =>
          [m.nodeClass, m.nodePool].some((o) => {
            const meta = o.metadata as { name: string; annotations: Record<string, string> };
            return live.get(`${String(o.kind)}/${meta.name}`) !== meta.annotations[CONFIG_HASH_ANNOTATION];
          }),
        );
        if (stale.length === 0)
          return skipDecision(`the NodePools and EC2NodeClasses of ${manifests.map((m) => m.pool).join(", ")} are applied and current`);
        return runDecision(`not applied or changed: ${stale.map((m) => m.pool).join(", ")}`, [applyArgv(kubectl, stale)], {
          files: stale.map((m) => m.relativePath),
          done: `applied the NodePools and EC2NodeClasses of ${stale.map((m) => m.pool).join(", ")}`,
        });
      }
    }
    return runDecision(`pools ${manifests.map((m) => m.pool).join(", ")}`, [applyArgv(kubectl, manifests)], {
      files: manifests.map((m) => m.relativePath),
      done: `applied the NodePools and EC2NodeClasses of ${manifests.map((m) => m.pool).join(", ")}`,
    });
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
  },
};

function applyArgv(kubectl: string[], manifests: readonly KarpenterManifest[]): string[] {
  return [...kubectl, "apply", "--server-side", "--field-manager=eksbox", ...manifests.flatMap((m) => ["-f", m.relativePath])];
}

/** The API servers a kubeconfig gives for the cluster (eksctl names its entries <cluster>.<region>.eksctl.io). */
export function kubeconfigServers(text: string, clusterName: string): string[] {
  let doc: { clusters?: { name?: string; cluster?: { server?: string } }[] } | undefined;
  try {
    doc = parseYaml(text) as typeof doc;
  } catch {
    return [];
  }
  return (doc?.clusters ?? [])
    .filter((c) => c.name === clusterName || c.name?.startsWith(`${clusterName}.`) || c.name?.endsWith(`/${clusterName}`))
    .flatMap((c) => (typeof c.cluster?.server === "string" ? [c.cluster.server] : []));
}

/** The variable flux reads the token from: the provider's API token, or for git the https password (or the SSH key's passphrase). */
export function gitopsTokenVariable(provider: string): string | undefined {
  return {
    github: "GITHUB_TOKEN",
    gitlab: "GITLAB_TOKEN",
    "bitbucket-server": "BITBUCKET_TOKEN",
    gitea: "GITEA_TOKEN",
    git: "GIT_PASSWORD",
  }[provider];
}

interface GitopsTokenConfig {
  provider: string;
  tokenEnv?: string;
  url?: string;
}

/**
 * Where the Git token comes from: `source` is the user's variable (gitops.tokenEnv, else the one flux
 * reads), `fluxVariable` the name flux reads it under in the toolbox. Flux reads every one of these
 * from its environment, so the token never goes on a command line. Over ssh:// the key file does
 * the authenticating and a token (the key's passphrase) is optional.
 */
export function gitopsToken(gitops: GitopsTokenConfig): { source: string; fluxVariable: string; required: boolean } | undefined {
  const fluxVariable = gitopsTokenVariable(gitops.provider);
  if (!fluxVariable) return undefined;
  const required = gitops.provider !== "git" || !gitops.url?.startsWith("ssh://");
  return { source: gitops.tokenEnv ?? fluxVariable, fluxVariable, required };
}

/** The process environment the toolbox is opened with: the token under the name flux reads, forwarded by name (and masked as a *_TOKEN / *PASSWORD value). */
export function gitopsToolboxEnv(gitops: GitopsTokenConfig | undefined, processEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const token = gitops ? gitopsToken(gitops) : undefined;
  if (!token) return processEnv;
  const value = processEnv[token.source];
  const passed = (processEnv.EKSBOX_PASS_ENV ?? "").split(",").filter(Boolean);
  const env: NodeJS.ProcessEnv = { ...processEnv, EKSBOX_PASS_ENV: [...new Set([...passed, token.fluxVariable])].join(",") };
  if (value !== undefined) env[token.fluxVariable] = value;
  return env;
}

export const gitopsStep: Step<LifecycleContext> = {
  id: "gitops",
  description:
    "bootstrap Flux v2, or bootstrap it again when its repository, branch or path differ from the config; with --prune, uninstall a Flux the config has no gitops for",
  needs: ["nodegroups", "kubeconfig"],
  async decide(ctx) {
    const gitops = ctx.env.config.gitops;
    const changes = await changesFor(ctx, "gitops");
    // A live Flux the config has no gitops for: extra, uninstalled only with --prune (and --yes).
    if (!gitops) return convergeDecision(ctx, changes, "gitops not configured", [], `eksbox born --prune --env ${ctx.env.name}`);
    if (changes.length === 0) {
      const { repository, branch, path } = (await convergeFor(ctx)).desired.gitops!;
      return skipDecision(`Flux is bootstrapped from ${repository}, branch ${branch}, path ${path}`, changes);
    }
    // Asked for only now: a rerun on a bootstrapped cluster (a CI job adding a nodegroup) needs no Git token.
    const token = gitopsToken(gitops);
    if (token?.required && !ctx.processEnv[token.source]) {
      const named = gitops.tokenEnv ? `${token.source} (gitops.tokenEnv)` : token.source;
      throw new UserError(`flux bootstrap ${gitops.provider} needs a token in ${named}`, {
        hint: `export ${token.source}=... (a token with repository write access); it is passed to the toolbox as ${token.fluxVariable}, never on a command line, and masked in all output`,
      });
    }
    const fresh = changes.some((c) => c.kind === "create");
    return runDecision(fresh ? "Flux is not bootstrapped" : `Flux is bootstrapped; ${summary(changes)}`, commandsOf(changes), {
      changes,
      done: fresh
        ? `bootstrapped Flux from ${gitops.url ?? `${gitops.owner}/${gitops.repository}`}`
        : `bootstrapped Flux again: ${summary(changes)}`,
    });
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("gitops");
    forgetConverge(ctx);
  },
};

export function bornTask(converge: ConvergeOptions = {}): Task<LifecycleContext, LifecycleContext> {
  return {
    name: "born",
    concurrency: 3,
    extend: (base) => Object.assign(base, { converge }),
    steps: [
      preflightStep,
      generateStep(),
      clusterStep,
      nodegroupsStep,
      serviceAccountsStep,
      addonsStep,
      podIdentityStep,
      accessStep,
      kubeconfigStep,
      karpenterStep,
      capacitySwitchStep(),
      supportStep,
      gitopsStep,
    ],
  };
}
