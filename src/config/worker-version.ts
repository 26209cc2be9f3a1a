// The nodegroup version suffix (worker-1b-20261125). It must not change between two `generate`
// runs, or the second run would describe nodegroups that do not exist. So: the config (or --set)
// wins; otherwise the version recorded in .eksbox/state/<env>.json; otherwise today's UTC date,
// recorded at once.
import { readFileSync } from "node:fs";
import path from "node:path";
import { UserError } from "../core/errors.js";
import { writeFileAtomic } from "../core/files.js";
import { assertEnvName } from "./load.js";
import type { Environment } from "./schema.js";

export type WorkerVersionSource = "config" | "state" | "new";

export function stateFile(projectRoot: string, envName: string): string {
  assertEnvName(envName);
  return path.join(projectRoot, ".eksbox", "state", `${envName}.json`);
}

async function readState(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    // Synchronous: a small file, read once per environment, often absent (cheaper than fs/promises).
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  try {
    const state = JSON.parse(text) as unknown;
    if (typeof state === "object" && state !== null && !Array.isArray(state)) return state as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new UserError(`${file} is not a JSON object`, { hint: "fix or delete it (it records the worker version of the nodegroups)" });
}

export function todaysVersion(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll("-", "");
}

export async function resolveWorkerVersion(
  projectRoot: string,
  env: Environment,
  opts: { now?: Date; record?: boolean } = {},
): Promise<{ version: string; source: WorkerVersionSource }> {
  if (env.config.worker.version) return { version: env.config.worker.version, source: "config" };
  const state = await readState(stateFile(projectRoot, env.name));
  if (typeof state.workerVersion === "string" && /^[a-z0-9]{1,16}$/.test(state.workerVersion)) {
    return { version: state.workerVersion, source: "state" };
  }
  const version = todaysVersion(opts.now ?? new Date());
  if (opts.record !== false) await recordWorkerVersion(projectRoot, env.name, version);
  return { version, source: "new" };
}

/** Records the version, keeping whatever else the state file holds. */
export async function recordWorkerVersion(projectRoot: string, envName: string, version: string): Promise<void> {
  if (!/^[a-z0-9]{1,16}$/.test(version)) throw new UserError(`invalid worker version ${JSON.stringify(version)}: use 1-16 lower-case letters or digits`);
  const file = stateFile(projectRoot, envName);
  const state = await readState(file);
  await writeFileAtomic(file, `${JSON.stringify({ ...state, workerVersion: version }, null, 2)}\n`);
}
