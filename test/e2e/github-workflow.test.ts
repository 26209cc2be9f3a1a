// The workflow `eksbox ci github` writes, run against moto as GitHub would run it: the file is parsed,
// each job's `if:` is evaluated for the event, its `${{ }}` expressions (matrix, needs, steps) are
// substituted, and its `run:` steps are run with bash -eo pipefail in a fresh clone of the
// repository, as a runner does. In order: a pull request adding two environments (validate, plan per
// environment, the plan saved as an artifact), its merge (born --plan <the artifact> per
// environment), then the nightly drift check (diff --all --exit-code: 0, then 2 after a change made
// by hand with the real AWS CLI). Then diff over the fleet once more, for its JSON and its rule that
// an environment that cannot be checked makes the code 1.
//
// Not run, because they are GitHub's and have no stand-in here, each named in GITHUB_ONLY below:
// actions/checkout (a `git clone` of the test repository stands in), actions/setup-node (this
// machine's Node), `npm ci` (a TEST DOUBLE of npx runs this checkout's built CLI for `npx eksbox`),
// aws-actions/configure-aws-credentials (OIDC: moto takes the fake keys of FAKE_AWS_ENV), the
// toolbox image build (the real image needs eksctl and flux downloads this machine cannot make: the
// test toolbox image stands in through EKSBOX_IMAGE), and the artifact upload and `gh run download`
// (GitHub's artifact store: a directory stands in, and its file is put where the download puts it).
// Every eksbox command that runs is the literal text of the file.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { GITHUB_WORKFLOW_PATH } from "../../src/commands/ci.js";
import { awsCli } from "../support/aws-cli.js";
import { cliPath } from "../support/cli.js";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { envYaml, makeTestProject, removeOurContainers, type TestProject } from "../reliability/support/project.js";

const ENVS = ["wf-a", "wf-b"];

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  outputs?: Record<string, string>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

/** The steps that are GitHub's own, and why each is not run (see the top of the file). */
const GITHUB_ONLY: { matches: (step: Step) => boolean; why: string }[] = [
  { matches: (s) => s.uses?.startsWith("actions/checkout@") === true, why: "a git clone stands in" },
  { matches: (s) => s.uses?.startsWith("actions/setup-node@") === true, why: "this machine's Node" },
  { matches: (s) => s.run === "npm ci", why: "the npx double runs this checkout's built CLI" },
  { matches: (s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true, why: "OIDC: fake keys for moto" },
  { matches: (s) => s.name === "toolbox image", why: "the test toolbox image (EKSBOX_IMAGE)" },
  { matches: (s) => s.uses?.startsWith("actions/upload-artifact@") === true, why: "a directory stands in for the artifact store" },
  { matches: (s) => s.run?.includes("gh run download") === true, why: "the artifact is copied where the download puts it" },
];

let cloud: Cloud;
let project: TestProject;
let origin: string;
let scratch: string;
let workflow: Workflow;
const checkouts: string[] = [];

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@e", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@e" },
  });

type Contexts = Record<string, unknown>;

/** The few expressions the workflow uses: context paths, quoted strings and fromJSON(); anything else fails the test. */
function evaluate(expression: string, contexts: Contexts): unknown {
  const text = expression.trim();
  const fromJson = /^fromJSON\((.+)\)$/.exec(text);
  if (fromJson) return JSON.parse(String(evaluate(fromJson[1]!, contexts)));
  if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
  let value: unknown = contexts;
  for (const key of text.split(".")) value = (value as Record<string, unknown> | undefined)?.[key];
  if (value === undefined) throw new Error(`the test cannot evaluate \${{ ${text} }}`);
  return value;
}

/** A job's or step's `if:`: comparisons joined by && and ||, and always(). */
function condition(expression: string | undefined, contexts: Contexts, jobFailed = false): boolean {
  if (expression === undefined) return !jobFailed;
  if (expression.trim() === "always()") return true;
  if (jobFailed) return false;
  return expression.split("||").some((either) =>
    either.split("&&").every((atom) => {
      const [, left, op, right] = /^(.+?)\s*(==|!=)\s*(.+)$/.exec(atom.trim())!;
      const equal = String(evaluate(left!, contexts)) === String(evaluate(right!, contexts));
      return op === "==" ? equal : !equal;
    }),
  );
}

const substitute = (text: string, contexts: Contexts) =>
  text.replace(/\$\{\{(.+?)\}\}/g, (_, expression: string) => {
    const value = evaluate(expression, contexts);
    return typeof value === "string" ? value : JSON.stringify(value);
  });

