// The built-in lifecycle tasks by the name `eksbox plan <task>` and the commands use.
import { bornTask } from "./born.js";
import { destroyTask } from "./destroy.js";
import type { ConvergeOptions, LifecycleContext } from "./lifecycle.js";
import type { Task } from "./model.js";
import { rollTask, type RollOptions } from "./roll.js";

export interface BuiltinTask {
  task: Task<LifecycleContext, LifecycleContext>;
  /** The command that runs (and resumes) it. */
  command: string;
}

export const builtinTaskNames = ["born", "roll", "destroy"] as const;
export type BuiltinTaskName = (typeof builtinTaskNames)[number];

export function builtinTask(name: BuiltinTaskName, opts: { roll?: RollOptions; converge?: ConvergeOptions } = {}): BuiltinTask {
  switch (name) {
    case "born":
      return { task: bornTask(opts.converge), command: "born" };
    case "roll":
      return { task: rollTask(opts.roll), command: "nodegroup roll" };
    case "destroy":
      return { task: destroyTask(), command: "destroy" };
  }
}
