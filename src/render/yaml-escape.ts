// YAML-safe output for templates. Every `{{ expression }}` is rewritten to
// `{{ (expression) | yaml }}` before nunjucks compiles the template (an autoescape for YAML), and
// `yaml` prints the value as a JSON value. JSON strings are valid YAML double-quoted scalars, so
// a value holding `: `, `#`, quotes, newlines or a leading `*`/`&` stays one scalar and can never
// add a key. `| safe` opts out, as in HTML templates; macros return safe text already.
import nunjucks from "nunjucks";

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

/**
 * Rewrites the template source so every output expression goes through the `yaml` filter.
 * A small scanner rather than a regex: expressions may hold `}}` inside strings or dict literals.
 * Newlines inside expressions are kept, so template line numbers stay right.
 */
export function autoescapeYaml(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    if (source.startsWith("{#", i)) {
      const end = source.indexOf("#}", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += source.slice(i, stop);
      i = stop;
      continue;
    }
    const raw = /^\{%-?\s*(raw|verbatim)\s*-?%\}/.exec(source.slice(i, i + 40));
    if (raw) {
      const endTag = new RegExp(`\\{%-?\\s*end${raw[1]}\\s*-?%\\}`, "g");
      endTag.lastIndex = i;
      const end = endTag.exec(source);
      const stop = end ? end.index + end[0].length : source.length;
      out += source.slice(i, stop);
      i = stop;
      continue;
    }
    if (source.startsWith("{{", i)) {
      const open = source[i + 2] === "-" ? "{{-" : "{{";
      const start = i + open.length;
      const end = findExpressionEnd(source, start);
      if (end === -1) {
        out += source.slice(i);
        break;
      }
      const trimRight = source[end - 1] === "-" && end - 1 >= start;
      const expression = source.slice(start, trimRight ? end - 1 : end);
      const close = trimRight ? "-}}" : "}}";
      const line = source.slice(0, i).split("\n").length;
      out += `${open} (${expression}) | yaml(${line}) ${close}`;
      i = end + 2;
      continue;
    }
    out += source[i];
    i++;
  }
  return out;
}

function findExpressionEnd(source: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "{" || c === "[" || c === "(") depth++;
    else if ((c === "}" || c === "]" || c === ")") && depth > 0) depth--;
    else if (c === "}" && source[i + 1] === "}" && depth === 0) return i;
  }
  return -1;
}
