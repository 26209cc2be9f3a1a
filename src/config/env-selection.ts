// Which environment a command acts on: --env, then EKSBOX_ENV, then the one stored by
// `eksbox env set` in .eksbox/env (gitignored, so each checkout chooses its own).
// The bare ENV variable is never read: POSIX sh gives it a meaning (a file sourced at start-up).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.js";
import { writeFileAtomic } from "../core/files.js";
import { eksboxPaths } from "../core/layout.js";
import { assertEnvName, listEnvironments } from "./env-names.js";

export const STORED_ENV_FILE = eksboxPaths.storedEnv;

export type EnvSource = "flag" | "EKSBOX_ENV" | "stored";

export async function getStoredEnv(projectRoot: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path.join(projectRoot, STORED_ENV_FILE), "utf8")).trim();
    return text === "" ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Stores the default environment; refuses names that do not exist under config/environments. */
export async function setStoredEnv(projectRoot: string, name: string): Promise<void> {
  assertEnvName(name);
  const known = await listEnvironments(projectRoot);
  if (!known.includes(name)) {
    throw new UserError(
      `unknown environment ${JSON.stringify(name)}: ${known.length > 0 ? `environments: ${known.join(", ")}` : "no environments exist yet in config/environments/"}`,
    );
  }
  await writeFileAtomic(path.join(projectRoot, STORED_ENV_FILE), `${name}\n`);
}

export async function resolveEnvSelection(
  projectRoot: string,
  opts: { flag?: string; processEnv: NodeJS.ProcessEnv },
): Promise<{ name: string; source: EnvSource }> {
  const candidates: [string | undefined, EnvSource][] = [
    [opts.flag, "flag"],
    [opts.processEnv.EKSBOX_ENV, "EKSBOX_ENV"],
    [await getStoredEnv(projectRoot), "stored"],
  ];
  for (const [value, source] of candidates) {
    if (value !== undefined && value !== "") {
      try {
        assertEnvName(value);
      } catch (error) {
        const from = { flag: "--env", EKSBOX_ENV: "EKSBOX_ENV", stored: STORED_ENV_FILE }[source];
        throw new UserError(`${(error as Error).message} (from ${from})`);
      }
      return { name: value, source };
    }
  }
  const known = await listEnvironments(projectRoot);
  throw new UserError(
    `no environment chosen. ${known.length > 0 ? `Environments: ${known.join(", ")}.` : "No environments exist yet in config/environments/."}`,
    { hint: "choose one with `eksbox env set <name>`, per command with --env <name> (make X ENV=<name>), or with EKSBOX_ENV=<name>" },
  );
}

export async function resolveEnvName(projectRoot: string, opts: { flag?: string; processEnv: NodeJS.ProcessEnv }): Promise<string> {
  return (await resolveEnvSelection(projectRoot, opts)).name;
}
