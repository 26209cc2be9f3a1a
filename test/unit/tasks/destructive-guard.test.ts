// A user task that calls roll or upgrade goes through the guard `eksbox roll` and `eksbox upgrade`
// use (steps/guard.ts): asked on a terminal, --yes without one, --allow-protected on a protected
// environment. Refusals happen before the env lock, the run record or the toolbox: nothing is touched.
import { access, readFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerUserTasks } from "../../../src/commands/task.js";
import { userTaskCommand } from "../../../src/commands/user-task.js";
import type { CommandContext } from "../../../src/core/context.js";
import { MemorySink } from "../../../src/core/events.js";
import { UserError } from "../../../src/core/errors.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { bornTask } from "../../../src/steps/born.js";
import { runTask } from "../../../src/steps/scheduler.js";
import { compileUserTask, type BornConfirmation } from "../../../src/tasks/compile.js";
import { destructiveCalls, loadTasksFile } from "../../../src/tasks/load.js";
import { contextFor, fakeCloud, makeProject, repoRoot, unitEnvYaml } from "./support.js";

const fixture = await readFile(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), "utf8");
// The fixture's `release` calls `task: roll`; `deploy` reaches it through `release`; `greet` rolls nothing.
const tasksYaml = `${fixture}
  deploy:
    description: release, by another name
    steps:
    - id: go
      task: release
`;

function context(root: string, ask?: (question: string) => Promise<string>): CommandContext {
  return {
    projectRoot: root,
    events: new MemorySink(),
    interrupter: new Interrupter(),
    stdout: new Writable({ write: (_c, _e, done) => done() }),
    output: "text",
    processEnv: { PATH: process.env.PATH },
    ...(ask ? { ask } : {}),
  };
}

const untouched = async (root: string) =>
  expect(
    await access(join(root, ".eksbox")).then(
      () => "exists",
      () => "absent",
    ),
  ).toBe("absent");

