// What the built-in tasks accept when a user task calls them (`task: roll, with: {...}`), and the
// names user tasks and options may not take because eksbox already uses them.
import type { ArgumentSpec } from "./args.js";

/** Built-in tasks a step may call. destroy is left out on purpose: it asks for confirmation in its command. */
export const callableBuiltins: readonly string[] = ["born", "roll", "upgrade"];

/** Top-level commands of the CLI (src/cli.ts) and the built-in task names: a user task may not be called any of these. */
export const reservedCommandNames: readonly string[] = [
  "born",
  "roll",
  "destroy",
  "upgrade",
  "plan",
  "generate",
  "validate",
  "env",
  "nodegroup",
  "status",
  "exec",
  "shell",
  "image",
  "task",
  "tasks",
  "help",
  "migrate",
];

/** Global and common options of the CLI, and the confirmation a task that calls a destructive built-in takes. */
export const reservedOptionNames: readonly string[] = [
  "env",
  "output",
  "tty",
  "no-tty",
  "image",
  "project",
  "verbose",
  "help",
  "set",
  "yes",
  "allow-protected",
];

/**
 * The callable built-ins that always drain, delete or change one way, and what they do, for the
 * confirmation before the task starts. born is not one: only some of its converge changes are, found
 * when it runs, and those are confirmed there by the task's --yes (BornConfirmation in compile.ts).
 */
export const destructiveBuiltins: Record<string, string> = {
  roll: "roll the nodegroups, draining and deleting the ones it replaces",
  upgrade: "upgrade the control plane (one way: EKS has no downgrade), then roll the nodegroups",
};

const option = (name: string, type: ArgumentSpec["type"], description: string): ArgumentSpec => ({
  name,
  kind: "option",
  type,
  description,
  required: false,
});

export function builtinSpecs(name: string): ArgumentSpec[] {
  switch (name) {
    case "born":
      return [option("prune", "boolean", "also delete what the config no longer names (needs the task's --yes)")];
    case "roll":
      return [
        option("to-version", "string", "nodegroup version suffix to roll to"),
        option("ready-timeout", "number", "minutes to wait for the new nodes"),
      ];
    case "upgrade":
      return [
        option("to", "string", "Kubernetes version to upgrade to, such as 1.35"),
        option("force", "boolean", "upgrade even when an upgrade insight is in ERROR"),
      ];
    default:
      return [];
  }
}
