// The nodegroup version suffix (worker-1b-20261125). It must not change between two `generate`
// runs, or the second run would describe nodegroups that do not exist. So: the config (or --set)
// wins; otherwise the version recorded in the environment's state (core/state.ts); otherwise
// today's UTC date, recorded at once.
import { readPoolVersions, readWorkerVersion, recordPoolVersions, recordWorkerVersion } from "../core/state.js";
import type { Environment } from "./schema.js";

export type WorkerVersionSource = "config" | "state" | "new";

export function todaysVersion(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll("-", "");
}

export async function resolveWorkerVersion(
  projectRoot: string,
  env: Environment,
  opts: { now?: Date; record?: boolean } = {},
): Promise<{ version: string; source: WorkerVersionSource }> {
  if (env.config.worker?.version) return { version: env.config.worker.version, source: "config" };
  const recorded = await readWorkerVersion(projectRoot, env.name);
  if (recorded !== undefined) return { version: recorded, source: "state" };
  const version = todaysVersion(opts.now ?? new Date());
  if (opts.record !== false) await recordWorkerVersion(projectRoot, env.name, version);
  return { version, source: "new" };
}

/** Each pool's version suffix: the pool's `version`, else the recorded one, else today's (recorded at once). */
export async function resolvePoolVersions(
  projectRoot: string,
  env: Environment,
  opts: { now?: Date; record?: boolean } = {},
): Promise<Record<string, string>> {
  const pools = Object.keys(env.config.nodePools);
  const recorded = await readPoolVersions(projectRoot, env.name, pools);
  const versions: Record<string, string> = {};
  const fresh: Record<string, string> = {};
  for (const [name, pool] of Object.entries(env.config.nodePools)) {
    const version = pool.version ?? recorded[name];
    if (version !== undefined) versions[name] = version;
    else versions[name] = fresh[name] = todaysVersion(opts.now ?? new Date());
  }
  if (opts.record !== false) await recordPoolVersions(projectRoot, env.name, fresh);
  return versions;
}

/** One version for every pool (--to-version, tests, probes). */
export function sameVersionForEveryPool(env: Environment, version: string): Record<string, string> {
  return Object.fromEntries(Object.keys(env.config.nodePools).map((name) => [name, version]));
}

/** How a set of pool versions reads in messages: "20261125", or "system 20261125, workers 20261126". */
export function describeVersions(versions: Record<string, string>): string {
  const distinct = new Set(Object.values(versions));
  if (distinct.size <= 1) return [...distinct][0] ?? "none";
  return Object.entries(versions)
    .map(([pool, v]) => `${pool} ${v}`)
    .join(", ");
}
