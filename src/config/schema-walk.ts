// Finds the zod schema for a key path, so errors can list the keys an object accepts and `--set`
// can tell whether `cluster.version=1.34` means the string "1.34" or a number.
import type * as z from "zod";
import type { KeyPath } from "./yaml-source.js";

type AnySchema = z.ZodType;

interface SchemaDef {
  type: string;
  innerType?: AnySchema;
  element?: AnySchema;
  valueType?: AnySchema;
  options?: AnySchema[];
  shape?: Record<string, AnySchema>;
  entries?: Record<string, unknown>;
}

const defOf = (schema: AnySchema): SchemaDef => (schema as unknown as { def: SchemaDef }).def;

/** Strips default/optional/nullable wrappers. */
export function unwrapSchema(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if ((def.type === "default" || def.type === "optional" || def.type === "nullable" || def.type === "prefault") && def.innerType) {
      current = def.innerType;
    } else {
      return current;
    }
  }
}

export function schemaAt(root: AnySchema, path: KeyPath): AnySchema | undefined {
  let current: AnySchema | undefined = root;
  for (const segment of path) {
    if (!current) return undefined;
    const def = defOf(unwrapSchema(current));
    if (def.type === "object") current = def.shape?.[String(segment)];
    else if (def.type === "array") current = def.element;
    else if (def.type === "record") current = def.valueType;
    else return undefined;
  }
  return current;
}

/** Keys an object schema accepts; empty for maps with free keys. */
export function objectKeys(schema: AnySchema | undefined): string[] {
  if (!schema) return [];
  const def = defOf(unwrapSchema(schema));
  return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/** The JSON type a leaf schema expects: "string" for strings and string enums. */
export function leafKind(schema: AnySchema | undefined): "string" | "other" {
  if (!schema) return "other";
  const def = defOf(unwrapSchema(schema));
  if (def.type === "string") return "string";
  if (def.type === "enum") return Object.values(def.entries ?? {}).every((v) => typeof v === "string") ? "string" : "other";
  return "other";
}
