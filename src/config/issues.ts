// Turns zod's issues into messages a user can act on: which file and line, which key, what
// would be accepted, and "did you mean" for misspelt keys.
import type * as z from "zod";
import type { ConfigIssue } from "../core/errors.js";
import { environmentSchema } from "./schema.js";
import { objectKeys, schemaAt } from "./schema-walk.js";
import { dottedPath, type KeyPath, type YamlSource } from "./yaml-source.js";

/** Where a merged value came from, highest precedence first. */
export interface Provenance {
  /** Key paths of the `--set` overrides that were applied. */
  sets: { path: KeyPath }[];
  /** Files, highest precedence first (the environment file, then defaults). */
  files: YamlSource[];
}

export function locateIssue(
  provenance: Provenance,
  path: KeyPath,
  issue: Omit<ConfigIssue, "file" | "line" | "column" | "path">,
): ConfigIssue {
  const dotted = dottedPath(path);
  const set = provenance.sets.find((s) => startsWith(path, s.path));
  // The key only: the value may be the very secret the issue is about.
  if (set) return { file: `--set ${dottedPath(set.path)}`, path: dotted, ...issue };
  for (const source of provenance.files) {
    const pos = source.locate(path);
    if (pos?.exact) return { file: source.file, line: pos.line, column: pos.column, path: dotted, ...issue };
  }
  // A missing key belongs in the environment file (the first file), under its nearest parent there
  // if it has one; never in defaults.yaml, which the user may not even know about.
  const envFile = provenance.files[0];
  const pos = path.length > 1 ? envFile?.locate(path) : undefined;
  if (envFile && pos) return { file: envFile.file, line: pos.line, column: pos.column, path: dotted, ...issue };
  return { file: envFile?.file, path: dotted, ...issue };
}

/** The value at `path` as the user wrote it, from the file it comes from (for hints about YAML's reading of it). */
export function writtenText(provenance: Provenance, path: KeyPath): string | undefined {
  for (const source of provenance.files) {
    if (source.locate(path)?.exact) return source.sourceText?.(path);
  }
  return undefined;
}

function startsWith(path: KeyPath, prefix: KeyPath): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => String(segment) === String(path[i]));
}

/** The value at a key path, or undefined where the path leaves the data. */
export function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

export function zodIssuesToConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  merged: unknown,
  provenance: Provenance,
  sourcePath: (path: KeyPath) => KeyPath = (path) => path,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const schemaPath = issue.path as (string | number)[];
    const path = sourcePath(schemaPath);
    if (issue.code === "unrecognized_keys") {
      const accepted = objectKeys(schemaAt(environmentSchema, schemaPath));
      for (const key of issue.keys) {
        const suggestion = closest(key, accepted);
        out.push(
          locateIssue(provenance, sourcePath([...schemaPath, key]), {
            message: "unknown key",
            hint: suggestion
              ? `did you mean \`${suggestion}\`?`
              : accepted.length > 0
                ? `accepted keys here: ${accepted.join(", ")}`
                : undefined,
          }),
        );
      }
      continue;
    }
    const actual = valueAt(merged, schemaPath);
    if (issue.code === "invalid_type" && actual === undefined) {
      out.push(locateIssue(provenance, path, { message: `is required (expected ${issue.expected})` }));
      continue;
    }
    if (issue.code === "invalid_type" && issue.expected === "string" && typeof actual === "number") {
      const message = issue.message.startsWith("Invalid input") ? "must be a string, but YAML read a number" : issue.message;
      const written = writtenText(provenance, path) ?? String(actual);
      const hint =
        written === String(actual)
          ? `quote it: "${written}" reads as a number in YAML`
          : `quote it: "${written}" (unquoted, YAML reads the number ${String(actual)})`;
      out.push(locateIssue(provenance, path, { message, hint }));
      continue;
    }
    out.push(locateIssue(provenance, path, { message: issue.message }));
  }
  return out;
}

/** The accepted word nearest to a misspelt one, if it is near enough to be a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
