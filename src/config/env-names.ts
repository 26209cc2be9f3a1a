// Environment names and where their files are: what choosing an environment needs, without the
// config schema (zod) that loading one needs.
import { readdir } from "node:fs/promises";
import path from "node:path";
import { envNamePattern } from "../core/layout.js";

export { assertEnvName, envNamePattern } from "../core/layout.js";

export const ENVIRONMENTS_DIR = "config/environments";

export function environmentFile(name: string): string {
  return `${ENVIRONMENTS_DIR}/${name}.yaml`;
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
