// Reads config/tasks.yaml and reports every problem at once, each with file:line:col and the
// dotted key: YAML syntax, schema (zod), and the rules that span keys (a step does exactly one
// thing, needs point at real steps, no cycles, no clash with a built-in command).
import { access } from "node:fs/promises";
import { join } from "node:path";
import type * as z from "zod";
import { ConfigError, type ConfigIssue } from "../core/errors.js";
import { closest } from "../config/issues.js";
import { objectKeys, schemaAt } from "../config/schema-walk.js";
import { dottedPath, readYamlSource, type KeyPath, type YamlSource } from "../config/yaml-source.js";
import { argumentSpecs } from "./args.js";
import { builtinSpecs, callableBuiltins, destructiveBuiltins, reservedCommandNames, reservedOptionNames } from "./builtin-specs.js";
import { tasksFileSchema, type TaskDeclaration, type TasksFileContent } from "./schema.js";
import { valueAt } from "../config/issues.js";

export const TASKS_FILE = "config/tasks.yaml";

export interface TasksFile {
  file: string;
  tasks: Record<string, TaskDeclaration>;
}

export async function tasksFileExists(projectRoot: string): Promise<boolean> {
  return access(join(projectRoot, TASKS_FILE)).then(
    () => true,
    () => false,
  );
}

/** The project's tasks; an empty set when there is no config/tasks.yaml. Throws ConfigError listing every problem. */
export async function loadTasksFile(projectRoot: string): Promise<TasksFile> {
  if (!(await tasksFileExists(projectRoot))) return { file: TASKS_FILE, tasks: {} };
  const source = await readYamlSource(join(projectRoot, TASKS_FILE), TASKS_FILE);
  return parseTasksSource(source);
}

export function parseTasksSource(source: YamlSource): TasksFile {
  if (source.issues.length > 0) throw new ConfigError(source.issues, `${source.file} is not valid YAML`);
  const at = (path: KeyPath, message: string, hint?: string): ConfigIssue => {
    const pos = source.locate(path);
    return { file: source.file, line: pos?.line, column: pos?.column, path: dottedPath(path), message, hint };
  };
  const parsed = tasksFileSchema.safeParse(source.value ?? {});
  if (!parsed.success)
    throw new ConfigError(zodIssues(parsed.error.issues, source.value, at), summary(source.file, parsed.error.issues.length));
  const issues = checkTasks(parsed.data, at);
  if (issues.length > 0) throw new ConfigError(issues, summary(source.file, issues.length));
  return { file: source.file, tasks: parsed.data.tasks };
}

function summary(file: string, count: number): string {
  return count === 1 ? `${file} has a problem` : `${file} has ${count} problems`;
}

type At = (path: KeyPath, message: string, hint?: string) => ConfigIssue;

function zodIssues(issues: readonly z.core.$ZodIssue[], value: unknown, at: At): ConfigIssue[] {
  return issues.flatMap((issue) => {
    const path = issue.path as (string | number)[];
    if (issue.code === "unrecognized_keys") {
      const accepted = objectKeys(schemaAt(tasksFileSchema, path));
      return issue.keys.map((key) => {
        const suggestion = closest(key, accepted);
        return at(
          [...path, key],
          "unknown key",
          suggestion ? `did you mean \`${suggestion}\`?` : `accepted keys here: ${accepted.join(", ")}`,
        );
      });
    }
    if (issue.code === "invalid_type" && valueAt(value, path) === undefined) return [at(path, `is required (expected ${issue.expected})`)];
    if (issue.code === "invalid_union" && path.at(-1) === "default")
      return [at(path, "must be a string, number, boolean or list of strings")];
    return [at(path, issue.message)];
  });
}

function checkTasks(content: TasksFileContent, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const userNames = new Set(Object.keys(content.tasks));
  for (const [name, task] of Object.entries(content.tasks)) {
    const base: KeyPath = ["tasks", name];
    if (reservedCommandNames.includes(name)) {
      issues.push(at(base, `task ${name} clashes with the built-in command \`eksbox ${name}\``, "rename the task"));
    }
    issues.push(...checkArguments(task, base, at));
    issues.push(...checkSteps(name, task, base, at, userNames));
    task.needs.forEach((needed, i) => {
      if (!userNames.has(needed)) {
        issues.push(at([...base, "needs", i], `unknown task ${needed}`, hintForTask(needed, userNames)));
      } else if (argumentSpecs(content.tasks[needed]!).some((s) => s.required)) {
        issues.push(
          at(
            [...base, "needs", i],
            `task ${needed} has required arguments, so it cannot be a need`,
            `call it from a step instead: { id: ..., task: ${needed}, with: {...} }`,
          ),
        );
      }
      if (task.steps.some((s) => s.id === needed)) {
        issues.push(at([...base, "needs", i], `a step of ${name} is also called ${needed}; step ids and needed task names must differ`));
      }
    });
  }
  issues.push(...checkTaskCycles(content, at));
  return issues;
}

