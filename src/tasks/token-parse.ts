// A task's parameters and options as commander arguments: defined on its own command (see
// commands/task.ts) and parsed from tokens for `eksbox plan <task> [args]`.
import { Command, CommanderError, Option } from "commander";
import { UserError } from "../core/errors.js";
import { usageLine, type ArgumentSpec } from "./args.js";

export function collect(value: string, previous: string[] = []): string[] {
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
export function givenArguments(
  specs: readonly ArgumentSpec[],
  bindings: readonly OptionBinding[],
  positionals: readonly unknown[],
  options: Record<string, unknown>,
): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  specs
    .filter((s) => s.kind === "parameter")
    .forEach((spec, i) => {
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
  const command = new Command(task)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .helpOption(false);
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
