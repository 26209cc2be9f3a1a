// A parsed YAML file that still knows where each key is, so an error about `worker.volume.size`
// can name the file, line and column the user has to edit.
import { readFileSync } from "node:fs";
import type { Document, LineCounter, Node } from "yaml";
import { yamlLibrary } from "./yaml-lib.js";
import type { ConfigIssue } from "../core/errors.js";
import { parseSimpleYaml } from "./fast-yaml.js";

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
}

export function parseYamlSource(text: string, file: string): YamlSource {
  // Most files are in the subset the fast parser reads; positions are only needed for an error,
  // so the full document (with its line counter) is built when something asks for one.
  const fast = parseSimpleYaml(text);
  if (fast) {
    let full: YamlSource | undefined;
    return { file, value: fast.value, issues: [], locate: (path) => (full ??= parseFully(text, file)).locate(path) };
  }
  return parseFully(text, file);
}

function parseFully(text: string, file: string): YamlSource {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const issues: ConfigIssue[] = doc.errors.map((error) => {
    const pos = lineCounter.linePos(error.pos[0]);
    // yaml appends a snippet of the offending line to its message; that line may hold a secret.
    const message = error.message.split(/ at line \d+/)[0]!.split(":\n")[0]!;
    return { file, line: pos.line, column: pos.col, message: `YAML syntax: ${message}` };
  });
  const value = issues.length === 0 ? (doc.toJS({ maxAliasCount: 100 }) ?? {}) : {};
  return {
    file,
    value,
    issues,
    locate: (path) => locateInDocument(doc, lineCounter, path),
  };
}

// Parsing dominates loading (defaults.yaml is shared by every environment), so parses are kept
// by file and content: a changed file is parsed again. Callers must not mutate `value`.
const parsedFiles = new Map<string, { text: string; source: YamlSource }>();
const MAX_CACHED_FILES = 512;

export async function readYamlSource(absolutePath: string, displayPath: string): Promise<YamlSource> {
  // Synchronous on purpose: for small files it is several times cheaper than fs/promises
  // (open, stat, read, close each through the thread pool), and config files are small.
  const text = readFileSync(absolutePath, "utf8");
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
