// A temporary eksbox project as a user starts one: the repository's templates and
// defaults, and an empty config/environments/ for the test to fill.
import { cp, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./cli.js";

export async function makeProjectSkeleton(prefix: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  return root;
}
