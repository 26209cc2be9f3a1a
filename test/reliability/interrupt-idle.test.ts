// Ctrl-C in a command that runs nothing in the toolbox (validate, generate) stops it at once with
// exit 130; before, it printed "asking the running steps to stop" and carried on to exit 0.
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { ensureBuilt, repoRoot } from "../support/cli.js";

it("SIGINT during validate --all stops it with exit 130", async () => {
  const cli = await ensureBuilt();
  const root = await mkdtemp(join(tmpdir(), "eksbox-sigint-"));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  const prod = await readFile(join(repoRoot, "config", "environments", "prod.yaml"), "utf8");
  // Enough environments that validating them outlasts the moment the signal is sent.
  await Promise.all(Array.from({ length: 1000 }, (_, i) => writeFile(join(root, "config", "environments", `e${i}.yaml`), prod)));

  const child = spawn(process.execPath, [cli, "validate", "--all", "--no-tty", "--project", root], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  await new Promise((resolve) => setTimeout(resolve, 700));
  child.kill("SIGINT");
  expect(await exit).toBe(130);
  expect(stderr).toContain("interrupted");
  expect(stderr).not.toContain("asking the running steps to stop");
}, 60_000);
