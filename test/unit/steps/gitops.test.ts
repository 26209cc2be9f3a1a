// The gitops step: which token variable it asks for, when it asks, and the flux argv per provider.
import { cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { bornTask, gitopsToolboxEnv } from "../../../src/steps/born.js";
import { CloudFacts } from "../../../src/steps/cloud.js";
import type { LifecycleContext } from "../../../src/steps/lifecycle.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import { FakeCloud } from "./fake-cloud.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

const baseYaml = `
aws:
  region: ap-northeast-1
  accountId: "123456789012"
worker:
  version: "20261101"
  zones: [ap-northeast-1b]
`;

async function project(gitops: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "eksbox-gitops-"));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  await writeFile(join(root, "config", "environments", "unit.yaml"), `${baseYaml}gitops:\n${gitops}`);
  return root;
}

async function context(root: string, cloud: FakeCloud, processEnv: NodeJS.ProcessEnv, planning = false): Promise<LifecycleContext> {
  const env = await loadEnvironment(root, "unit");
  return {
    toolbox: cloud,
    events: new MemorySink(),
    signal: new AbortController().signal,
    planning,
    projectRoot: root,
    env,
    facts: new CloudFacts(cloud, env.config.cluster.name, env.config.aws.region),
    processEnv,
  };
}

const bootstrapCall = (cloud: FakeCloud) => cloud.calls.find((a) => a[0] === "flux" && a[1] === "bootstrap");

describe("gitops: the token variable", () => {
  it("reads gitops.tokenEnv, not the provider's default variable", async () => {
    const root = await project("  provider: github\n  owner: example\n  repository: fleet\n  tokenEnv: MY_GH_TOKEN\n");
    const cloud = new FakeCloud(root);
    const result = await runTask(bornTask(), await context(root, cloud, { MY_GH_TOKEN: "ghp_fromMyVariable000" }));
    expect(result.error).toBeUndefined();
    expect(cloud.fluxBootstrapped).toBe(true);
    expect(bootstrapCall(cloud)!.join(" ")).not.toContain("ghp_fromMyVariable000");
  });

  it("names gitops.tokenEnv when it is not set", async () => {
    const root = await project("  provider: github\n  owner: example\n  repository: fleet\n  tokenEnv: MY_GH_TOKEN\n");
    const entries = await planTask(bornTask(), await context(root, new FakeCloud(root), { GITHUB_TOKEN: "ghp_notTheOneAskedFor" }, true));
    const gitops = entries.find((e) => e.id === "gitops")!;
    expect((gitops.error as Error).message).toMatch(/needs a token in MY_GH_TOKEN \(gitops\.tokenEnv\)/);
  });

  it.each([
    ["github", "GITHUB_TOKEN"],
    ["gitlab", "GITLAB_TOKEN"],
    ["bitbucket-server", "BITBUCKET_TOKEN"],
    ["gitea", "GITEA_TOKEN"],
    ["git", "GIT_PASSWORD"],
  ])("passes %s's token to the toolbox as %s, where flux reads it", (provider, variable) => {
    const env = gitopsToolboxEnv(
      { provider, tokenEnv: "TEAM_PAT", url: "https://git.example.com/fleet.git" },
      { TEAM_PAT: "s3cr3t-token-value", EKSBOX_PASS_ENV: "OTHER" },
    );
    expect(env[variable]).toBe("s3cr3t-token-value");
    expect(env.EKSBOX_PASS_ENV!.split(",").sort()).toEqual(["OTHER", variable].sort());
  });

  it("a rerun on a cluster whose Flux is bootstrapped needs no token", async () => {
    const root = await project("  provider: github\n  owner: example\n  repository: fleet\n");
    const cloud = new FakeCloud(root);
    expect((await runTask(bornTask(), await context(root, cloud, { GITHUB_TOKEN: "ghp_firstRunToken0000" }))).status).toBe("done");
    const rerun = await runTask(bornTask(), await context(root, cloud, {}));
    expect(rerun.error).toBeUndefined();
    expect(rerun.outcomes.find((o) => o.id === "gitops")!.status).toBe("skipped");
  });
});

