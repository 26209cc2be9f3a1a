// The nodegroup version suffix (worker-1b-20261125). It must not change between two `generate`
// runs, or the second run would describe nodegroups that do not exist. So: the config (or --set)
// wins; otherwise the version recorded in the environment's state (core/state.ts); otherwise
// today's UTC date, recorded at once.
import { readWorkerVersion, recordWorkerVersion } from "../core/state.js";
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
  if (env.config.worker.version) return { version: env.config.worker.version, source: "config" };
  const recorded = await readWorkerVersion(projectRoot, env.name);
  if (recorded !== undefined) return { version: recorded, source: "state" };
  const version = todaysVersion(opts.now ?? new Date());
  if (opts.record !== false) await recordWorkerVersion(projectRoot, env.name, version);
  return { version, source: "new" };
}
