// Typed task arguments: positional parameters and --options, from the command line (strings) or
// from a calling step's `with:` (YAML values). One binder for both, so a task called from another
// task is checked exactly as if it were typed.
import { UserError } from "../core/errors.js";
import type { OptionDeclaration, ParameterType, TaskDeclaration } from "./schema.js";

export type ArgValue = string | number | boolean | string[];
export type BoundArguments = Record<string, ArgValue | undefined>;

export interface ArgumentSpec extends Omit<OptionDeclaration, "default"> {
  name: string;
  kind: "parameter" | "option";
  default?: ArgValue;
}

export function argumentSpecs(decl: Pick<TaskDeclaration, "parameters" | "options">): ArgumentSpec[] {
  return [
    ...decl.parameters.map((p) => ({ ...p, kind: "parameter" as const })),
    ...Object.entries(decl.options).map(([name, o]) => ({ ...o, name, kind: "option" as const })),
  ];
}

/** How the user writes it: `--timeout <number>`, `<namespace>`, `--level <a|b>`. */
export function specUsage(spec: ArgumentSpec): string {
  const value = spec.type === "enum" ? (spec.values ?? []).join("|") : spec.type === "list" ? "string..." : spec.type;
  if (spec.kind === "parameter") return `<${spec.name}> (${value})`;
  return spec.type === "boolean" ? `--${spec.name} (boolean)` : `--${spec.name} <${value}>`;
}

/** Turns one given value (a CLI string, a list of them, or a YAML value) into the declared type. */
export function coerceArgument(spec: ArgumentSpec, raw: unknown, task: string): ArgValue {
  const where = spec.kind === "parameter" ? `parameter <${spec.name}>` : `option --${spec.name}`;
  const bad = (why: string) => new UserError(`task ${task}: ${where}: ${why}`, { hint: `expected ${specUsage(spec)}` });
  const type: ParameterType = spec.type;
  if (type === "list") {
    const items = Array.isArray(raw) ? raw : [raw];
    if (items.some((i) => typeof i === "object" && i !== null)) throw bad("a list holds strings only");
    return items.map(String);
  }
  if (Array.isArray(raw)) {
    if (raw.length !== 1) throw bad(`given ${raw.length} times; it takes one value`);
    raw = raw[0];
  }
  switch (type) {
    case "string":
      if (typeof raw === "object" && raw !== null) throw bad("must be a string");
      return String(raw);
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad(`${JSON.stringify(raw)} is not a number`);
      return n;
    }
    case "boolean":
      if (typeof raw === "boolean") return raw;
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw bad(`${JSON.stringify(raw)} is not true or false`);
    case "enum": {
      const text = String(raw);
      if (!(spec.values ?? []).includes(text)) throw bad(`${JSON.stringify(text)} is not one of ${(spec.values ?? []).join(", ")}`);
      return text;
    }
  }
}

/**
 * Checks every given value against the declarations and fills defaults. Unknown names and missing
 * required arguments are errors naming the argument and its type.
 */
export function bindArguments(task: string, specs: readonly ArgumentSpec[], given: Readonly<Record<string, unknown>>): BoundArguments {
  const byName = new Map(specs.map((s) => [s.name, s]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      throw new UserError(`task ${task} has no parameter or option ${JSON.stringify(name)}`, {
        hint: specs.length ? `it takes: ${specs.map(specUsage).join(", ")}` : "it takes no arguments",
      });
    }
  }
  const bound: BoundArguments = {};
  const missing: ArgumentSpec[] = [];
  for (const spec of specs) {
    const raw = given[spec.name];
    if (raw === undefined || (Array.isArray(raw) && raw.length === 0 && spec.type === "list" && spec.required)) {
      if (spec.required) missing.push(spec);
      bound[spec.name] = spec.default;
      continue;
    }
    bound[spec.name] = coerceArgument(spec, raw, task);
  }
  if (missing.length > 0) {
    const what = missing.map((s) => `${s.kind === "parameter" ? "parameter" : "option"} ${specUsage(s)}`);
    throw new UserError(`task ${task}: missing required ${what.join(", ")}`, {
      hint: `usage: eksbox ${task} ${usageLine(specs)}`,
    });
  }
  return bound;
}

export function usageLine(specs: readonly ArgumentSpec[]): string {
  return specs
    .map((s) => {
      if (s.kind === "parameter")
        return s.required ? `<${s.name}${s.type === "list" ? "..." : ""}>` : `[${s.name}${s.type === "list" ? "..." : ""}]`;
      const flag =
        s.type === "boolean"
          ? `--${s.name}`
          : s.type === "list"
            ? `--${s.name} <string>...`
            : `--${s.name} <${s.type === "enum" ? (s.values ?? []).join("|") : s.type}>`;
      return s.required ? flag : `[${flag}]`;
    })
    .join(" ");
}
