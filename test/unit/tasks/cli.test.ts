// User tasks as commands: registration, generated --help, argument parsing, and a tasks file with
// problems reported by the task's command without breaking the others.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "commander";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { CommandContext } from "../../../src/core/context.js";
import { ConfigError } from "../../../src/core/errors.js";
import { projectRootFromArgv, registerUserTasks } from "../../../src/commands/task.js";
import { makeProject, repoRoot } from "./support.js";

const userTaskCommand = vi.fn(async () => {});
vi.mock("../../../src/commands/user-task.js", () => ({ userTaskCommand }));

const fixture = await readFile(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), "utf8");
const fakeContext = {} as CommandContext;

async function program(tasksYaml: string, errors: unknown[] = []): Promise<Command> {
  const root = await makeProject({ tasksYaml });
  const cli = new Command("eksbox").exitOverride();
  cli.command("born").description("built-in");
  await registerUserTasks(cli, {
    projectRoot: root,
    action:
      (run) =>
      async (...args: unknown[]) => {
        try {
          await run(fakeContext, ...args.slice(0, -1));
        } catch (error) {
          errors.push(error);
        }
      },
    sessionOptions: (opts) => ({ env: "unit", set: opts.set }),
  });
  return cli;
}

beforeEach(() => userTaskCommand.mockClear());

describe("registerUserTasks", () => {
  it("adds one command per task, parsing typed arguments and --set", async () => {
    const cli = await program(fixture);
    expect(cli.commands.map((c) => c.name())).toEqual(["born", "greet", "marker", "smoke", "release"]);
    await cli.parseAsync(["greet", "a", "b c", "--greeting", "yo", "--shout", "--set", "worker.minSize=2"], { from: "user" });
    expect(userTaskCommand).toHaveBeenCalledWith(fakeContext, {
      env: "unit",
      set: ["worker.minSize=2"],
      task: "greet",
      given: { names: ["a", "b c"], greeting: "yo", shout: true },
    });
  });

  it("generates --help from the declarations", async () => {
    const cli = await program(fixture);
    const greet = cli.commands.find((c) => c.name() === "greet")!;
    let help = "";
    greet.configureOutput({ writeOut: (s) => (help += s) });
    greet.outputHelp();
    expect(help).toBe(
      [
        "Usage: eksbox greet <names...> [--greeting <string>] [--shout] [--set <path=value>]",
        "",
        "print a greeting for each name, safely",
        "",
        "Arguments:",
        "  names                one or more; required",
        "",
        "Options:",
        "  --greeting <string>  default: hello",
        "  --shout              default: false",
        "  --no-shout           set shout to false",
        "  --set <path=value>   override a config value (repeatable)",
        "  -h, --help           display help for command",
        "",
        "Steps: argv, script",
        "See the commands they would run: eksbox plan greet <names...> [--greeting <string>] [--shout]",
        "",
      ].join("\n"),
    );
  });

  it("a built-in command wins over a task of the same name", async () => {
    const cli = await program(
      fixture.replace("  smoke:\n", "  born:\n").replace("task: smoke", "task: born").replace("needs: [smoke]", "needs: []"),
    );
    expect(cli.commands.filter((c) => c.name() === "born")).toHaveLength(1);
  });

  it("a tasks file with problems makes each task's command report them, and leaves the rest alone", async () => {
    const errors: unknown[] = [];
    const cli = await program(fixture.replace("needs: [write]", "needs: [wrte]"), errors);
    expect(cli.commands.map((c) => c.name())).toEqual(["born", "greet", "marker", "smoke", "release"]);
    await cli.parseAsync(["greet", "x"], { from: "user" });
    expect(errors[0]).toBeInstanceOf(ConfigError);
    expect((errors[0] as ConfigError).message).toMatch(
      /config\/tasks\.yaml:\d+:\d+: tasks\.marker\.steps\[1\]\.needs\[0\]: unknown step wrte/,
    );
    expect(userTaskCommand).not.toHaveBeenCalled();
  });
});

describe("projectRootFromArgv", () => {
  it("reads --project before commander parses, then EKSBOX_PROJECT, then the fallback", () => {
    const fallback = () => "/found";
    expect(projectRootFromArgv(["node", "eksbox", "greet", "--project", "/p"], {}, fallback)).toBe("/p");
    expect(projectRootFromArgv(["node", "eksbox", "--project=/q", "greet"], { EKSBOX_PROJECT: "/e" }, fallback)).toBe("/q");
    expect(projectRootFromArgv(["node", "eksbox", "greet"], { EKSBOX_PROJECT: "/e" }, fallback)).toBe("/e");
    expect(projectRootFromArgv(["node", "eksbox", "greet"], {}, fallback)).toBe("/found");
  });
});