function hintForTask(name: string, userNames: Set<string>): string {
  const known = [...callableBuiltins, ...userNames];
  const suggestion = closest(name, known);
  return suggestion ? `did you mean ${suggestion}?` : `tasks: ${known.join(", ")}`;
}

function checkArguments(task: TaskDeclaration, base: KeyPath, at: At): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  const check = (
    name: string,
    spec: TaskDeclaration["parameters"][number] | TaskDeclaration["options"][string],
    path: KeyPath,
    isParameter: boolean,
  ) => {
    if (seen.has(name)) issues.push(at(path, `${name} is declared twice (parameters and options share one namespace)`));
    seen.add(name);
    if (!isParameter && reservedOptionNames.includes(name)) issues.push(at(path, `--${name} is an eksbox option; choose another name`));
    if (spec.type === "enum" && !spec.values) issues.push(at(path, "an enum needs `values`", "values: [first, second]"));
    if (spec.type !== "enum" && spec.values)
      issues.push(at([...path, "values"], "only an enum has values", "set type: enum, or remove values"));
    if (spec.required && spec.default !== undefined)
      issues.push(at([...path, "default"], "a required argument has no default; remove one of them"));
    if (spec.default !== undefined) {
      const d = spec.default;
      const fits =
        spec.type === "list"
          ? Array.isArray(d)
          : spec.type === "number"
            ? typeof d === "number"
            : spec.type === "boolean"
              ? typeof d === "boolean"
              : spec.type === "enum"
                ? typeof d === "string" && (spec.values ?? []).includes(d)
                : typeof d === "string";
      if (!fits) {
        const expected =
          spec.type === "enum" ? `one of ${(spec.values ?? []).join(", ")}` : spec.type === "list" ? "a list" : `a ${spec.type}`;
        issues.push(at([...path, "default"], `the default ${JSON.stringify(d)} is not ${expected}`));
      }
    }
  };
  task.parameters.forEach((p, i) => {
    const path = [...base, "parameters", i];
    check(p.name, p, path, true);
    if (p.type === "list" && i !== task.parameters.length - 1) issues.push(at(path, "only the last parameter can be a list"));
    if (p.type === "boolean")
      issues.push(
        at([...path, "type"], "a positional parameter cannot be a boolean", "make it an option: options: { name: { type: boolean } }"),
      );
    if (p.required && task.parameters.slice(0, i).some((q) => !q.required)) {
      issues.push(at(path, "a required parameter cannot follow an optional one"));
    }
  });
  for (const [name, o] of Object.entries(task.options)) check(name, o, [...base, "options", name], false);
  return issues;
}

