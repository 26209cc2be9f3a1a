// `eksbox ci github`: the workflow it writes passes actionlint (the real linter, built from the Go
// module proxy by test/support/setup-actionlint.sh), has the jobs the fleet needs, and its
// affected-environments script picks the right matrix from a real git history.
import { execFileSync, spawnSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ciGithubCommand, githubWorkflow, GITHUB_WORKFLOW_PATH, WORKFLOW_COMMANDS } from "../../../src/commands/ci.js";
import { commandContext, makeProject, repoRoot, type Project } from "../config/project-fixture.js";
import { cliPath, ensureBuilt } from "../../support/cli.js";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  permissions?: Record<string, string>;
  strategy?: { matrix: { env: string } };
  steps: Step[];
}

let project: Project;
beforeEach(async () => {
  project = await makeProject({ templates: false });
});
afterEach(() => project.cleanup());

describe("the generated workflow", () => {
  let actionlint: string;
  beforeAll(() => {
    actionlint = execFileSync("bash", [join(repoRoot, "test/support/setup-actionlint.sh")], { encoding: "utf8" }).trim();
  }, 900_000);

  it("passes actionlint, with its shell scripts checked", async () => {
    const ctx = commandContext(project.root);
    await ciGithubCommand(ctx.ctx, {});
    expect(ctx.output()).toBe(`wrote ${GITHUB_WORKFLOW_PATH}\n`);
    const lint = spawnSync(actionlint, ["-no-color", GITHUB_WORKFLOW_PATH], { cwd: project.root, encoding: "utf8" });
    expect(lint.stdout + lint.stderr).toBe("");
    expect(lint.status).toBe(0);
  });

  it("actionlint does fail a broken workflow (the check can fail)", async () => {
    await project.write(
      GITHUB_WORKFLOW_PATH,
      githubWorkflow().replace("needs: [environments, validate]", "needs: [environments, validat]"),
    );
    const lint = spawnSync(actionlint, ["-no-color", GITHUB_WORKFLOW_PATH], { cwd: project.root, encoding: "utf8" });
    expect(lint.status).not.toBe(0);
    expect(lint.stdout).toContain("validat");
  });
});

