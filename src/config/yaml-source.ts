// A parsed YAML file that still knows where each key is, so an error about `worker.volume.size`
// can name the file, line and column the user has to edit.
import { readFileSync } from "node:fs";
import type { Document, LineCounter, Node } from "yaml";
import { yamlLibrary } from "./yaml-lib.js";
import type { ConfigIssue } from "../core/errors.js";

export type KeyPath = readonly (string | number)[];

export interface SourcePosition {
  line: number;
  column: number;
  /** False when the path itself is absent and this is the position of its nearest ancestor. */
  exact: boolean;
}

export interface YamlSource {
  /** Path shown to the user (relative to the project root). */
  file: string;
  value: unknown;
  issues: ConfigIssue[];
  locate(path: KeyPath): SourcePosition | undefined;
  /** The value at `path` as written in the file (`1.30`, not the number 1.3); undefined when absent. */
  sourceText?(path: KeyPath): string | undefined;
  /**
   * yaml's Document the value came from, for a caller that edits and prints it instead of parsing the
   * text again. Only a source from parseYamlSource is the caller's to edit: readYamlSource's are cached and shared.
   */
  document?: Document;
}

export function parseYamlSource(text: string, file: string): YamlSource {
  return refuseDeepNesting(parseFully(text, file));
}

/** Config needs a handful of levels; hundreds would overflow every recursive step after parsing. */
export const MAX_NESTING_DEPTH = 64;

function refuseDeepNesting(source: YamlSource): YamlSource {
  const path = pathDeeperThan(source.value, MAX_NESTING_DEPTH);
  if (!path) return source;
  const at = source.locate(path);
  return {
    ...source,
    value: {},
    issues: [
      ...source.issues,
      {
        file: source.file,
        line: at?.line,
        column: at?.column,
        message: `YAML nested too deeply (more than ${MAX_NESTING_DEPTH} levels)`,
        hint: "config files need a few levels of nesting, not hundreds",
      },
    ],
  };
}

/** The first key path longer than `limit`, found without recursion (the value may be very deep). */
function pathDeeperThan(value: unknown, limit: number): KeyPath | undefined {
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: value, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (path.length > limit) return path;
    if (node && typeof node === "object") {
      for (const [key, child] of Object.entries(node)) {
        stack.push({ node: child, path: [...path, Array.isArray(node) ? Number(key) : key] });
      }
    }
  }
  return undefined;
}

function parseFully(text: string, file: string): YamlSource {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = doc.errors.map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    // yaml appends a snippet of the offending line to its message; that line may hold a secret.
    const message = error.message.split(/ at line \d+/)[0]!.split(":\n")[0]!;
    if (message.startsWith("Maximum call stack size exceeded")) {
      return {
        file,
        line: pos.line,
        column: pos.col,
        message: "YAML nested too deeply",
        hint: "config files need a few levels of nesting, not hundreds",
      };
    }
    return { file, line: pos.line, column: pos.col, message: `YAML syntax: ${message}` };
  });
  let value: unknown = {};
  if (issues.length === 0) {
    try {
      value = doc.toJS({ maxAliasCount: 100 }) ?? {};
      // Only aliases make cycles; hasCycle recurses, so it runs only where one can be.
      if (text.includes("*") && hasCycle(value)) throw new Error("an alias refers to the node that contains it");
    } catch (error) {
      let aliasOffset: number | undefined;
      yamlLibrary().visit(doc, {
        Alias(_key, node) {
          aliasOffset ??= node.range?.[0];
        },
      });
      const pos = lineCounter.linePos(aliasOffset ?? 0);
      issues.push({
        file,
        line: pos.line,
        column: pos.col,
        message: `YAML alias: ${(error as Error).message}`,
        hint: "write the values out: eksbox config files do not need anchors and aliases",
      });
      value = {};
    }
  }
  return {
    file,
    value,
    issues,
    document: doc,
    locate: (path) => locateInDocument(doc, lineCounter, path),
    sourceText(path) {
      const node = doc.getIn(path as (string | number)[], true) as Node | undefined;
      return node?.range ? text.slice(node.range[0], node.range[1]) : undefined;
    },
  };
}

// Parsing dominates loading (defaults.yaml is shared by every environment), so parses are kept
// by file and content: a changed file is parsed again. Callers must not mutate `value`.
const parsedFiles = new Map<string, { text: string; source: YamlSource }>();
const MAX_CACHED_FILES = 512;

function hasCycle(value: unknown, ancestors = new Set<object>()): boolean {
  if (!value || typeof value !== "object") return false;
  if (ancestors.has(value)) return true;
  ancestors.add(value);
  const found = Object.values(value).some((v) => hasCycle(v, ancestors));
  ancestors.delete(value);
  return found;
}

export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

function problemSource(file: string, line: number, message: string, hint: string): YamlSource {
  return { file, value: {}, issues: [{ file, line, message, hint }], locate: () => undefined };
}

export async function readYamlSource(absolutePath: string, displayPath: string): Promise<YamlSource> {
  // Synchronous on purpose: for small files it is several times cheaper than fs/promises
  // (open, stat, read, close each through the thread pool), and config files are small.
  const bytes = readFileSync(absolutePath);
  if (bytes.length > MAX_CONFIG_BYTES) {
    return problemSource(
      displayPath,
      1,
      `is ${(bytes.length / 1048576).toFixed(1)} MiB; eksbox reads config files up to ${MAX_CONFIG_BYTES / 1048576} MiB`,
      "is this the right file?",
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const lenient = bytes.toString("utf8");
    const at = lenient.indexOf("\uFFFD");
    const line = lenient.slice(0, Math.max(at, 0)).split("\n").length;
    return problemSource(displayPath, line, "is not UTF-8 text", "save it as UTF-8 (iconv -f latin1 -t utf-8)");
  }
  const key = `${absolutePath}\0${displayPath}`;
  const cached = parsedFiles.get(key);
  if (cached && cached.text === text) return cached.source;
  const source = parseYamlSource(text, displayPath);
  if (parsedFiles.size >= MAX_CACHED_FILES) parsedFiles.clear();
  parsedFiles.set(key, { text, source });
  return source;
}

function locateInDocument(doc: Document, lineCounter: LineCounter, path: KeyPath): SourcePosition | undefined {
  const { isMap, isScalar, isSeq } = yamlLibrary();
  let node: unknown = doc.contents;
  let best: { offset: number; exact: boolean } | undefined =
    node && (node as Node).range ? { offset: (node as Node).range![0], exact: path.length === 0 } : undefined;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (keyNode.range) best = { offset: keyNode.range[0], exact: i === path.length - 1 };
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment] as Node | undefined;
      if (!item) break;
      if (item.range) best = { offset: item.range[0], exact: i === path.length - 1 };
      node = item;
    } else {
      break;
    }
  }
  if (!best) return undefined;
  const pos = lineCounter.linePos(best.offset);
  return { line: pos.line, column: pos.col, exact: best.exact };
}

/** `worker.volume.size`, `nodeGroups[0].name`: how the user reads a key path. */
export function dottedPath(path: KeyPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