interface Event {
  name: "pull_request" | "push" | "schedule";
  /** The branch the runner checks out. */
  ref: string;
  baseRef?: string;
}

interface StepRun {
  run: string;
  exitCode: number;
  stdout: string;
  stderr: string;
}

interface JobRun {
  ran: StepRun[];
  failed: boolean;
  outputs: Record<string, string>;
  skipped: string[];
  checkout: string;
  summary: string;
}

/** Runs one job (one matrix entry of it) as a runner would; artifacts go to and come from `scratch`/artifacts. */
async function runJob(
  name: string,
  event: Event,
  needs: Record<string, { outputs: Record<string, string> }>,
  matrix?: unknown,
): Promise<JobRun> {
  const job = workflow.jobs[name]!;
  const checkout = await mkdtemp(join(scratch, `${name}-`));
  checkouts.push(checkout);
  git(scratch, "clone", "-q", "--branch", event.ref, origin, checkout);
  const files = {
    output: join(checkout, "..", `${basename(checkout)}.output`),
    summary: join(checkout, "..", `${basename(checkout)}.summary`),
  };
  await writeFile(files.summary, "");
  const steps: Record<string, { outputs: Record<string, string> }> = {};
  const contexts: Contexts = {
    github: { event_name: event.name, base_ref: event.baseRef ?? "" },
    needs,
    steps,
    ...(matrix === undefined ? {} : { matrix }),
  };
  const result: JobRun = { ran: [], failed: false, outputs: {}, skipped: [], checkout, summary: "" };
  const sub = (values: Record<string, string> | undefined) =>
    Object.fromEntries(Object.entries(values ?? {}).map(([k, v]) => [k, substitute(String(v), contexts)]));
  const jobEnv = { ...sub(workflow.env), ...sub(job.env) };
  for (const step of job.steps) {
    const githubOnly = GITHUB_ONLY.find((g) => g.matches(step));
    if (githubOnly) {
      result.skipped.push(step.uses ?? step.name ?? step.run!);
      await standIn(step, contexts, checkout);
      continue;
    }
    if (!step.run) throw new Error(`a step the test does not know: ${JSON.stringify(step)}`);
    if (!condition(step.if, contexts, result.failed)) continue;
    await writeFile(files.output, "");
    const script = join(checkout, "..", `${basename(checkout)}.sh`);
    await writeFile(script, substitute(step.run, contexts));
    const run = await execa("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
      cwd: checkout,
      reject: false,
      env: {
        ...cloud.cliEnv(),
        PATH: `${join(scratch, "bin")}:${process.env.PATH}`,
        EKSBOX_ENV: "",
        EKSBOX_PROJECT: "",
        GITHUB_OUTPUT: files.output,
        GITHUB_STEP_SUMMARY: files.summary,
        ...jobEnv,
        ...sub(step.env),
      },
      extendEnv: true,
    });
    result.ran.push({ run: step.run, exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr) });
    if (run.exitCode !== 0) result.failed = true;
    if (step.id) {
      const outputs = Object.fromEntries(
        (await readFile(files.output, "utf8"))
          .split("\n")
          .filter(Boolean)
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      steps[step.id] = { outputs };
    }
  }
  result.outputs = sub(job.outputs);
  result.summary = await readFile(files.summary, "utf8");
  return result;
}

/** What the skipped GitHub steps leave for the next ones: the artifact, uploaded and downloaded. */
async function standIn(step: Step, contexts: Contexts, checkout: string): Promise<void> {
  const artifacts = join(scratch, "artifacts");
  if (step.uses?.startsWith("actions/upload-artifact@")) {
    const name = substitute(step.with!.name!, contexts);
    const file = join(checkout, substitute(step.with!.path!, contexts));
    expect(existsSync(file), `artifact ${name}: ${file}`).toBe(true);
    await mkdir(join(artifacts, name), { recursive: true });
    await copyFile(file, join(artifacts, name, basename(file)));
  } else if (step.run?.includes("gh run download")) {
    // What it replaces: `gh run download "$run" --name "plan-$EKSBOX_ENV" --dir plan`.
    const [, name, dir] = /--name "([^"]+)" --dir (\S+)/.exec(step.run)!;
    const artifact = name!.replace("$EKSBOX_ENV", String((contexts.matrix as { env: { name: string } }).env.name));
    await mkdir(join(checkout, dir!), { recursive: true });
    await execa("cp", ["-r", `${join(artifacts, artifact)}/.`, join(checkout, dir!)]);
  }
}