describe("the jobs", () => {
  const workflow = parse(githubWorkflow()) as { on: Record<string, unknown>; jobs: Record<string, Job> };
  const runs = (job: Job) => job.steps.flatMap((step) => (step.run ? [step.run] : []));

  it("pull requests validate, then plan each environment into the summary and an artifact", () => {
    const { validate, plan } = workflow.jobs;
    expect(validate!.if).toBe("github.event_name == 'pull_request'");
    expect(runs(validate!)).toContain(WORKFLOW_COMMANDS.validate[0]);
    expect(plan!.needs).toEqual(["environments", "validate"]);
    expect(plan!.strategy!.matrix.env).toBe("${{ fromJSON(needs.environments.outputs.matrix) }}");
    expect(runs(plan!)).toContain(WORKFLOW_COMMANDS.plan[0]);
    expect(runs(plan!).join("\n")).toContain("$GITHUB_STEP_SUMMARY");
    const upload = plan!.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload?.with).toMatchObject({ name: "plan-${{ matrix.env.name }}", path: "plan-${{ matrix.env.name }}.json" });
  });

  it("a merge applies each environment's plan in its GitHub Environment, one run per environment at a time", () => {
    const { apply } = workflow.jobs;
    expect(apply!.if).toBe("github.event_name == 'push'");
    expect(apply!.environment).toBe("${{ matrix.env.name }}");
    expect(apply!.concurrency).toEqual({ group: "eksbox-${{ matrix.env.name }}", "cancel-in-progress": false });
    expect(runs(apply!)).toContain(WORKFLOW_COMMANDS.apply[0]);
  });

  it("nightly: diff of every environment, failing on drift", () => {
    expect(workflow.on.schedule).toEqual([{ cron: "17 3 * * *" }]);
    expect(runs(workflow.jobs.drift!)).toContain("npx eksbox diff --all --exit-code");
  });

  it("every job that reaches AWS gets OIDC credentials for the repository's role", () => {
    for (const name of ["plan", "apply", "drift"]) {
      const job = workflow.jobs[name]!;
      expect(job.permissions?.["id-token"], name).toBe("write");
      const credentials = job.steps.find((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
      expect(credentials?.with?.["role-to-assume"], name).toBe("${{ vars.EKSBOX_CI_ROLE_ARN }}");
      expect(
        runs(job).some((run) => run.includes("npx eksbox image build")),
        name,
      ).toBe(true);
    }
  });
});

describe("eksbox ci github", () => {
  it("replaces its own file but not someone else's without --force", async () => {
    await ciGithubCommand(commandContext(project.root).ctx, { branch: "trunk" });
    expect(await project.read(GITHUB_WORKFLOW_PATH)).toContain("branches: [trunk]");
    await ciGithubCommand(commandContext(project.root).ctx, {});
    await project.write(GITHUB_WORKFLOW_PATH, "name: ours\n");
    await expect(ciGithubCommand(commandContext(project.root).ctx, {})).rejects.toThrow(/exists and was not written by eksbox/);
    await ciGithubCommand(commandContext(project.root).ctx, { force: true });
    expect(await project.read(GITHUB_WORKFLOW_PATH)).toContain("name: eksbox");
  });

  it("refuses a cron that is not five fields", async () => {
    await expect(ciGithubCommand(commandContext(project.root).ctx, { cron: "daily" })).rejects.toThrow(/five fields/);
  });
});

describe("which environments a pull request plans", () => {
  let repo: string;
  let bin: string;
  let git: (...args: string[]) => void;
  const script = (parse(githubWorkflow()) as { jobs: { environments: Job } }).jobs.environments.steps.find((s) =>
    s.run?.includes("GITHUB_OUTPUT"),
  )!.run!;

  beforeAll(async () => {
    await ensureBuilt();
  }, 300_000);
  beforeEach(async () => {
    repo = project.root;
    // TEST DOUBLE of npx: runs this checkout's built CLI for `npx eksbox ...` (the real npx would
    // find eksbox in the project's node_modules); anything else fails.
    bin = await mkdtemp(join(tmpdir(), "eksbox-npx-"));
    await writeFile(join(bin, "npx"), `#!/bin/sh\n[ "$1" = eksbox ] || exit 99\nshift\nexec node ${cliPath} "$@"\n`);
    await chmod(join(bin, "npx"), 0o755);
    git = (...args: string[]) =>
      void execFileSync("git", args, {
        cwd: repo,
        env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" },
      });
    git("init", "-q", "-b", "main");
    git("add", ".");
    git("commit", "-qm", "base");
    git("update-ref", "refs/remotes/origin/main", "HEAD");
    git("checkout", "-qb", "change");
  });
  afterEach(async () => {
    await rm(bin, { recursive: true, force: true });
  });

  async function matrixAfter(change: () => Promise<void>): Promise<string[]> {
    await change();
    git("commit", "-qam", "change");
    const output = join(repo, "github-output");
    await writeFile(output, "");
    const result = spawnSync("bash", ["-eo", "pipefail", "-c", script], {
      cwd: repo,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${bin}:${process.env.PATH}`,
        EVENT: "pull_request",
        BASE: "main",
        GITHUB_OUTPUT: output,
        EKSBOX_ENV: "",
      },
    });
    expect(result.status, result.stderr).toBe(0);
    const line = (await readFile(output, "utf8")).trim();
    expect(line.startsWith("matrix=")).toBe(true);
    return (JSON.parse(line.slice("matrix=".length)) as { name: string }[]).map((e) => e.name);
  }

  it("an environment's own file: only that environment", async () => {
    expect(await matrixAfter(() => project.edit("config/environments/stg.yaml", (t) => `${t}\n# changed\n`))).toEqual(["stg"]);
  });

  it("shared defaults: every environment", async () => {
    expect(await matrixAfter(() => project.edit("config/defaults.yaml", (t) => `${t}\n# changed\n`))).toEqual([
      "local",
      "prod",
      "stg",
      "test",
    ]);
  });

  it("nothing eksbox reads: no environment", async () => {
    await mkdir(join(repo, "docs"), { recursive: true });
    await writeFile(join(repo, "docs", "x.md"), "x");
    git("add", "docs");
    expect(await matrixAfter(() => project.edit("config/environments/prod.yaml", (t) => t))).toEqual([]);
  });
});
