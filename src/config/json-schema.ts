// The JSON Schemas editors use to complete and check config files (yaml-language-server reads the
// `# yaml-language-server: $schema=...` line at the top of each file). Generated from schema.ts;
// a unit test fails when the committed files are stale. Regenerate with `npm run generate`.
import path from "node:path";
import { writeFileAtomic } from "../core/files.js";
import { environmentJsonSchema } from "./schema.js";

export const ENVIRONMENT_SCHEMA_FILE = "config/schema/environment.schema.json";
/** defaults.yaml is a partial environment: the same keys, none required. */
export const DEFAULTS_SCHEMA_FILE = "config/schema/defaults.schema.json";
export const REGENERATE_COMMAND = "npm run generate";

function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired);
  if (typeof node !== "object" || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== "required")
      .map(([key, value]) => [key, withoutRequired(value)]),
  );
}

export function environmentSchemaText(): string {
  const schema = { ...environmentJsonSchema(), title: "eksbox environment (config/environments/<env>.yaml)" };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export function defaultsSchemaText(): string {
  const schema = {
    ...(withoutRequired(environmentJsonSchema()) as object),
    title: "eksbox defaults for every environment (config/defaults.yaml)",
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

export async function writeJsonSchemas(projectRoot: string): Promise<string[]> {
  const files: [string, string][] = [
    [ENVIRONMENT_SCHEMA_FILE, environmentSchemaText()],
    [DEFAULTS_SCHEMA_FILE, defaultsSchemaText()],
  ];
  for (const [file, text] of files) await writeFileAtomic(path.join(projectRoot, file), text);
  return files.map(([file]) => file);
}