const jobsFor = (event: Event, needs: Record<string, { outputs: Record<string, string> }>) =>
  Object.entries(workflow.jobs)
    .filter(([, job]) => condition(job.if, { github: { event_name: event.name }, needs }))
    .map(([name]) => name)
    .sort();

const eksboxCommands = (job: JobRun) => job.ran.filter((r) => r.run.includes("npx eksbox"));

async function asgOf(env: string): Promise<{ AutoScalingGroupName: string; MaxSize: number }> {
  const out = await awsCli(cloud.image, cloud.moto.url, [
    "--region",
    "us-east-1",
    "autoscaling",
    "describe-auto-scaling-groups",
    "--filters",
    `Name=tag:alpha.eksctl.io/cluster-name,Values=${env}`,
  ]);
  expect(out.AutoScalingGroups).toHaveLength(1);
  return out.AutoScalingGroups[0];
}

beforeAll(async () => {
  cloud = await startCloud();
  project = await makeTestProject("eksbox-workflow-");
  origin = project.root;
  scratch = await mkdtemp(join(tmpdir(), "eksbox-workflow-runs-"));
  // TEST DOUBLE of npx: `npx eksbox ...` runs this checkout's built CLI (on a runner, npx finds eksbox
  // in the node_modules `npm ci` installed); anything else fails.
  await mkdir(join(scratch, "bin"));
  await writeFile(join(scratch, "bin", "npx"), `#!/bin/sh\n[ "$1" = eksbox ] || exit 99\nshift\nexec node ${cliPath} "$@"\n`);
  await chmod(join(scratch, "bin", "npx"), 0o755);

  // The repository: main without environments, and a pull request that adds two.
  for (const env of ENVS) await project.writeEnv(env, { endpointUrl: cloud.moto.url });
  const written = await project.run(["ci", "github"]);
  expect(written.exitCode, written.stderr).toBe(0);
  workflow = parse(await readFile(join(origin, GITHUB_WORKFLOW_PATH), "utf8")) as Workflow;
  git(origin, "init", "-q", "-b", "main");
  git(origin, "add", "templates", "config/defaults.yaml", ".github");
  git(origin, "commit", "-qm", "eksbox");
  git(origin, "checkout", "-qb", "add-environments");
  git(origin, "add", "config/environments");
  git(origin, "commit", "-qm", "two environments");
}, 900_000);

