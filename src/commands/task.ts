// `eksbox task list`, and user tasks as commands: `eksbox <task> [parameters] [--options]`, with
// --help generated from their declarations. src/cli.ts calls registerUserTasks before parsing.
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { CommandContext } from "../core/context.js";
import type { SessionOptions } from "../steps/session.js";
import { usageLine } from "../tasks/args.js";
import { collect, defineTaskArguments, givenArguments } from "../tasks/token-parse.js";

/** The CLI's wrapper that builds the context and renders errors (src/cli.ts `action`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes an action its arguments untyped; each command function declares its own
export type ActionWrapper = (run: (ctx: CommandContext, ...args: any[]) => Promise<unknown>) => (...args: any[]) => Promise<void>;

export interface RegisterUserTasksOptions {
  projectRoot: string;
  action: ActionWrapper;
  /** env and image from the global options, plus this command's --set values. */
  sessionOptions: (opts: { set?: string[] }) => SessionOptions;
  /**
   * The command line. When no word of it names a task (`eksbox --help`, a mistyped command), tasks
   * are registered by name and description only, without validating the file (see summaries.ts).
   */
  argv?: readonly string[];
}

/**
 * Adds one command per task in config/tasks.yaml. A tasks file with problems does not break the
 * other commands: each task name that can still be read becomes a command that reports them.
 */
export async function registerUserTasks(program: Command, opts: RegisterUserTasksOptions): Promise<void> {
  // Most projects have no tasks file: then yaml and zod are not even loaded.
  const TASKS_FILE = "config/tasks.yaml";
  if (
    !(await access(join(opts.projectRoot, TASKS_FILE)).then(
      () => true,
      () => false,
    ))
  )
    return;
  const taken = new Set(program.commands.map((c) => c.name()));
  if (opts.argv && (await registerForListing(program, opts.projectRoot, TASKS_FILE, opts.argv, taken))) return;
  const { loadTasksFile } = await import("../tasks/load.js");
  let file: Awaited<ReturnType<typeof loadTasksFile>>;
  try {
    file = await loadTasksFile(opts.projectRoot);
  } catch (error) {
    for (const name of await rawTaskNames(opts.projectRoot, TASKS_FILE)) {
      if (taken.has(name)) continue;
      program
        .command(name)
        .description(`(${TASKS_FILE} has problems)`)
        .allowUnknownOption()
        .allowExcessArguments()
        .action(
          opts.action(async () => {
            throw error;
          }),
        );
    }
    return;
  }
  const { argumentSpecs } = await import("../tasks/args.js");
  const { callsBuiltin, destructiveCalls } = await import("../tasks/load.js");
  for (const [name, decl] of Object.entries(file.tasks)) {
    // load.ts refuses every built-in name it knows; a built-in command always wins over a task.
    if (taken.has(name)) continue;
    const specs = argumentSpecs(decl);
    const command = program.command(name).description(decl.description);
    const bindings = defineTaskArguments(command, specs);
    command.option("--set <path=value>", "override a config value (repeatable)", collect);
    // Calling roll or upgrade makes the task destructive: it takes their confirmation options. So does
    // calling born, whose changes that drain or delete need the confirmation as `eksbox born`'s do.
    const destructive = destructiveCalls(file, name).length > 0 || callsBuiltin(file, name, "born");
    if (destructive) {
      command
        .option(
          "--yes",
          "do not ask before rolling or upgrading, and confirm born's changes that drain or delete (required without a terminal)",
        )
        .option("--allow-protected", "allow it on an environment marked protected: true");
    }
    command.addHelpText(
      "after",
      `\nSteps: ${decl.steps.map((s) => s.id).join(", ")}\nSee the commands they would run: eksbox plan ${name} ${usageLine(specs)}`.trimEnd(),
    );
    command.action(
      opts.action(async (ctx, ...rest: unknown[]) => {
        const options = rest[rest.length - 1] as Record<string, unknown> & { set?: string[]; yes?: boolean; allowProtected?: boolean };
        const given = givenArguments(specs, bindings, rest.slice(0, -1), options);
        const { userTaskCommand } = await import("./user-task.js");
        return userTaskCommand(ctx, {
          ...opts.sessionOptions({ set: options.set }),
          task: name,
          given,
          yes: options.yes,
          allowProtected: options.allowProtected,
        });
      }),
    );
  }
}

/** Registers names and descriptions only, when the command line names no task; false when it does, or the file needs validating. */
async function registerForListing(
  program: Command,
  projectRoot: string,
  file: string,
  argv: readonly string[],
  taken: ReadonlySet<string>,
): Promise<boolean> {
  const { readTaskSummaries } = await import("../tasks/summaries.js");
  const summaries = await readTaskSummaries(projectRoot, file);
  if (!summaries || summaries.some((task) => argv.includes(task.name))) return false;
  for (const { name, description } of summaries) {
    if (!taken.has(name)) program.command(name).description(description).allowUnknownOption().allowExcessArguments();
  }
  return true;
}

async function rawTaskNames(projectRoot: string, file: string): Promise<string[]> {
  try {
    const { readFile } = await import("node:fs/promises");
    const { yamlLibrary } = await import("../config/yaml-lib.js");
    const doc = yamlLibrary().parse(await readFile(join(projectRoot, file), "utf8")) as { tasks?: Record<string, unknown> };
    const { taskNamePattern } = await import("../tasks/summaries.js");
    return Object.keys(doc?.tasks ?? {}).filter((n) => taskNamePattern.test(n));
  } catch {
    return [];
  }
}

/**
 * The project root as the CLI will resolve it, read before commander parses (user tasks must be
 * registered first): --project <dir> or --project=<dir>, then EKSBOX_PROJECT, then the fallback.
 */
export function projectRootFromArgv(argv: readonly string[], processEnv: NodeJS.ProcessEnv, fallback: () => string): string {
  const at = argv.indexOf("--project");
  const flag = at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith("--project="))?.slice("--project=".length);
  if (flag) return resolve(flag);
  if (processEnv.EKSBOX_PROJECT) return resolve(processEnv.EKSBOX_PROJECT);
  return fallback();
}

/** eksbox task list: the tasks in config/tasks.yaml with their usage. */
export async function taskListCommand(ctx: CommandContext): Promise<void> {
  const { loadTasksFile, TASKS_FILE } = await import("../tasks/load.js");
  const { argumentSpecs } = await import("../tasks/args.js");
  const file = await loadTasksFile(ctx.projectRoot);
  const rows = Object.entries(file.tasks).map(([name, decl]) => ({
    name,
    description: decl.description,
    usage: `eksbox ${name} ${usageLine(argumentSpecs(decl))}`.trim(),
  }));
  if (ctx.output === "json") {
    ctx.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    return;
  }
  if (rows.length === 0) {
    ctx.stdout.write(`no tasks (add them to ${TASKS_FILE})\n`);
    return;
  }
  for (const row of rows) ctx.stdout.write(`${row.usage}\n    ${row.description}\n`);
}
