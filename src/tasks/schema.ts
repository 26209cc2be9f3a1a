// The one definition of config/tasks.yaml: types, defaults, validation and the JSON Schema editors
// use (config/schema/tasks.schema.json) all come from here, like src/config/schema.ts for
// environments. Rules that span keys (exactly one of run/script/task, a default that fits its
// type) live in load.ts, where they can be located in the file.
import * as z from "zod";
import { taskNamePattern } from "./summaries.js";

export { taskNamePattern };
export const stepIdPattern = /^[a-z][a-z0-9-]{0,39}$/;

const taskName = z.string().regex(taskNamePattern, "must be lower-case letters, digits and '-', starting with a letter");
const stepId = z.string().regex(stepIdPattern, "must be lower-case letters, digits and '-', starting with a letter");

export const parameterTypes = ["string", "number", "boolean", "enum", "list"] as const;
export type ParameterType = (typeof parameterTypes)[number];

/** A value as YAML may write it; argv elements may be unquoted numbers (`[sleep, 5]`). */
const argvElement = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const argv = z.array(argvElement).min(1, "must hold at least the command");

const parameterFields = {
  type: z.enum(parameterTypes).default("string"),
  description: z.string().default(""),
  required: z.boolean().default(false),
  default: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).optional(),
  /** The accepted values of an enum. */
  values: z.array(z.string().min(1)).min(1).optional(),
};

export const optionSchema = z.strictObject(parameterFields);
export const parameterSchema = z.strictObject({ name: taskName, ...parameterFields });

const stepSchema = z.strictObject({
  id: stepId,
  description: z.string().optional(),
  /** Ids of steps of this task that must finish first. */
  needs: z.array(stepId).default([]),
  /** A command as an argv list: each element is rendered on its own and stays one argument. */
  run: argv.optional(),
  /** A POSIX sh script; every `{{ value }}` in it is single-quoted for sh. */
  script: z.string().min(1).optional(),
  /** Another task (built-in or from this file), whose steps run here. */
  task: taskName.optional(),
  /** Arguments for `task`: parameter or option name -> value (strings are templates). */
  with: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).default({}),
  /** Skip this step when this command (argv list) or script exits 0: makes a rerun resume. */
  skipIf: z.union([argv, z.string().min(1)]).optional(),
});

export const taskSchema = z.strictObject({
  description: z.string().min(1),
  /** Positional parameters, in order: `eksbox <task> <first> <second>`. Only the last may be a list. */
  parameters: z.array(parameterSchema).default([]),
  /** `--name value` options. */
  options: z.record(taskName, optionSchema).default({}),
  /** Tasks (without required arguments) that run, in this order's dependency graph, before this one's steps. */
  needs: z.array(taskName).default([]),
  /** How many steps may run at once. */
  concurrency: z.number().int().min(1).max(16).default(1),
  /** Check the AWS account, region and subnets first (as every lifecycle task does). */
  preflight: z.boolean().default(true),
  steps: z.array(stepSchema).min(1, "a task needs at least one step"),
});

export const tasksFileSchema = z.strictObject({
  $schema: z.string().optional(),
  tasks: z.record(taskName, taskSchema).default({}),
});

export type TaskDeclaration = z.output<typeof taskSchema>;
export type StepDeclaration = z.output<typeof stepSchema>;
export type OptionDeclaration = z.output<typeof optionSchema>;
export type ParameterDeclaration = z.output<typeof parameterSchema>;
export type TasksFileContent = z.output<typeof tasksFileSchema>;

/** JSON Schema for editors (yaml-language-server); defaults are optional keys for the user. */
export function tasksJsonSchema(): Record<string, unknown> {
  return {
    ...(z.toJSONSchema(tasksFileSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>),
    title: "eksbox tasks (config/tasks.yaml)",
  };
}
