// YAML-safe output for templates. Every `{{ expression }}` is rewritten to
// `{{ (expression) | yaml }}` before nunjucks compiles the template (an autoescape for YAML), and
// `yaml` prints the value as a JSON value. JSON strings are valid YAML double-quoted scalars, so
// a value holding `: `, `#`, quotes, newlines or a leading `*`/`&` stays one scalar and can never
// add a key. `| safe` opts out, as in HTML templates; macros return safe text already.
import nunjucks from "nunjucks";
import { rewriteOutputExpressions } from "./template-expressions.js";

const { SafeString } = nunjucks.runtime;

// Characters YAML does not allow raw inside a document (outside its printable set), which
// JSON.stringify leaves unescaped. Line and paragraph separators are escaped for readers' sake.
const nonPrintableInYaml = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/** Marks the template line in an error, because nunjucks reports a macro's errors at its call. */
export const templateLineMarker = /\[template line (\d+)\]/;

export function yamlQuote(value: unknown, line?: number): string {
  if (value === undefined) {
    throw new Error(`the template printed an undefined value (a misspelt variable or key?)${line ? ` [template line ${line}]` : ""}`);
  }
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`the template printed ${value}`);
  if (typeof value === "bigint") return value.toString();
  const json = JSON.stringify(value);
  if (json === undefined) throw new Error(`the template printed a ${typeof value}, which has no YAML form`);
  return json.replace(nonPrintableInYaml, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function yamlFilter(value: unknown, line?: number): unknown {
  if (value instanceof SafeString) return value;
  return new SafeString(yamlQuote(value, line));
}

/** Rewrites the template source so every output expression goes through the `yaml` filter. */
export function autoescapeYaml(source: string): string {
  return rewriteOutputExpressions(source, ({ expression, open, close, line }) => `${open} (${expression}) | yaml(${line}) ${close}`);
}
