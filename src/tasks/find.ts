// One lookup for every task `eksbox plan` can show: the built-in lifecycle tasks (born, roll, destroy),
// upgrade, and the user's tasks from config/tasks.yaml.
import type { Environment } from "../config/schema.js";
import type { ConvergeOptions } from "../steps/lifecycle.js";
import { builtinTask, builtinTaskNames, type BuiltinTaskName } from "../steps/registry.js";
import { upgradeTask } from "../steps/upgrade.js";
import { argumentSpecs, bindArguments } from "./args.js";
import { builtinSpecs } from "./builtin-specs.js";
import { parseTaskTokens } from "./token-parse.js";
import { compileUserTask, type BuiltTask } from "./compile.js";
import { loadTasksFile } from "./load.js";

export interface FindTaskOptions {
  env: Environment;
  /** Argument tokens after the task name, as on its own command line: `default --timeout 5`. */
  args?: readonly string[];
  /** For roll: the nodegroup version (plan's --to-version). */
  toVersion?: string;
  /** For born: --roll, --prune, --reset-desired. */
  converge?: ConvergeOptions;
  /** For roll: the pools to roll (plan's --pool). */
  pools?: string[];
}

/** Every task name, built-in first. Throws ConfigError when config/tasks.yaml has problems. */
export async function taskNames(projectRoot: string): Promise<string[]> {
  const file = await loadTasksFile(projectRoot);
  return [...builtinTaskNames, "upgrade", ...Object.keys(file.tasks)];
}

/** Whether there is a task of that name; reads config/tasks.yaml only for names that are not built in. */
export async function hasTask(projectRoot: string, name: string): Promise<boolean> {
  if ((builtinTaskNames as readonly string[]).includes(name) || name === "upgrade") return true;
  return Object.hasOwn((await loadTasksFile(projectRoot)).tasks, name);
}

/** The task called `name`, ready for planLifecycleTask/runLifecycleTask; undefined when there is none. */
export async function findTask(projectRoot: string, name: string, opts: FindTaskOptions): Promise<BuiltTask | undefined> {
  const tokens = opts.args ?? [];
  if ((builtinTaskNames as readonly string[]).includes(name)) {
    return builtinTask(name as BuiltinTaskName, { roll: { toVersion: opts.toVersion, pools: opts.pools }, converge: opts.converge });
  }
  if (name === "upgrade") {
    const specs = builtinSpecs("upgrade");
    const values = bindArguments("upgrade", specs, parseTaskTokens("upgrade", specs, tokens));
    return { task: upgradeTask({ to: values.to as string | undefined, force: values.force === true }), command: "upgrade" };
  }
  const file = await loadTasksFile(projectRoot);
  const decl = file.tasks[name];
  if (!decl) return undefined;
  const specs = argumentSpecs(decl);
  const values = bindArguments(name, specs, parseTaskTokens(name, specs, tokens));
  return compileUserTask(file, name, values, opts.env);
}
