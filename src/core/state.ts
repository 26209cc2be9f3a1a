// What eksbox remembers about an environment between runs on this machine, under .eksbox/state/
// (gitignored): <env>.json, the worker version its nodegroups were created with, for generating
// offline. Whatever every machine must agree on lives in the cloud instead: a roll or an upgrade in
// progress as tags on the cluster (steps/cluster-state.ts), the lock and the last run in the
// environment's account (steps/cloud-state.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "./errors.js";
import { writeFileAtomic, writeJsonState } from "./files.js";
import { assertEnvName, eksboxPaths, NODEGROUP_VERSION_PATTERN } from "./layout.js";

const stateFile = (suffix: string) => (envName: string) => {
  assertEnvName(envName);
  return `${eksboxPaths.stateDir}/${envName}${suffix}`;
};
const stateFiles = { worker: stateFile(".json") };

/** Every state file of an environment, relative to the project root (what destroy forgets). */
export function environmentStateFiles(envName: string): string[] {
  return Object.values(stateFiles).map((file) => file(envName));
}

export async function forgetEnvironmentState(projectRoot: string, envName: string): Promise<void> {
  for (const file of environmentStateFiles(envName)) await writeJsonState(join(projectRoot, file), undefined);
}

// --- worker version ---

/** The worker state file's path; it may hold more than the version, which is kept. */
export function workerStateFile(projectRoot: string, envName: string): string {
  return join(projectRoot, stateFiles.worker(envName));
}

function readWorkerState(file: string): Record<string, unknown> {
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

/** The recorded worker version, or undefined when none (or not a valid one) is recorded. */
export async function readWorkerVersion(projectRoot: string, envName: string): Promise<string | undefined> {
  const state = readWorkerState(workerStateFile(projectRoot, envName));
  return typeof state.workerVersion === "string" && NODEGROUP_VERSION_PATTERN.test(state.workerVersion) ? state.workerVersion : undefined;
}

/** Records the version, keeping whatever else the state file holds. */
export async function recordWorkerVersion(projectRoot: string, envName: string, version: string): Promise<void> {
  if (!NODEGROUP_VERSION_PATTERN.test(version))
    throw new UserError(`invalid worker version ${JSON.stringify(version)}: use 1-16 lower-case letters or digits`);
  const file = workerStateFile(projectRoot, envName);
  const state = readWorkerState(file);
  await writeFileAtomic(file, `${JSON.stringify({ ...state, workerVersion: version }, null, 2)}\n`);
}

/** Each pool's recorded version; a pool with none recorded takes the environment's workerVersion (state from before pools). */
export async function readPoolVersions(projectRoot: string, envName: string, pools: readonly string[]): Promise<Record<string, string>> {
  const state = readWorkerState(workerStateFile(projectRoot, envName));
  const recorded =
    typeof state.poolVersions === "object" && state.poolVersions !== null ? (state.poolVersions as Record<string, unknown>) : {};
  const legacy = typeof state.workerVersion === "string" ? state.workerVersion : undefined;
  const out: Record<string, string> = {};
  for (const pool of pools) {
    const version = typeof recorded[pool] === "string" ? recorded[pool] : legacy;
    if (version !== undefined && NODEGROUP_VERSION_PATTERN.test(version)) out[pool] = version;
  }
  return out;
}

/** Records pools' versions (others kept); workerVersion follows the newest, for readers from before pools. */
export async function recordPoolVersions(projectRoot: string, envName: string, versions: Record<string, string>): Promise<void> {
  for (const version of Object.values(versions)) {
    if (!NODEGROUP_VERSION_PATTERN.test(version))
      throw new UserError(`invalid nodegroup version ${JSON.stringify(version)}: use 1-16 lower-case letters or digits`);
  }
  if (Object.keys(versions).length === 0) return;
  const file = workerStateFile(projectRoot, envName);
  const state = readWorkerState(file);
  const old = typeof state.poolVersions === "object" && state.poolVersions !== null ? (state.poolVersions as Record<string, string>) : {};
  const poolVersions = { ...old, ...versions };
  const newest = Object.values(poolVersions).sort().at(-1)!;
  await writeFileAtomic(file, `${JSON.stringify({ ...state, workerVersion: newest, poolVersions }, null, 2)}\n`);
}