describe("gitops: converge", () => {
  it("a branch changed in the config is planned, bootstrapped again, then nothing is left", async () => {
    const root = await project("  provider: github\n  owner: example\n  repository: fleet\n");
    const cloud = new FakeCloud(root);
    const env = { GITHUB_TOKEN: "ghp_firstRunToken0000" };
    expect((await runTask(bornTask(), await context(root, cloud, env))).status).toBe("done");
    const file = join(root, "config", "environments", "unit.yaml");
    await writeFile(file, `${baseYaml}gitops:\n  provider: github\n  owner: example\n  repository: fleet\n  branch: release\n`);
    const plan = (await planTask(bornTask(), await context(root, cloud, env, true))).find((e) => e.id === "gitops")!;
    expect(plan.decision?.action).toBe("run");
    expect(plan.decision?.reason).toMatch(/flux-system branch/);
    cloud.calls = [];
    expect((await runTask(bornTask(), await context(root, cloud, env))).status).toBe("done");
    expect(bootstrapCall(cloud)).toContain("--branch=release");
    const rerun = await runTask(bornTask(), await context(root, cloud, {}));
    expect(rerun.outcomes.find((o) => o.id === "gitops")!.status).toBe("skipped");
  });
});

describe("gitops: every provider the schema allows", () => {
  it.each([
    [
      "github",
      "  provider: github\n  owner: example\n  repository: fleet\n  personal: true\n",
      { GITHUB_TOKEN: "ghp_tokenvalue0000" },
      ["flux", "bootstrap", "github", "--owner=example", "--repository=fleet", "--branch=main", "--path=clusters/unit", "--personal"],
    ],
    [
      "gitlab",
      "  provider: gitlab\n  owner: group\n  repository: fleet\n  hostname: gitlab.example.com\n",
      { GITLAB_TOKEN: "glpat-tokenvalue" },
      [
        "flux",
        "bootstrap",
        "gitlab",
        "--owner=group",
        "--repository=fleet",
        "--branch=main",
        "--path=clusters/unit",
        "--hostname=gitlab.example.com",
      ],
    ],
    [
      "bitbucket-server",
      "  provider: bitbucket-server\n  owner: team\n  repository: fleet\n  hostname: bb.example.com\n",
      { BITBUCKET_TOKEN: "bb-tokenvalue" },
      [
        "flux",
        "bootstrap",
        "bitbucket-server",
        "--owner=team",
        "--repository=fleet",
        "--branch=main",
        "--path=clusters/unit",
        "--hostname=bb.example.com",
      ],
    ],
    [
      "gitea",
      "  provider: gitea\n  owner: org\n  repository: fleet\n  hostname: gitea.example.com\n",
      { GITEA_TOKEN: "gitea-tokenvalue" },
      [
        "flux",
        "bootstrap",
        "gitea",
        "--owner=org",
        "--repository=fleet",
        "--branch=main",
        "--path=clusters/unit",
        "--hostname=gitea.example.com",
      ],
    ],
    [
      "git over https",
      "  provider: git\n  url: https://git.example.com/ops/fleet.git\n  username: deploy\n",
      { GIT_PASSWORD: "git-password-value" },
      [
        "flux",
        "bootstrap",
        "git",
        "--url=https://git.example.com/ops/fleet.git",
        "--branch=main",
        "--path=clusters/unit",
        "--username=deploy",
      ],
    ],
    [
      "git over ssh",
      "  provider: git\n  url: ssh://git@git.example.com/ops/fleet.git\n  privateKeyFile: secrets/flux-deploy-key\n",
      {},
      [
        "flux",
        "bootstrap",
        "git",
        "--url=ssh://git@git.example.com/ops/fleet.git",
        "--branch=main",
        "--path=clusters/unit",
        "--private-key-file=secrets/flux-deploy-key",
      ],
    ],
  ])("%s: flux gets the flags it needs", async (_name, gitops, processEnv, argv) => {
    const root = await project(gitops);
    const cloud = new FakeCloud(root);
    const result = await runTask(bornTask(), await context(root, cloud, processEnv));
    expect(result.error).toBeUndefined();
    expect(bootstrapCall(cloud)).toEqual(argv);
  });

  it("git over https without its password variable is refused before flux runs", async () => {
    const root = await project("  provider: git\n  url: https://git.example.com/ops/fleet.git\n");
    const cloud = new FakeCloud(root);
    const result = await runTask(bornTask(), await context(root, cloud, {}));
    expect((result.error as Error).message).toMatch(/needs a token in GIT_PASSWORD/);
    expect(bootstrapCall(cloud)).toBeUndefined();
  });

  it.each([
    ["git without url", "  provider: git\n", /gitops\.url.*provider git needs the repository's URL/s],
    ["git with owner", "  provider: git\n  url: https://h/x.git\n  owner: me\n", /gitops\.owner.*not used by provider git/s],
    ["github without owner", "  provider: github\n  repository: fleet\n", /gitops\.owner.*required for provider github/s],
    [
      "github with url",
      "  provider: github\n  owner: a\n  repository: b\n  url: https://github.com/a/b\n",
      /gitops\.url.*only for provider git/s,
    ],
    ["git with a URL that is neither https nor ssh", "  provider: git\n  url: ftp://h/x.git\n", /gitops\.url.*https:\/\/ or ssh:\/\//s],
    ["git over ssh without a key", "  provider: git\n  url: ssh://git@h/x.git\n", /gitops\.privateKeyFile.*ssh/s],
  ])("config: %s is refused with the key", async (_name, gitops, message) => {
    const root = await project(gitops);
    const error = await loadEnvironment(root, "unit").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => `${i.path}: ${i.message}`).join("\n")).toMatch(message);
  });
});