describe("user tasks that roll or upgrade", () => {
  it("need --yes without a terminal, and nothing is started without it", async () => {
    const root = await makeProject({ tasksYaml });
    for (const task of ["release", "deploy"]) {
      const error = await userTaskCommand(context(root), { env: "unit", task, given: {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toMatch(/needs a confirmation and there is no terminal/);
      expect((error as UserError).message).toContain(
        "roll the nodegroups, draining and deleting the ones it replaces (step rollout of task release)",
      );
      expect((error as UserError).hint).toBe(`read the plan, then pass --yes: eksbox ${task} --env unit --yes`);
    }
    await untouched(root);
  });

  it("ask for the cluster's name on a terminal, and stop on a wrong answer", async () => {
    const root = await makeProject({ tasksYaml });
    const questions: string[] = [];
    const ask = async (question: string) => {
      questions.push(question);
      return "not-the-cluster";
    };
    const error = await userTaskCommand(context(root, ask), { env: "unit", task: "release", given: {} }).catch((e: unknown) => e);
    expect(questions).toEqual([
      "This will:\n  - roll the nodegroups, draining and deleting the ones it replaces (step rollout of task release)\nType the cluster's name (unit) to go on: ",
    ]);
    expect((error as UserError).message).toBe('"not-the-cluster" is not "unit"; nothing was changed');
    await untouched(root);
  });

  it("need --allow-protected on a protected environment, even with --yes", async () => {
    const root = await makeProject({ tasksYaml, envYaml: `${unitEnvYaml}protected: true\n` });
    const error = await userTaskCommand(context(root), { env: "unit", task: "release", given: {}, yes: true }).catch((e: unknown) => e);
    expect((error as UserError).message).toMatch(
      /^environment unit is protected \(protected: true\); refusing to:\n {2}- roll the nodegroups/,
    );
    expect((error as UserError).hint).toBe("if you really mean it: eksbox release --env unit --allow-protected");
    await untouched(root);
  });

  it("are found through the tasks they need and call; the others are not guarded", async () => {
    const file = await loadTasksFile(await makeProject({ tasksYaml }));
    expect(destructiveCalls(file, "greet")).toEqual([]);
    expect(destructiveCalls(file, "smoke")).toEqual([]);
    expect(destructiveCalls(file, "deploy")).toEqual(destructiveCalls(file, "release"));
    expect(destructiveCalls(file, "release")).toHaveLength(1);
  });

  it("take --yes and --allow-protected on the command line; other tasks do not", async () => {
    const cli = new Command("eksbox").exitOverride();
    await registerUserTasks(cli, {
      projectRoot: await makeProject({ tasksYaml }),
      action: () => async () => {},
      sessionOptions: (opts) => ({ env: "unit", set: opts.set }),
    });
    const optionsOf = (name: string) => cli.commands.find((c) => c.name() === name)!.options.map((o) => o.long);
    expect(optionsOf("release")).toEqual(expect.arrayContaining(["--yes", "--allow-protected"]));
    expect(optionsOf("deploy")).toEqual(expect.arrayContaining(["--yes", "--allow-protected"]));
    expect(optionsOf("greet")).not.toContain("--yes");
  });
});

// born's destructive converge changes (here: --prune deleting a cluster tag the config does not name)
// are found when it runs and confirmed there, as `eksbox born --prune --yes` confirms them: a task
// that calls born takes --yes and --allow-protected and passes them on to it.
const bornTasksYaml = `${tasksYaml}
  tidy:
    description: bring the cluster to the config, deleting what it no longer names
    steps:
    - id: converge
      task: born
      with: { prune: true }
  nightly:
    description: tidy, by another name
    needs: [tidy]
    steps:
    - id: done
      run: [echo, tidied]
`;

async function tidyRun(envYaml: string, confirmation: BornConfirmation) {
  const root = await makeProject({ tasksYaml: bornTasksYaml, envYaml });
  const cloud = fakeCloud(root);
  expect((await runTask(bornTask(), await contextFor(root, cloud))).status).toBe("done");
  cloud.clusters.get("unit")!.tags = { ...cloud.clusters.get("unit")!.tags, owner: "someone" };
  const ctx = await contextFor(root, cloud);
  const { task } = compileUserTask(await loadTasksFile(root), "tidy", {}, ctx.env, confirmation);
  const result = await runTask(task, task.extend ? task.extend(ctx) : ctx);
  return { result, tags: cloud.clusters.get("unit")!.tags ?? {} };
}

describe("user tasks that call born", () => {
  it("need the task's --yes for born's destructive changes, and name the task in the hint", async () => {
    const { result, tags } = await tidyRun(unitEnvYaml, { command: "eksbox tidy --env unit" });
    expect(result.status).toBe("failed");
    expect(result.error).toBeInstanceOf(UserError);
    expect((result.error as UserError).message).toMatch(
      /needs a confirmation and there is no terminal to ask on; it would:\n {2}- .*owner/,
    );
    expect((result.error as UserError).hint).toBe("read the plan, then pass --yes: eksbox tidy --env unit --yes");
    expect(tags.owner).toBe("someone");
  });

  it("pass the task's --yes on to born, which then makes them", async () => {
    const { result, tags } = await tidyRun(unitEnvYaml, { yes: true, command: "eksbox tidy --env unit" });
    expect(result.status).toBe("done");
    expect(tags).not.toHaveProperty("owner");
  });

  it("need --allow-protected on a protected environment, even with --yes", async () => {
    const isProtected = `${unitEnvYaml}protected: true\n`;
    const refused = await tidyRun(isProtected, { yes: true, command: "eksbox tidy --env unit" });
    expect((refused.result.error as UserError).message).toMatch(/^environment unit is protected \(protected: true\); refusing to:/);
    expect((refused.result.error as UserError).hint).toBe("if you really mean it: eksbox tidy --env unit --allow-protected");
    expect(refused.tags.owner).toBe("someone");
    const allowed = await tidyRun(isProtected, { yes: true, allowProtected: true, command: "eksbox tidy --env unit" });
    expect(allowed.result.status).toBe("done");
    expect(allowed.tags).not.toHaveProperty("owner");
  });

  it("take --yes and --allow-protected on the command line, also through a task they need", async () => {
    const cli = new Command("eksbox").exitOverride();
    await registerUserTasks(cli, {
      projectRoot: await makeProject({ tasksYaml: bornTasksYaml }),
      action: () => async () => {},
      sessionOptions: (opts) => ({ env: "unit", set: opts.set }),
    });
    const optionsOf = (name: string) => cli.commands.find((c) => c.name() === name)!.options.map((o) => o.long);
    expect(optionsOf("tidy")).toEqual(expect.arrayContaining(["--yes", "--allow-protected"]));
    expect(optionsOf("nightly")).toEqual(expect.arrayContaining(["--yes", "--allow-protected"]));
    expect(optionsOf("greet")).not.toContain("--yes");
  });
});
