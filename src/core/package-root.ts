import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

/** The directory holding eksbox's package.json: the same answer from src/ (tsx) and dist/ (tsc). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** The vendored eksctl schema lives in src/vendor, which tsc does not copy to dist/. */
export function eksctlSchemaPath(): string {
  return path.join(packageRoot(), "src", "vendor", "eksctl-v0.230.0", "schema.json");
}
