// docs/config-reference.md: every key of an environment file, generated from schema.ts (through its
// JSON Schema, which carries the zod `.describe()` texts), so the page cannot drift from what eksbox
// accepts. A unit test fails when the committed page is stale. Regenerate with `npm run generate`.
import { environmentJsonSchema } from "./schema.js";

export const CONFIG_REFERENCE_FILE = "docs/config-reference.md";

interface JsonSchemaNode {
  type?: string | string[];
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  additionalProperties?: JsonSchemaNode | boolean;
  propertyNames?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
}

interface Row {
  key: string;
  type: string;
  required: boolean;
  defaultValue: string;
  allowed: string;
  description: string;
}

const LARGEST_SAFE_INTEGER = Number.MAX_SAFE_INTEGER;

function typeOf(node: JsonSchemaNode): string {
  if (node.anyOf) return node.anyOf.map(typeOf).join(" or ");
  if (node.enum) return "string";
  const type = Array.isArray(node.type) ? node.type.join(" or ") : (node.type ?? "any");
  if (type === "array" && node.items) return `list of ${typeOf(node.items)}`;
  if (type === "object" && !node.properties && typeof node.additionalProperties === "object") {
    return `map of ${typeOf(node.additionalProperties)}`;
  }
  return type;
}

function allowedOf(node: JsonSchemaNode): string {
  const parts: string[] = [];
  if (node.enum) parts.push(node.enum.map((value) => `\`${String(value)}\``).join(", "));
  if (node.pattern) parts.push(`matches \`${node.pattern}\``);
  if (node.format) parts.push(`a ${node.format}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`> ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`≥ ${node.minimum}`);
  if (node.maximum !== undefined && node.maximum < LARGEST_SAFE_INTEGER) parts.push(`≤ ${node.maximum}`);
  if (node.minItems !== undefined) parts.push(`at least ${node.minItems} item${node.minItems === 1 ? "" : "s"}`);
  if (node.items) {
    const items = allowedOf(node.items);
    if (items) parts.push(`each: ${items}`);
  }
  if (node.propertyNames) {
    const names = allowedOf(node.propertyNames);
    if (names) parts.push(`keys: ${names}`);
  }
  return parts.join("; ");
}

function defaultOf(node: JsonSchemaNode): string {
  if (node.default === undefined) return "";
  // An object's default is its keys' defaults, listed in their own rows.
  if (node.properties) return "its keys' defaults";
  return `\`${JSON.stringify(node.default)}\``;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

function collect(node: JsonSchemaNode, prefix: string, required: boolean, rows: Row[]): void {
  const key = prefix;
  if (key && key !== "$schema") {
    rows.push({
      key,
      type: typeOf(node),
      required,
      defaultValue: defaultOf(node),
      allowed: allowedOf(node),
      description: node.description ?? "",
    });
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    collect(child, prefix ? `${prefix}.${name}` : name, node.required?.includes(name) ?? false, rows);
  }
  if (node.items?.properties) collect(node.items, `${prefix}[]`, true, rows);
  if (typeof node.additionalProperties === "object" && node.additionalProperties.properties) {
    collect(node.additionalProperties, `${prefix}.<key>`, true, rows);
  }
}

export function configReferenceText(): string {
  const rows: Row[] = [];
  collect(environmentJsonSchema() as JsonSchemaNode, "", true, rows);
  const lines = [
    "# Config reference",
    "",
    "<!-- Generated from src/config/schema.ts by `npm run generate`; do not edit by hand. -->",
    "",
    "Every key of an environment file (`config/environments/<env>.yaml`). `config/defaults.yaml` takes the",
    "same keys, none of them required. `list of` keys are YAML sequences; `[]` in a key is each item of",
    "the list, `<key>` each entry of a map. See [config.md](config.md) for how the files are merged.",
    "",
    "| Key | Type | Required | Default | Allowed values | Description |",
    "|---|---|---|---|---|---|",
    ...rows.map((row) =>
      ["", `\`${row.key}\``, row.type, row.required ? "yes" : "", cell(row.defaultValue), cell(row.allowed), cell(row.description), ""]
        .join(" | ")
        .trim(),
    ),
  ];
  return `${lines.join("\n")}\n`;
}
