// Creating and preparing the toolbox container. Its main process is `cat` on the stdin of an
// attach this process holds: if eksbox dies in any way the stream closes, the container stops,
// nothing keeps running in it, and the next run sweeps it.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Duplex } from "node:stream";
import type Dockerode from "dockerode";
import { InternalError } from "../core/errors.js";
import { toDockerEnv } from "./container-env.js";
import { PID_DIR, removeContainer, type DockerToolbox, type WorkspaceMode } from "./docker-toolbox.js";
import { containerLabels } from "./labels.js";
import type { ToolboxOptions } from "./toolbox.js";
import type { ImageInfo } from "./types.js";
import { copyDirectoryIn } from "./workspace.js";

/** HOME inside the toolbox: writable, owned by the run's user, with ~/.aws under it. */
export const TOOLBOX_HOME = "/home/eksbox";
/** Under ~/.aws: the SSO token cache and the CLI's assumed-role cache. */
const AWS_WRITABLE_CACHES = ["sso/cache", "cli/cache"];

const SETUP_SCRIPT = `set -e
uid=$1 gid=$2 home=$3 pids=$4 workspace=$5
grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd || echo "eksbox:x:$uid:$gid:eksbox:$home:/bin/sh" >> /etc/passwd
grep -q "^[^:]*:[^:]*:$gid:" /etc/group || echo "eksbox:x:$gid:" >> /etc/group
mkdir -p "$home" "$pids"
chown "$uid:$gid" "$home"
chmod 1777 "$pids"
if [ -n "$workspace" ]; then mkdir -p "$workspace"; chown "$uid:$gid" "$workspace"; fi`;

export interface CreateArgs {
  docker: Dockerode;
  opts: ToolboxOptions;
  image: ImageInfo;
  mode: WorkspaceMode;
  env: Record<string, string>;
  awsDir: string | undefined;
  /** Copy ~/.aws in instead of mounting it: the engine may see another machine's ~/.aws at that path. */
  copyAws: boolean;
}

/** Creates and starts the container, holding the attach whose end stops it. */
export async function startContainer(args: CreateArgs): Promise<{ container: Dockerode.Container; keepAlive: Duplex }> {
  const { docker, opts, mode } = args;
  // Mounts, not Binds: a workspace the engine cannot see is an error here, where Binds would
  // silently create an empty directory on the engine's host.
  const mounts: Dockerode.MountSettings[] = [];
  const bind = (source: string, target: string, readOnly = false) => mounts.push({ Type: "bind", Source: source, Target: target, ReadOnly: readOnly });
  if (mode === "bind") {
    bind(opts.projectRoot, opts.projectRoot);
    if (args.awsDir && !args.copyAws) {
      bind(args.awsDir, `${TOOLBOX_HOME}/.aws`, true);
      // Config and credentials stay read-only; the token caches must take refreshed tokens.
      for (const cache of AWS_WRITABLE_CACHES) {
        if (existsSync(path.join(args.awsDir, cache))) bind(path.join(args.awsDir, cache), `${TOOLBOX_HOME}/.aws/${cache}`);
      }
    }
  }
  const user = opts.user;
  const container = await docker.createContainer({
    Image: args.image.id,
    name: `eksbox-${opts.runId}-${randomBytes(3).toString("hex")}`.replace(/[^a-zA-Z0-9_.-]/g, "-"),
    // `cat` ends when our attach closes: the container cannot outlive this process.
    Entrypoint: ["cat"],
    Cmd: [],
    User: user ? `${user.uid}:${user.gid}` : undefined,
    WorkingDir: mode === "bind" ? opts.projectRoot : "/",
    Env: toDockerEnv(args.env),
    Labels: containerLabels({ runId: opts.runId, envName: opts.envName, step: "toolbox" }),
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    Tty: false,
    HostConfig: {
      Init: true,
      Mounts: mounts,
      NetworkMode: opts.networkMode ?? "host",
      AutoRemove: false,
    },
  });
  try {
    const keepAlive = (await container.attach({ stream: true, stdin: true, stdout: false, stderr: false, hijack: true })) as unknown as Duplex;
    keepAlive.on("error", () => undefined);
    await container.start();
    return { container, keepAlive };
  } catch (error) {
    await removeContainer(container).catch(() => undefined);
    throw error;
  }
}

export async function setUpContainer(toolbox: DockerToolbox, opts: ToolboxOptions, awsDir: string | undefined, copyAws: boolean): Promise<void> {
  const user = opts.user ?? { uid: 0, gid: 0 };
  const setup = await toolbox.internalExec(
    ["/bin/sh", "-c", SETUP_SCRIPT, "setup", String(user.uid), String(user.gid), TOOLBOX_HOME, PID_DIR, toolbox.mode === "archive" ? opts.projectRoot : ""],
    "0:0",
  );
  if (setup.exitCode !== 0) {
    throw new InternalError(`preparing the toolbox container failed (exit ${setup.exitCode}): ${setup.output.trim().slice(-500)}`);
  }
  if (toolbox.mode === "archive") await copyDirectoryIn(toolbox.container, opts.projectRoot, opts.projectRoot);
  if (awsDir && (copyAws || toolbox.mode === "archive")) {
    await copyDirectoryIn(toolbox.container, path.dirname(awsDir), TOOLBOX_HOME, [path.basename(awsDir)]);
  }
  if (opts.envName) {
    await toolbox.internalExec(["mkdir", "-p", path.posix.join(opts.projectRoot, "build", opts.envName)]);
  }
}

export function isMissingBindSource(error: unknown): boolean {
  return /bind source path does not exist|invalid mount config/i.test(error instanceof Error ? error.message : String(error));
}

/** Whether a bind mount of the workspace shows this machine's files: write a token, read it in the container. */
export async function bindShowsWorkspace(toolbox: DockerToolbox, projectRoot: string): Promise<boolean> {
  const token = randomBytes(16).toString("hex");
  const probe = path.join(projectRoot, `.eksbox-probe-${token.slice(0, 8)}`);
  try {
    await writeFile(probe, token);
  } catch {
    return false;
  }
  try {
    const seen = await toolbox.internalExec(["cat", probe]);
    return seen.exitCode === 0 && seen.output.trim() === token;
  } finally {
    await rm(probe, { force: true });
  }
}
