// How `worker` and `nodePools` combine, before the schema sees them:
//   - no `nodePools`: `worker` is the one pool, named by worker.namePrefix (names unchanged, so
//     clusters made before node pools existed are not rolled).
//   - `nodePools`: `worker` (defaults.yaml, then the environment file, then --set, merged as usual)
//     is every pool's defaults; each pool overrides it key by key (maps merged, lists replaced,
//     null removes), and `worker` alone describes no pool. namePrefix does not pass down: a pool is
//     named by its key.
// A problem found in a pool is reported where its value came from: the pool's own key when the
// environment sets it there, else the same key under `worker`.
import type { ConfigIssue } from "../core/errors.js";
import { deepMerge, isPlainObject, type PlainObject } from "./merge.js";
import type { KeyPath } from "./yaml-source.js";

export interface PoolExpansion {
  /** true: the environment uses the `worker` shorthand (one pool). */
  shorthand: boolean;
  /** The config as written (after merging), to tell where a pool's value came from. */
  written: PlainObject;
}

/** Rewrites the merged config so the schema sees either `worker` (shorthand) or complete `nodePools`. */
export function expandNodePools(merged: PlainObject): PoolExpansion {
  const written = structuredClone(merged);
  const pools = merged.nodePools;
  if (!isPlainObject(pools) || Object.keys(pools).length === 0) {
    if (isPlainObject(pools)) delete merged.nodePools;
    return { shorthand: true, written };
  }
  // A whole pool set to null by a later layer is gone.
  for (const [name, pool] of Object.entries(pools)) if (pool === null) delete pools[name];
  const base: PlainObject = isPlainObject(merged.worker) ? { ...merged.worker } : {};
  delete base.namePrefix;
  for (const [name, pool] of Object.entries(pools)) {
    // deepMerge drops the pool's nulls along with the keys they remove from the base.
    pools[name] = isPlainObject(pool) ? deepMerge(structuredClone(base), pool) : pool;
  }
  delete merged.worker;
  return { shorthand: false, written };
}

function valueAt(root: unknown, path: KeyPath): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Where to report a problem at `path`: nodePools.<pool>.<key> stays when the pool sets the key
 * itself (or nobody does); it becomes worker.<key> when the value came from `worker`.
 */
export function sourcePathOf(expansion: PoolExpansion, path: KeyPath): KeyPath {
  if (expansion.shorthand || path[0] !== "nodePools" || path.length < 3) return path;
  const rest = path.slice(2);
  for (let depth = rest.length; depth >= 1; depth--) {
    if (valueAt(expansion.written, [...path.slice(0, 2), ...rest.slice(0, depth)]) !== undefined) return path;
    if (valueAt(expansion.written, ["worker", ...rest.slice(0, depth)]) !== undefined) return ["worker", ...rest];
  }
  return path;
}

/** The same problem found in several pools that all inherit the key from `worker` is reported once. */
export function dedupeIssues(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.file, issue.line, issue.column, issue.path, issue.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// --- architecture ---

export type Architecture = "amd64" | "arm64";

/**
 * An instance type's CPU architecture from its family: Graviton families carry a "g" after the
 * generation (m7g, c7gn, r8g, t4g, x2gd, im4gn, is4gen, g5g), and a1 is the first Graviton.
 * Everything else (m5, c7i, g5 GPUs, ...) is x86_64.
 */
export function instanceArchitecture(instanceType: string): Architecture {
  const family = instanceType.split(".")[0] ?? "";
  if (family === "a1") return "arm64";
  return /^[a-z]+\d+g[a-z]*$/.test(family) ? "arm64" : "amd64";
}

/** The pool's architecture, or undefined when its instance types mix them (refused by the rules). */
export function poolArchitecture(instanceTypes: readonly string[]): Architecture | undefined {
  const arches = new Set(instanceTypes.map(instanceArchitecture));
  return arches.size === 1 ? [...arches][0] : arches.size === 0 ? "amd64" : undefined;
}

/**
 * In karpenter mode a pool other than `system` is a Karpenter NodePool: `type` and `perZone` mean
 * nothing there. Set on the pool itself they are ignored with a warning (not refused, so one key
 * switches the same pools between modes); inherited from `worker` they pass silently.
 */
export function karpenterIgnoredKeys(
  expansion: PoolExpansion,
  config: { autoscaling: { mode: string }; nodePools: Record<string, unknown> },
): { path: KeyPath; message: string }[] {
  if (config.autoscaling.mode !== "karpenter" || expansion.shorthand) return [];
  const found: { path: KeyPath; message: string }[] = [];
  for (const pool of Object.keys(config.nodePools)) {
    if (pool === "system") continue;
    for (const key of ["type", "perZone"]) {
      if (valueAt(expansion.written, ["nodePools", pool, key]) !== undefined) {
        found.push({
          path: ["nodePools", pool, key],
          message: `is ignored in karpenter mode: pool ${pool} is a Karpenter NodePool, not a nodegroup`,
        });
      }
    }
  }
  return found;
}
