// Getting the workspace to the toolbox. Normally a bind mount at the same absolute path. When the
// engine cannot see this machine's files (a remote DOCKER_HOST, or eksbox itself running in a
// container with the engine's socket mounted), the workspace is copied in with the archive API
// and copied back on dispose. The system `tar` makes and unpacks the archives: it is on every
// machine that has a Docker CLI and handles long names, modes and mtimes correctly.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import type Dockerode from "dockerode";

/** Not copied in: version control internals and dependency trees are never inputs to a cloud command. */
export const ARCHIVE_EXCLUDES = ["./.git", "./node_modules"];

/** A hint that eksbox runs inside a container, where host paths and our paths may differ. */
export function runningInContainer(): boolean {
  return existsSync("/.dockerenv") || existsSync("/run/.containerenv");
}

function runTar(args: string[], io: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream }): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("tar", args, { stdio: [io.input ? "pipe" : "ignore", io.output ? "pipe" : "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (text: string) => {
      if (stderr.length < 8192) stderr += text;
    });
    if (io.input) {
      io.input.on("error", reject);
      io.input.pipe(child.stdin!);
    }
    if (io.output) child.stdout!.pipe(io.output, { end: false });
    child.on("error", (error) => reject(new Error(`cannot run tar (needed to copy the workspace to a remote engine): ${error.message}`)));
    child.on("close", (code) => {
      // --keep-newer-files makes GNU tar exit 0 but warn; only a real failure rejects.
      if (code === 0) resolve();
      else reject(new Error(`tar ${args[0]} exited ${code}: ${stderr.trim().split("\n").slice(-3).join("; ")}`));
    });
  });
}

/** Copies `entries` of `hostDir` (all by default) into the container at `containerDir` (which must exist). */
export async function copyDirectoryIn(
  container: Dockerode.Container,
  hostDir: string,
  containerDir: string,
  entries: string[] = ["."],
): Promise<void> {
  const child = spawn("tar", ["-c", "-f", "-", "-C", hostDir, ...ARCHIVE_EXCLUDES.map((e) => `--exclude=${e}`), ...entries], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text.slice(0, 4096)));
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? 1));
  });
  await container.putArchive(child.stdout, { path: containerDir });
  const code = await exited;
  if (code !== 0) throw new Error(`tar could not read ${hostDir}: ${stderr.trim()}`);
}

/**
 * Copies the container's `containerDir` back over `hostDir`. Files changed on this side since
 * they were copied in are kept (--keep-newer-files), and extracted files belong to the user running
 * eksbox. Deletions in the container are not replayed.
 */
export async function copyDirectoryOut(container: Dockerode.Container, containerDir: string, hostDir: string): Promise<void> {
  // The directory itself, not `<dir>/.`: Docker names the entries of `<dir>/.` "./x" and Podman "x",
  // while both name those of `<dir>` "<name>/x", which one --strip-components takes off.
  const stream = (await container.getArchive({ path: containerDir })) as NodeJS.ReadableStream;
  await runTar(["-x", "-f", "-", "-C", hostDir, "--keep-newer-files", "--no-same-owner", "--strip-components=1"], {
    input: stream,
  });
}