afterAll(async () => {
  await removeOurContainers(ENVS);
  await cloud?.stop();
  await project?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// Whole CLI runs in order against one emulated cloud: minutes on a loaded 2-core machine.
describe("the generated GitHub workflow, run against moto", { timeout: 900_000 }, () => {
  it("a pull request: validate, then plan each environment it adds, into the job summary and an artifact", async () => {
    const event: Event = { name: "pull_request", ref: "add-environments", baseRef: "main" };
    const environments = await runJob("environments", event, {});
    expect(environments.failed, JSON.stringify(environments.ran)).toBe(false);
    const needs = { environments: { outputs: environments.outputs } };
    expect(jobsFor(event, needs)).toEqual(["environments", "plan", "validate"]);

    const validate = await runJob("validate", event, needs);
    expect(eksboxCommands(validate).map((r) => [r.run, r.exitCode])).toEqual([["npx eksbox validate --all", 0]]);

    const matrix = evaluate("fromJSON(needs.environments.outputs.matrix)", { needs }) as { name: string; region: string }[];
    expect(matrix.map((e) => e.name)).toEqual(ENVS);
    for (const env of matrix) {
      const plan = await runJob("plan", event, needs, { env });
      expect(plan.skipped).toHaveLength(6);
      const [command] = eksboxCommands(plan);
      expect(command!.run).toBe('npx eksbox plan born --env "$EKSBOX_ENV" --out "plan-$EKSBOX_ENV.json" | tee plan.txt');
      expect(command!.exitCode, command!.stderr).toBe(0);
      expect(command!.stdout).toContain(`plan: born --env ${env.name} (account 123456789012, us-east-1); nothing has been changed`);
      // The plan's own text, in the job summary (plan.txt, written by tee).
      expect(plan.summary).toContain(`### eksbox plan born: ${env.name}`);
      expect(plan.summary).toContain(`$ eksctl create cluster -f build/${env.name}/cluster.yaml`);
      expect(existsSync(join(scratch, "artifacts", `plan-${env.name}`, `plan-${env.name}.json`))).toBe(true);
    }
    expect(await cloud.clusters()).toEqual([]);
  });

  it("the merge: each environment applies the plan reviewed on the pull request (born --plan)", async () => {
    git(origin, "checkout", "-q", "main");
    git(origin, "merge", "-q", "--ff-only", "add-environments");
    const event: Event = { name: "push", ref: "main" };
    const environments = await runJob("environments", event, {});
    const needs = { environments: { outputs: environments.outputs } };
    expect(jobsFor(event, needs)).toEqual(["apply", "environments"]);
    const matrix = evaluate("fromJSON(needs.environments.outputs.matrix)", { needs }) as { name: string }[];
    expect(matrix.map((e) => e.name)).toEqual(ENVS);
    for (const env of matrix) {
      const apply = await runJob("apply", event, needs, { env });
      const [command] = eksboxCommands(apply);
      expect(command!.run).toBe('npx eksbox born --env "$EKSBOX_ENV" --plan "plan/plan-$EKSBOX_ENV.json" --yes');
      expect(command!.exitCode, command!.stderr).toBe(0);
      expect(existsSync(join(apply.checkout, "plan", `plan-${env.name}.json`))).toBe(true);
    }
    expect((await cloud.clusters()).sort()).toEqual(ENVS);
  });

  it("nightly: diff --all --exit-code passes with no drift, and fails with 2 after a change made by hand", async () => {
    const event: Event = { name: "schedule", ref: "main" };
    expect(jobsFor(event, {})).toEqual(["drift", "environments"]);
    const clean = await runJob("drift", event, {});
    const [first] = eksboxCommands(clean);
    expect(first!.run).toBe("npx eksbox diff --all --exit-code");
    expect(first!.exitCode, first!.stderr + first!.stdout).toBe(0);
    expect(clean.failed).toBe(false);
    expect(first!.stdout).toMatch(/^wf-a\s+ok\s+none$/m);
    expect(first!.stdout).toMatch(/^wf-b\s+ok\s+none$/m);

    const group = await asgOf("wf-a");
    await awsCli(cloud.image, cloud.moto.url, [
      "--region",
      "us-east-1",
      "autoscaling",
      "update-auto-scaling-group",
      "--auto-scaling-group-name",
      group.AutoScalingGroupName,
      "--max-size",
      "9",
    ]);
    const drifted = await runJob("drift", event, {});
    const [second] = eksboxCommands(drifted);
    expect(second!.exitCode, second!.stderr + second!.stdout).toBe(2);
    expect(drifted.failed).toBe(true);
    expect(second!.stdout).toMatch(/^wf-a\s+exit 2\s+1: nodegroups: ~ nodegroup \S+ maxSize: 9 → 2/m);
    expect(second!.stdout).toMatch(/^wf-b\s+ok\s+none$/m);
    expect(second!.stdout).toContain("diff: 2 environment(s), 1 not ok");
  });
});

describe("diff over the fleet", { timeout: 900_000 }, () => {
  it("--env a,b --output json: each environment's changes and code, the fleet's code 2", async () => {
    const result = await project.run(["diff", "--env", ENVS.join(","), "--exit-code", "--output", "json"], {
      env: cloud.cliEnv(),
      timeoutMs: 600_000,
    });
    expect(result.exitCode, result.stderr).toBe(2);
    const json = JSON.parse(result.stdout) as {
      exitCode: number;
      environments: { env: string; exitCode: number; result: { count: number; changes: { field: string; live: unknown }[] } }[];
    };
    expect(json.exitCode).toBe(2);
    expect(json.environments.map((e) => [e.env, e.exitCode, e.result.count])).toEqual([
      ["wf-a", 2, 1],
      ["wf-b", 0, 0],
    ]);
    expect(json.environments[0]!.result.changes[0]).toMatchObject({ field: "maxSize", live: 9 });
  });

  it("an environment that cannot be checked makes it 1, though another drifted", async () => {
    await writeFile(
      join(origin, "config/environments/wf-b.yaml"),
      envYaml({ endpointUrl: cloud.moto.url }).replace('accountId: "123456789012"', 'accountId: "999999999999"'),
    );
    const result = await project.run(["diff", "--all", "--exit-code"], { env: cloud.cliEnv(), timeoutMs: 600_000 });
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/^wf-a\s+exit 2\s+1: /m);
    expect(result.stdout).toMatch(/^wf-b\s+failed \(1\)\s+refusing to act: the credentials are for account 123456789012/m);
    expect(result.stderr).toContain("[wf-b] error: refusing to act");
  });
});
