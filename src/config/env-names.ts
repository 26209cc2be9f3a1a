// Environment names and where their files are: what choosing an environment needs, without the
// config schema (zod) that loading one needs.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.js";

/** Same rule as schema.ts envNamePattern (kept here so choosing an environment does not load zod). */
export const envNamePattern = /^[a-z][a-z0-9-]{0,39}$/;

export const ENVIRONMENTS_DIR = "config/environments";

export function environmentFile(name: string): string {
  return `${ENVIRONMENTS_DIR}/${name}.yaml`;
}

/** Refuses names that could escape config/environments (`../x`, `a/b`) or are not plain names. */
export function assertEnvName(name: string): void {
  if (!envNamePattern.test(name)) {
    throw new UserError(
      `invalid environment name ${JSON.stringify(name)}: use a plain name of lower-case letters, digits and '-', starting with a letter (such as prod)`,
    );
  }
}

export async function listEnvironments(projectRoot: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await readdir(path.join(projectRoot, ENVIRONMENTS_DIR));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .filter((name) => envNamePattern.test(name))
    .sort();
}

