// Task names and descriptions for a listing (`eksbox --help`, a mistyped command), read without
// validating config/tasks.yaml: validating loads zod and the tasks schema, tens of milliseconds that
// a listing does not need. Anything that runs a task, and `eksbox <task> --help`, validates the
// whole file first (load.ts), so a problem is still reported with file, line and key before a task runs.
import { join } from "node:path";
import { readYamlSource } from "../config/yaml-source.js";

export const taskNamePattern = /^[a-z][a-z0-9-]{0,39}$/;

export interface TaskSummary {
  name: string;
  description: string;
}

const isMap = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The tasks in file order, or undefined when the file does not plainly read as tasks (YAML errors,
 * unknown top-level keys, a task without a description or with a bad name): then the caller
 * validates in full, which says what is wrong.
 */
export async function readTaskSummaries(projectRoot: string, file: string): Promise<TaskSummary[] | undefined> {
  const source = await readYamlSource(join(projectRoot, file), file);
  if (source.issues.length > 0) return undefined;
  const content = source.value ?? {};
  if (!isMap(content) || Object.keys(content).some((key) => key !== "tasks" && key !== "$schema")) return undefined;
  const tasks = content.tasks ?? {};
  if (!isMap(tasks)) return undefined;
  const summaries: TaskSummary[] = [];
  for (const [name, task] of Object.entries(tasks)) {
    if (!taskNamePattern.test(name) || !isMap(task) || typeof task.description !== "string" || task.description === "") return undefined;
    summaries.push({ name, description: task.description });
  }
  return summaries;
}
