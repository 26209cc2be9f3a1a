// Layering: defaults.yaml, then the environment file, then `--set` overrides. Maps merge key by
// key; lists and scalars replace, because a merged list (zones, instance types) is never what
// someone overriding it means. A null removes the key (as in Helm), so an environment can drop a
// default such as worker.spot.spotInstancePools.
import type { ConfigIssue } from "../core/errors.js";
import { environmentSchema } from "./schema.js";
import { leafKind, schemaAt } from "./schema-walk.js";
import { yamlLibrary } from "./yaml-lib.js";
import { dottedPath, type KeyPath } from "./yaml-source.js";

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * keepNulls keeps a null where nothing is left to remove yet: under nodePools, a pool's null must
 * survive until the pool is laid over `worker` (config/node-pools.ts), or it could not drop a
 * key the pool inherits.
 */
export function deepMerge(base: unknown, override: unknown, keepNulls = false): unknown {
  if (!isPlainObject(override)) return override === undefined ? base : override;
  const out: PlainObject = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(override)) {
    if (value === null && keepNulls) out[key] = null;
    else if (value === null) delete out[key];
    else out[key] = deepMerge(out[key], value, keepNulls);
  }
  return out;
}

/** Merges one config layer over the layers below it (see deepMerge for nodePools' nulls). */
export function mergeLayer(base: unknown, layer: unknown): unknown {
  if (!isPlainObject(layer)) return deepMerge(base, layer);
  const { nodePools, ...rest } = layer;
  const merged = deepMerge(base, rest) as PlainObject;
  if (nodePools === undefined) return merged;
  if (nodePools === null) {
    delete merged.nodePools;
    return merged;
  }
  merged.nodePools = deepMerge(merged.nodePools, nodePools, true);
  return merged;
}

export interface SetOverride {
  /** The argument as given, for messages. */
  text: string;
  path: KeyPath;
  value: unknown;
}

/**
 * Parses `worker.desiredCapacity=3`, `worker.labels[team]=web`, `worker.zones=[a, b]`.
 * A value for a string key stays a string (`cluster.version=1.34` is "1.34", not 1.34);
 * any other value is read as YAML.
 */
export function parseSetOverride(text: string): SetOverride | ConfigIssue {
  const eq = text.indexOf("=");
  const where = { file: "--set", path: text.slice(0, Math.max(eq, 0)) };
  if (eq <= 0) {
    return { ...where, path: undefined, message: "is not path=value", hint: "example: --set worker.desiredCapacity=3" };
  }
  const path = splitKeyPath(text.slice(0, eq));
  if (!path) {
    return {
      ...where,
      message: "is not a key path",
      hint: "use dots and [index] or [key]: worker.zones[0], worker.labels[node.kubernetes.io/role]",
    };
  }
  const raw = text.slice(eq + 1);
  let value: unknown = raw;
  if (raw === "null") {
    value = null; // removes the key, for string keys too
  } else if (leafKind(schemaAt(environmentSchema, path)) !== "string") {
    try {
      value = yamlLibrary().parse(raw);
    } catch {
      return {
        ...where,
        message: "the value is not valid YAML",
        hint: "quote it for the shell, e.g. --set 'worker.zones=[ap-northeast-1b]'",
      };
    }
  }
  return { text, path, value };
}

function splitKeyPath(text: string): KeyPath | undefined {
  const path: (string | number)[] = [];
  const pattern = /([^.[\]]+)|\[([^\]]*)\]|(\.)/gy;
  let expectKey = true;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(text)) !== null) {
    consumed = pattern.lastIndex;
    if (match[1] !== undefined) {
      if (!expectKey) return undefined;
      path.push(match[1]);
      expectKey = false;
    } else if (match[2] !== undefined) {
      if (match[2] === "") return undefined;
      path.push(/^\d+$/.test(match[2]) ? Number(match[2]) : match[2]);
      expectKey = false;
    } else {
      if (expectKey) return undefined;
      expectKey = true;
    }
  }
  if (consumed !== text.length || expectKey || path.length === 0) return undefined;
  return path;
}

export function applySetOverride(target: PlainObject, override: SetOverride): ConfigIssue | undefined {
  let node: unknown = target;
  for (let i = 0; i < override.path.length - 1; i++) {
    const segment = override.path[i]!;
    const container = node as PlainObject | unknown[];
    let next = (container as Record<string | number, unknown>)[segment];
    if (next === undefined) {
      next = typeof override.path[i + 1] === "number" ? [] : {};
      (container as Record<string | number, unknown>)[segment] = next;
    }
    if (typeof next !== "object" || next === null) {
      return {
        file: "--set",
        path: dottedPath(override.path.slice(0, i + 1)),
        message: `is a single value, so ${dottedPath(override.path)} cannot be set inside it`,
      };
    }
    node = next;
  }
  const last = override.path[override.path.length - 1]!;
  // Under nodePools a null stays, to drop the key the pool inherits from `worker` (config/node-pools.ts).
  if (override.value === null && !Array.isArray(node) && !(override.path[0] === "nodePools" && override.path.length > 2))
    delete (node as Record<string | number, unknown>)[last];
  else (node as Record<string | number, unknown>)[last] = override.value;
  return undefined;
}