describe("gitops: a config that drops it", () => {
  async function bootstrappedThenDropped(extraYaml = "") {
    const root = await project("  provider: github\n  owner: example\n  repository: fleet\n");
    const cloud = new FakeCloud(root);
    expect((await runTask(bornTask(), await context(root, cloud, { GITHUB_TOKEN: "ghp_firstRunToken0000" }))).status).toBe("done");
    await writeFile(join(root, "config", "environments", "unit.yaml"), baseYaml + extraYaml);
    cloud.calls = [];
    return { root, cloud };
  }
  const uninstalls = (cloud: FakeCloud) => cloud.calls.filter((a) => a[0] === "flux" && a[1] === "uninstall");
  const gitopsOutcome = (result: Awaited<ReturnType<typeof runTask>>) => result.outcomes.find((o) => o.id === "gitops")!;

  it("reports the live Flux as extra and keeps it without --prune", async () => {
    const { root, cloud } = await bootstrappedThenDropped();
    const plan = (await planTask(bornTask(), await context(root, cloud, {}, true))).find((e) => e.id === "gitops")!;
    expect(plan.decision).toMatchObject({
      action: "skip",
      reason: "gitops not configured; 1 not in the config any more (kept; --prune deletes)",
    });
    expect(plan.decision?.changes?.map((c) => `${c.kind} ${c.resource}`)).toEqual(["extra gitops flux-system"]);
    const result = await runTask(bornTask(), await context(root, cloud, {}));
    expect(result.status).toBe("done");
    expect(gitopsOutcome(result).status).toBe("skipped");
    expect(uninstalls(cloud)).toEqual([]);
    expect(cloud.fluxBootstrapped).toBe(true);
  });

  it("uninstalls it only with --prune --yes; a rerun then finds nothing", async () => {
    const { root, cloud } = await bootstrappedThenDropped();
    const unconfirmed = await runTask(bornTask(), { ...(await context(root, cloud, {})), converge: { prune: true } });
    expect(unconfirmed.status).toBe("failed");
    expect((unconfirmed.error as UserError).message).toMatch(
      /needs a confirmation and there is no terminal to ask on; it would:\n {2}- - gitops flux-system \(extra, destructive\)/,
    );
    expect((unconfirmed.error as UserError).hint).toBe("read the plan, then pass --yes: eksbox born --prune --env unit --yes");
    expect(uninstalls(cloud)).toEqual([]);
    const pruned = await runTask(bornTask(), { ...(await context(root, cloud, {})), converge: { prune: true, yes: true } });
    expect(pruned.status).toBe("done");
    expect(uninstalls(cloud)).toEqual([["flux", "uninstall", "--silent", "--kubeconfig=build/unit/kubeconfig"]]);
    expect(cloud.fluxBootstrapped).toBe(false);
    const rerun = await runTask(bornTask(), { ...(await context(root, cloud, {})), converge: { prune: true, yes: true } });
    expect(gitopsOutcome(rerun)).toMatchObject({ status: "skipped", decision: { reason: "gitops not configured" } });
    expect(uninstalls(cloud)).toHaveLength(1);
  });

  it("on a protected environment needs --allow-protected too", async () => {
    const { root, cloud } = await bootstrappedThenDropped("protected: true\n");
    const refused = await runTask(bornTask(), { ...(await context(root, cloud, {})), converge: { prune: true, yes: true } });
    expect((refused.error as UserError).message).toMatch(
      /^environment unit is protected \(protected: true\); refusing to:\n {2}- - gitops flux-system \(extra, destructive\)/,
    );
    expect(cloud.fluxBootstrapped).toBe(true);
    const allowed = await runTask(bornTask(), {
      ...(await context(root, cloud, {})),
      converge: { prune: true, yes: true, allowProtected: true },
    });
    expect(allowed.status).toBe("done");
    expect(cloud.fluxBootstrapped).toBe(false);
  });
});