function checkSteps(taskName: string, task: TaskDeclaration, base: KeyPath, at: At, userNames: Set<string>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const ids = new Map<string, number>();
  task.steps.forEach((step, i) => {
    const path = [...base, "steps", i];
    if (ids.has(step.id)) issues.push(at([...path, "id"], `step id ${step.id} is used twice`));
    ids.set(step.id, i);
    if (task.preflight && step.id === "preflight")
      issues.push(
        at([...path, "id"], "preflight is the id of the built-in account check", "rename the step, or set preflight: false on the task"),
      );
    const actions = (["run", "script", "task"] as const).filter((k) => step[k] !== undefined);
    if (actions.length !== 1) {
      issues.push(
        at(
          path,
          actions.length === 0 ? "a step needs one of run, script or task" : `a step does one thing; it has ${actions.join(" and ")}`,
        ),
      );
    }
    if (step.task === undefined && Object.keys(step.with).length > 0)
      issues.push(at([...path, "with"], "`with` gives arguments to a called task; this step calls none"));
    if (step.task !== undefined && step.skipIf !== undefined)
      issues.push(at([...path, "skipIf"], "a task call decides step by step; skipIf is for run and script steps"));
    if (step.task !== undefined) {
      if (step.task === "destroy") {
        issues.push(
          at(
            [...path, "task"],
            "destroy cannot be called from a task",
            "it asks for confirmation and guards protected environments: run eksbox destroy",
          ),
        );
      } else if (!callableBuiltins.includes(step.task) && !userNames.has(step.task)) {
        issues.push(at([...path, "task"], `unknown task ${step.task}`, hintForTask(step.task, userNames)));
      } else if (callableBuiltins.includes(step.task)) {
        const accepted = builtinSpecs(step.task).map((s) => s.name);
        for (const key of Object.keys(step.with)) {
          if (!accepted.includes(key)) {
            issues.push(
              at(
                [...path, "with", key],
                `${step.task} takes no argument ${key}`,
                accepted.length ? `it takes: ${accepted.join(", ")}` : "it takes no arguments",
              ),
            );
          }
        }
      }
      if (step.task === taskName) issues.push(at([...path, "task"], `task ${taskName} calls itself`));
    }
  });
  task.steps.forEach((step, i) => {
    step.needs.forEach((need, j) => {
      if (!ids.has(need)) {
        const suggestion = closest(need, [...ids.keys()]);
        issues.push(
          at(
            [...base, "steps", i, "needs", j],
            `unknown step ${need}`,
            suggestion ? `did you mean ${suggestion}?` : `steps: ${[...ids.keys()].join(", ")}`,
          ),
        );
      }
    });
  });
  const cycle = findCycle(task.steps.map((s) => [s.id, s.needs.filter((n) => ids.has(n))]));
  if (cycle) {
    const first = ids.get(cycle[0]!)!;
    issues.push(
      at([...base, "steps", first, "needs"], `the steps' needs form a cycle: ${cycle.join(" -> ")}`, "remove one of these needs"),
    );
  }
  return issues;
}

/** Calls and needs between tasks must not loop (a calls b calls a). */
function checkTaskCycles(content: TasksFileContent, at: At): ConfigIssue[] {
  const edges: [string, string[]][] = Object.entries(content.tasks).map(([name, task]) => [
    name,
    [...task.needs, ...task.steps.flatMap((s) => (s.task && content.tasks[s.task] ? [s.task] : []))].filter(
      (n) => n !== name && content.tasks[n],
    ),
  ]);
  const cycle = findCycle(edges);
  return cycle
    ? [
        at(
          ["tasks", cycle[0]!],
          `tasks call each other in a cycle: ${cycle.join(" -> ")}`,
          "break the cycle: one of them must not call or need the next",
        ),
      ]
    : [];
}

/** A cycle in a graph given as node -> successors, as the path that closes it; undefined when there is none. */
export function findCycle(graph: readonly (readonly [string, readonly string[]])[]): string[] | undefined {
  const edges = new Map(graph);
  const state = new Map<string, "visiting" | "done">();
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "visiting") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "visiting");
    for (const next of edges.get(node) ?? []) {
      const found = visit(next, [...path, node]);
      if (found) return found;
    }
    state.set(node, "done");
    return undefined;
  };
  for (const [node] of graph) {
    const found = visit(node, []);
    if (found) return found;
  }
  return undefined;
}

/** Whether a user task (or a task it needs or calls) calls the built-in `builtin`. */
export function callsBuiltin(file: TasksFile, name: string, builtin: string, seen = new Set<string>()): boolean {
  const decl = file.tasks[name];
  if (!decl || seen.has(name)) return false;
  seen.add(name);
  return (
    decl.needs.some((needed) => callsBuiltin(file, needed, builtin, seen)) ||
    decl.steps.some(
      (step) => step.task !== undefined && (file.tasks[step.task] ? callsBuiltin(file, step.task, builtin, seen) : step.task === builtin),
    )
  );
}

/**
 * The steps by which a user task (or a task it needs or calls) runs a destructive built-in, one line
 * each: such a task goes through the same confirmation as `eksbox roll` (steps/guard.ts).
 */
export function destructiveCalls(file: TasksFile, name: string, seen = new Set<string>()): string[] {
  const decl = file.tasks[name];
  if (!decl || seen.has(name)) return [];
  seen.add(name);
  return [
    ...decl.needs.flatMap((needed) => destructiveCalls(file, needed, seen)),
    ...decl.steps.flatMap((step) => {
      if (step.task === undefined) return [];
      if (file.tasks[step.task]) return destructiveCalls(file, step.task, seen);
      const does = destructiveBuiltins[step.task];
      return does ? [`${does} (step ${step.id} of task ${name})`] : [];
    }),
  ];
}
