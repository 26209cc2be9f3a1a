// `eksbox --help` in a project with config/tasks.yaml lists the tasks from their names and
// descriptions without validating the file (no zod), while anything that names a task validates the
// whole file first, so a problem is still reported with file, line and key before a task runs.
// Runs the built CLI, as users do; a preloaded probe reports at exit whether zod was loaded.
import { execa } from "execa";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot } from "../../support/cli.js";

let cli: string;
let probe: string;

beforeAll(async () => {
  cli = await ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), "eksbox-startup-"));
  probe = join(dir, "zod-probe.mjs");
  // zod sets this global when it loads (zod/v4/core/core.js).
  await writeFile(
    probe,
    `process.on("exit", () => process.stderr.write("\\nzod loaded: " + ("__zod_globalConfig" in globalThis) + "\\n"));\n`,
  );
}, 300_000);

async function project(tasksYaml: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "eksbox-startup-project-"));
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await writeFile(join(root, "config", "tasks.yaml"), tasksYaml);
  return root;
}

async function eksbox(root: string, ...args: string[]) {
  const result = await execa("node", ["--import", probe, cli, ...args], {
    cwd: root,
    reject: false,
    env: { EKSBOX_PROJECT: root, NO_COLOR: "1" },
  });
  const zod = /zod loaded: (true|false)/.exec(result.stderr)?.[1];
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr, zodLoaded: zod === undefined ? undefined : zod === "true" };
}

const fixture = await readFile(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), "utf8");

describe("eksbox --help with config/tasks.yaml", () => {
  it("lists every task with its description, without loading zod", async () => {
    const result = await eksbox(await project(fixture), "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}greet \S*.*print a greeting for each name, safely$/m);
    expect(result.stdout).toMatch(/^ {2}marker .*write a marker file once; a rerun skips it$/m);
    expect(result.stdout).toMatch(/^ {2}smoke .*check the nodes, in the env's kubeconfig$/m);
    expect(result.zodLoaded).toBe(false);
  });

  it("a task's own --help validates the file (zod loaded) and shows its arguments", async () => {
    const result = await eksbox(await project(fixture), "greet", "--help");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Usage: eksbox greet <names...> [--greeting <string>] [--shout] [--set <path=value>]");
    expect(result.zodLoaded).toBe(true);
  });

  it("a problem the listing does not look at is still reported, with file, line and key, when the task runs", async () => {
    const broken = fixture.replace("      run: [printf,", "      rnu: [printf,");
    expect(broken).not.toBe(fixture);
    const root = await project(broken);
    const help = await eksbox(root, "--help");
    expect(help.stdout).toMatch(/^ {2}greet .*print a greeting for each name, safely$/m);

    const line = broken.split("\n").findIndex((l) => l.includes("rnu:")) + 1;
    const run = await eksbox(root, "greet", "world", "--env", "unit");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`config/tasks.yaml:${line}:7: tasks.greet.steps[0].rnu: unknown key`);
    expect(run.stderr).toContain("did you mean `run`?");
  });

  it("a task the listing cannot read (no description) marks the tasks as having problems", async () => {
    const root = await project(fixture.replace("    description: print a greeting for each name, safely\n", ""));
    const help = await eksbox(root, "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}greet .*\(config\/tasks\.yaml has problems\)$/m);
    expect(help.zodLoaded).toBe(true);
  });

  it("YAML that does not parse is reported when a task is named", async () => {
    const root = await project("tasks:\n  greet: [\n");
    const run = await eksbox(root, "greet");
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("config/tasks.yaml");
  });
});
