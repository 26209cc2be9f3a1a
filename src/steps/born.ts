// born: the whole cluster, from nothing or from wherever an earlier run stopped.
//   preflight -> generate -> cluster -> { nodegroups, serviceaccounts, kubeconfig } -> gitops
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { UserError } from "../core/errors.js";
import { envPaths } from "../core/layout.js";
import { recordWorkerVersion } from "../core/state.js";
import { probeOutput } from "./cloud.js";
import { clusterArgs, requireRendered, type LifecycleContext } from "./lifecycle.js";
import { runDecision, skipDecision, type Step, type Task, runPlannedCommands, stepId } from "./model.js";
import { generateStep, preflightStep } from "./common-steps.js";

export const clusterStep: Step<LifecycleContext> = {
  id: "cluster",
  description: "create the EKS cluster",
  needs: ["generate"],
  async decide(ctx) {
    const cluster = await ctx.facts.cluster();
    const name = ctx.facts.clusterName;
    if (!cluster) {
      const paths = envPaths(ctx.env.name);
      return runDecision(`cluster ${name} does not exist`, [
        ["eksctl", "create", "cluster", "-f", paths.cluster, "--kubeconfig", paths.kubeconfig],
      ], { files: [paths.cluster], done: `created cluster ${name}` });
    }
    switch (cluster.status) {
      case "ACTIVE":
      case "UPDATING": {
        const wanted = ctx.env.config.cluster.version;
        const note = cluster.version && cluster.version !== wanted ? `; it runs ${cluster.version}, the config says ${wanted}: see eksbox upgrade` : "";
        return skipDecision(`cluster ${name} exists (${cluster.status}, Kubernetes ${cluster.version ?? "?"})${note}`);
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
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("cluster", "nodegroups", "serviceaccounts");
  },
};

export const nodegroupsStep: Step<LifecycleContext> = {
  id: "nodegroups",
  description: "create the missing nodegroups (one per zone)",
  needs: ["cluster"],
  async decide(ctx) {
    const rendered = requireRendered(ctx);
    const live = new Set((await ctx.facts.nodegroups()).map((ng) => ng.name));
    const missing = rendered.nodegroupNames.filter((name) => !live.has(name));
    if (missing.length === 0) return skipDecision(`all ${rendered.nodegroupNames.length} nodegroups exist`);
    const paths = envPaths(ctx.env.name);
    return runDecision(`missing: ${missing.join(", ")}`, [
      ["eksctl", "create", "nodegroup", "-f", paths.nodegroups, `--include=${missing.join(",")}`],
    ], { files: [paths.nodegroups], done: `created ${missing.join(", ")}` });
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    await recordWorkerVersion(ctx.projectRoot, ctx.env.name, requireRendered(ctx).workerVersion);
    ctx.facts.forget("nodegroups");
  },
};

export const serviceAccountsStep: Step<LifecycleContext> = {
  id: "serviceaccounts",
  description: "create the IAM service accounts",
  needs: ["cluster"],
  async decide(ctx) {
    const wanted = ctx.env.config.cluster.serviceAccounts;
    if (wanted.length === 0) return skipDecision("no IAM service accounts configured");
    const live = new Set((await ctx.facts.serviceAccounts()).map((sa) => `${sa.namespace}/${sa.name}`));
    const missing = wanted.filter((sa) => !live.has(`${sa.namespace}/${sa.name}`));
    if (missing.length === 0) return skipDecision(`all ${wanted.length} service accounts exist`);
    const paths = envPaths(ctx.env.name);
    const argv = [
      "eksctl", "create", "iamserviceaccount", "-f", paths.cluster,
      `--include=${missing.map((sa) => `${sa.namespace}/${sa.name}`).join(",")}`,
      "--approve",
    ];
    if (missing.some((sa) => sa.overrideExisting)) argv.push("--override-existing-serviceaccounts");
    const names = missing.map((sa) => `${sa.namespace}/${sa.name}`).join(", ");
    return runDecision(`missing: ${names}`, [argv], { files: [paths.cluster], done: `created ${names}` });
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("serviceaccounts");
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
      return runDecision(`${paths.kubeconfig} points at ${servers.join(", ")}, the cluster's endpoint is ${cluster.endpoint}`, [argv], done);
    }
    return skipDecision(`${paths.kubeconfig} points at ${cluster.endpoint}`);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
  },
};

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
  return { github: "GITHUB_TOKEN", gitlab: "GITLAB_TOKEN", "bitbucket-server": "BITBUCKET_TOKEN", gitea: "GITEA_TOKEN", git: "GIT_PASSWORD" }[provider];
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
  description: "bootstrap Flux v2",
  needs: ["nodegroups", "kubeconfig"],
  async decide(ctx) {
    const gitops = ctx.env.config.gitops;
    if (!gitops) return skipDecision("gitops not configured");
    const kubeconfigThere = await access(join(ctx.projectRoot, envPaths(ctx.env.name).kubeconfig)).then(() => true, () => false);
    if (kubeconfigThere && (await ctx.facts.cluster())) {
      const probe = await ctx.toolbox.run({
        step: stepId(ctx),
        argv: ["flux", "get", "sources", "git", "flux-system", "--namespace", "flux-system"],
        output: probeOutput(ctx.events, stepId(ctx)),
      });
      if (probe.exitCode === 0) return skipDecision("Flux is bootstrapped (GitRepository flux-system exists)");
    }
    // Asked for only now: a rerun on a bootstrapped cluster (a CI job adding a nodegroup) needs no Git token.
    const token = gitopsToken(gitops);
    if (token?.required && !ctx.processEnv[token.source]) {
      const named = gitops.tokenEnv ? `${token.source} (gitops.tokenEnv)` : token.source;
      throw new UserError(`flux bootstrap ${gitops.provider} needs a token in ${named}`, {
        hint: `export ${token.source}=... (a token with repository write access); it is passed to the toolbox as ${token.fluxVariable}, never on a command line, and masked in all output`,
      });
    }
    const argv = ["flux", "bootstrap", gitops.provider];
    if (gitops.provider === "git") argv.push(`--url=${gitops.url}`);
    else argv.push(`--owner=${gitops.owner}`, `--repository=${gitops.repository}`);
    argv.push(`--branch=${gitops.branch}`, `--path=${gitops.path ?? `clusters/${ctx.env.name}`}`);
    if (gitops.personal) argv.push("--personal");
    if (gitops.hostname) argv.push(`--hostname=${gitops.hostname}`);
    if (gitops.username) argv.push(`--username=${gitops.username}`);
    if (gitops.privateKeyFile) argv.push(`--private-key-file=${gitops.privateKeyFile}`);
    return runDecision("Flux is not bootstrapped", [argv], { done: `bootstrapped Flux from ${gitops.url ?? `${gitops.owner}/${gitops.repository}`}` });
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
  },
};

export function bornTask(): Task<LifecycleContext> {
  return {
    name: "born",
    concurrency: 3,
    steps: [preflightStep, generateStep(), clusterStep, nodegroupsStep, serviceAccountsStep, kubeconfigStep, gitopsStep],
  };
}
