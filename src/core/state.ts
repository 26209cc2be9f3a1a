// What eksbox remembers about an environment between runs, under .eksbox/state/ (gitignored):
//   <env>.json          the worker version its nodegroups were created with
//   <env>.roll.json     the version a roll in progress is rolling to
//   <env>.upgrade.json  an upgrade in progress, and the nodegroup versions it must roll
// Each kind is read, written and forgotten here only, so moving this state elsewhere changes one file.
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "./errors.js";
import { writeFileAtomic, writeJsonState } from "./files.js";
import { assertEnvName, eksboxPaths, NODEGROUP_VERSION_PATTERN } from "./layout.js";

const stateFile = (suffix: string) => (envName: string) => {
  assertEnvName(envName);
  return `${eksboxPaths.stateDir}/${envName}${suffix}`;
};
const stateFiles = { worker: stateFile(".json"), roll: stateFile(".roll.json"), upgrade: stateFile(".upgrade.json") };

/** Every state file of an environment, relative to the project root (what destroy forgets). */
export function environmentStateFiles(envName: string): string[] {
  return Object.values(stateFiles).map((file) => file(envName));
}

export async function forgetEnvironmentState(projectRoot: string, envName: string): Promise<void> {
  for (const file of environmentStateFiles(envName)) await writeJsonState(join(projectRoot, file), undefined);
}

async function readJson<T>(projectRoot: string, file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(join(projectRoot, file), "utf8")) as T;
  } catch {
    return undefined;
  }
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
  if (!NODEGROUP_VERSION_PATTERN.test(version)) throw new UserError(`invalid worker version ${JSON.stringify(version)}: use 1-16 lower-case letters or digits`);
  const file = workerStateFile(projectRoot, envName);
  const state = readWorkerState(file);
  await writeFileAtomic(file, `${JSON.stringify({ ...state, workerVersion: version }, null, 2)}\n`);
}

// --- roll in progress: a rerun on another day finishes the same roll ---

export async function readRollTarget(projectRoot: string, envName: string): Promise<string | undefined> {
  return (await readJson<{ rollingTo?: string }>(projectRoot, stateFiles.roll(envName)))?.rollingTo;
}

/** undefined forgets it. */
export async function writeRollTarget(projectRoot: string, envName: string, version: string | undefined): Promise<void> {
  await writeJsonState(join(projectRoot, stateFiles.roll(envName)), version === undefined ? undefined : { rollingTo: version });
}

// --- upgrade in progress ---

/**
 * Remembered with the nodegroup versions that were live when it began, so a rerun on another day
 * still rolls exactly those and never rolls twice.
 */
export interface UpgradeState {
  upgradingTo: string;
  rollFrom: string[];
}

export async function readUpgradeState(projectRoot: string, envName: string): Promise<UpgradeState | undefined> {
  return readJson<UpgradeState>(projectRoot, stateFiles.upgrade(envName));
}

/** undefined forgets it. */
export async function writeUpgradeState(projectRoot: string, envName: string, state: UpgradeState | undefined): Promise<void> {
  await writeJsonState(join(projectRoot, stateFiles.upgrade(envName)), state);
}
