// The built CLI, as users run it. Tests that spawn it build it first when src/ is newer than dist/.
import { execa } from "execa";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const cliPath = join(repoRoot, "dist", "cli.js");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

export async function ensureBuilt(): Promise<string> {
  if (!existsSync(cliPath) || statSync(cliPath).mtimeMs < newestMtime(join(repoRoot, "src"))) {
    await execa("npm", ["run", "build", "--silent"], { cwd: repoRoot });
  }
  return cliPath;
}
