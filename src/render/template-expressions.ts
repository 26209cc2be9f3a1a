// Autoescaping for nunjucks, which has only HTML escaping built in: every output expression
// `{{ expr }}` of a template source is rewritten before compiling, so each value goes through a
// filter (YAML quoting for eksctl templates, sh quoting for task scripts). A small scanner rather
// than a regex: expressions may hold `}}` inside strings or dict literals. Comments and raw blocks
// are left alone, and newlines inside expressions are kept so template line numbers stay right.

export interface OutputExpression {
  /** The expression between the delimiters, without whitespace-control dashes. */
  expression: string;
  /** "{{" or "{{-" */
  open: string;
  /** "}}" or "-}}" */
  close: string;
  /** 1-based line of the expression's start in the source. */
  line: number;
}

export function rewriteOutputExpressions(source: string, rewrite: (found: OutputExpression) => string): string {
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
      const end = expressionEnd(source, start);
      if (end === -1) {
        out += source.slice(i);
        break;
      }
      const trimRight = source[end - 1] === "-" && end - 1 >= start;
      const expression = source.slice(start, trimRight ? end - 1 : end);
      out += rewrite({ expression, open, close: trimRight ? "-}}" : "}}", line: source.slice(0, i).split("\n").length });
      i = end + 2;
      continue;
    }
    out += source[i];
    i++;
  }
  return out;
}

function expressionEnd(source: string, from: number): number {
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
