// User tasks as commands: `eksbox <task> [parameters] [--options]`, with --help generated from
// their declarations. Kept apart from src/cli.ts, which calls registerUserTasks before parsing.
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import type { SessionOptions } from "../steps/session.js";
import { usageLine, type ArgumentSpec } from "./args.js";

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

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function describe(spec: ArgumentSpec): string {
  const parts = [spec.description];
  if (spec.type === "enum") parts.push(`one of: ${(spec.values ?? []).join(", ")}`);
  if (spec.type === "number") parts.push("a number");
  if (spec.type === "list") parts.push(spec.kind === "option" ? "repeatable" : "one or more");
  if (spec.required) parts.push("required");
  if (spec.default !== undefined) parts.push(`default: ${Array.isArray(spec.default) ? spec.default.join(", ") : String(spec.default)}`);
  return parts.filter(Boolean).join("; ");
}

interface OptionBinding {
  spec: ArgumentSpec;
  attribute: string;
}

/** Adds a task's parameters and options to a commander command; returns how to read them back. */
export function defineTaskArguments(command: Command, specs: readonly ArgumentSpec[]): OptionBinding[] {
  const bindings: OptionBinding[] = [];
  command.usage(`${usageLine(specs)} [--set <path=value>]`.trim());
  for (const spec of specs) {
    if (spec.kind === "parameter") {
      const list = spec.type === "list" ? "..." : "";
      // Optional for commander, so a missing one is reported by bindArguments with its type.
      command.argument(`[${spec.name}${list}]`, describe(spec));
      continue;
    }
    if (spec.type === "boolean") {
      const on = new Option(`--${spec.name}`, describe(spec));
      command.addOption(on);
      command.addOption(new Option(`--no-${spec.name}`, `set ${spec.name} to false`));
      bindings.push({ spec, attribute: on.attributeName() });
      continue;
    }
    const placeholder = spec.type === "enum" ? (spec.values ?? []).join("|") : spec.type;
    const option = new Option(`--${spec.name} <${placeholder}>`, describe(spec));
    if (spec.type === "list") option.argParser(collect);
    command.addOption(option);
    bindings.push({ spec, attribute: option.attributeName() });
  }
  return bindings;
}

/** name -> raw value (strings from the command line), only for what was given. */
export function givenArguments(specs: readonly ArgumentSpec[], bindings: readonly OptionBinding[], positionals: readonly unknown[], options: Record<string, unknown>): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  specs.filter((s) => s.kind === "parameter").forEach((spec, i) => {
    const value = positionals[i];
    if (value !== undefined && !(Array.isArray(value) && value.length === 0)) given[spec.name] = value;
  });
  for (const { spec, attribute } of bindings) {
    if (options[attribute] !== undefined) given[spec.name] = options[attribute];
  }
  return given;
}

/** Parses argument tokens (`default --timeout 5`) for a task outside its own command, as `plan` needs. */
export function parseTaskTokens(task: string, specs: readonly ArgumentSpec[], tokens: readonly string[]): Record<string, unknown> {
  const command = new Command(task).exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} }).helpOption(false);
  const bindings = defineTaskArguments(command, specs);
  let given: Record<string, unknown> = {};
  command.action((...args: unknown[]) => {
    const options = args[args.length - 2] as Record<string, unknown>;
    given = givenArguments(specs, bindings, args.slice(0, -2), options);
  });
  try {
    command.parse([...tokens], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) throw new UserError(`task ${task}: ${error.message.replace(/^error: /, "")}`);
    throw error;
  }
  return given;
}

/**
 * Adds one command per task in config/tasks.yaml. A tasks file with problems does not break the
 * other commands: each task name that can still be read becomes a command that reports them.
 */
export async function registerUserTasks(program: Command, opts: RegisterUserTasksOptions): Promise<void> {
  // Most projects have no tasks file: then yaml and zod are not even loaded.
  const TASKS_FILE = "config/tasks.yaml";
  if (!(await access(join(opts.projectRoot, TASKS_FILE)).then(() => true, () => false))) return;
  const taken = new Set(program.commands.map((c) => c.name()));
  if (opts.argv && (await registerForListing(program, opts.projectRoot, TASKS_FILE, opts.argv, taken))) return;
  const { loadTasksFile } = await import("./load.js");
  let file: Awaited<ReturnType<typeof loadTasksFile>>;
  try {
    file = await loadTasksFile(opts.projectRoot);
  } catch (error) {
    for (const name of await rawTaskNames(opts.projectRoot, TASKS_FILE)) {
      if (taken.has(name)) continue;
      program.command(name).description(`(${TASKS_FILE} has problems)`).allowUnknownOption().allowExcessArguments()
        .action(opts.action(async () => { throw error; }));
    }
    return;
  }
  const { argumentSpecs } = await import("./args.js");
  for (const [name, decl] of Object.entries(file.tasks)) {
    // load.ts refuses every built-in name it knows; a built-in command always wins over a task.
    if (taken.has(name)) continue;
    const specs = argumentSpecs(decl);
    const command = program.command(name).description(decl.description);
    const bindings = defineTaskArguments(command, specs);
    command.option("--set <path=value>", "override a config value (repeatable)", collect);
    command.addHelpText("after", `\nSteps: ${decl.steps.map((s) => s.id).join(", ")}\nSee the commands they would run: eksbox plan ${name} ${usageLine(specs)}`.trimEnd());
    command.action(
      opts.action(async (ctx, ...rest: unknown[]) => {
        const options = rest[rest.length - 1] as Record<string, unknown> & { set?: string[] };
        const given = givenArguments(specs, bindings, rest.slice(0, -1), options);
        const { userTaskCommand } = await import("../commands/task.js");
        await userTaskCommand(ctx, { ...opts.sessionOptions({ set: options.set }), task: name, given });
      }),
    );
  }
}

/** Registers names and descriptions only, when the command line names no task; false when it does, or the file needs validating. */
async function registerForListing(program: Command, projectRoot: string, file: string, argv: readonly string[], taken: ReadonlySet<string>): Promise<boolean> {
  const { readTaskSummaries } = await import("./summaries.js");
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
    const { taskNamePattern } = await import("./summaries.js");
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
