// Renders task commands so that a value can never become a second argument or a second command.
// argv lists: each element is rendered on its own and passed to the toolbox as one argv element;
// no shell sees it. Scripts: every `{{ expression }}` is rewritten to `{{ (expression) | shq }}`
// before nunjucks compiles it (an autoescape for POSIX sh), and `shq` single-quotes the value.
// Inside single quotes sh gives no character a meaning except `'` itself, which is written as
// '\'' . `| safe` does not opt out here: a script that needs raw text writes it in the script.
import nunjucks from "nunjucks";
import { shellWord } from "../core/shell-quote.js";
import { rewriteOutputExpressions } from "../render/template-expressions.js";

export class RenderError extends Error {}

/** One value as one POSIX sh word. Lists become one word per element. */
export function shellQuoteValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(shellQuoteValue).join(" ");
  if (value === undefined || value === null)
    throw new RenderError("printed an undefined value (a misspelt variable or an option without a value?)");
  if (typeof value === "object" && !(value instanceof nunjucks.runtime.SafeString)) {
    throw new RenderError("printed a map; print one of its keys instead");
  }
  const text = String(value);
  if (text.includes("\0")) throw new RenderError("a value holds a NUL character, which no command argument can carry");
  return shellWord(text);
}

/** Rewrites every output expression to go through `shq`. */
export function autoescapeShell(source: string): string {
  return rewriteOutputExpressions(source, ({ expression, open, close }) => `${open} (${expression}) | shq ${close}`);
}

function environment(script: boolean): nunjucks.Environment {
  const env = new nunjucks.Environment([], { autoescape: false, throwOnUndefined: true, trimBlocks: false });
  if (script) {
    env.addExtension("shellAutoescape", { tags: [], parse() {}, preprocess: autoescapeShell } as unknown as nunjucks.Extension);
    env.addFilter("shq", (value: unknown) => new nunjucks.runtime.SafeString(shellQuoteValue(value)));
  }
  return env;
}

const argvEnvironment = environment(false);
const scriptEnvironment = environment(true);

function render(env: nunjucks.Environment, template: string, context: Record<string, unknown>): string {
  try {
    return env.renderString(template, context);
  } catch (error) {
    if (error instanceof RenderError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    // nunjucks prefixes "(unknown path)" and a line marker; keep the sentence that says what is wrong.
    const detail =
      message
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith("(unknown path)"))
        .pop() ?? message;
    throw new RenderError(detail.replace(/^Error: /, ""));
  }
}

const wholeExpression = /^\{\{-?\s*([A-Za-z_][\w]*(?:\.[A-Za-z_][\w-]*|\[\s*"[^"]*"\s*\])*)\s*-?\}\}$/;

function lookup(context: Record<string, unknown>, path: string): unknown {
  const segments = [...path.matchAll(/[A-Za-z_][\w-]*|"([^"]*)"/g)].map((m) => m[1] ?? m[0]);
  let node: unknown = context;
  for (const segment of segments) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/**
 * Renders an argv list. Each element becomes exactly one argument, whatever its value holds; an
 * element that is only `{{ a.list }}` becomes one argument per list element (for list options).
 */
export function renderArgv(template: readonly string[], context: Record<string, unknown>): string[] {
  return template.flatMap((element) => {
    const whole = wholeExpression.exec(element.trim());
    if (whole) {
      const value = lookup(context, whole[1]!);
      if (Array.isArray(value)) return value.map((item) => checkArgument(String(item)));
    }
    return [checkArgument(render(argvEnvironment, element, context))];
  });
}

function checkArgument(text: string): string {
  if (text.includes("\0")) throw new RenderError("a value holds a NUL character, which no command argument can carry");
  return text;
}

/** Renders a script with every printed value single-quoted for sh. */
export function renderScript(template: string, context: Record<string, unknown>): string {
  return render(scriptEnvironment, template, context);
}

/** A script as the argv the toolbox runs. */
export function scriptArgv(script: string): string[] {
  return ["sh", "-c", script];
}
