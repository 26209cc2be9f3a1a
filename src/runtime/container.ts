// Creating and preparing the toolbox container. Its main process runs as root just long enough to
// prepare the container (the user's passwd entry, HOME, the steps' pid directory) and to say
// whether the workspace mount shows this machine's files, then becomes `cat` on the stdin of an
// attach this process holds: if eksbox dies in any way the stream closes, the container stops,
// nothing keeps running in it, and the next run sweeps it. Preparing in the main process rather
// than in execs saves an exec (70-90 ms each on a small machine) per thing prepared.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Duplex } from "node:stream";
import type Dockerode from "dockerode";
import { envPaths } from "../core/layout.js";
import { InternalError } from "../core/errors.js";
import { toDockerEnv } from "./container-env.js";
import { createDemuxer } from "./streams.js";
import { PID_DIR, removeContainer, type DockerToolbox, type WorkspaceMode } from "./docker-toolbox.js";
import { containerLabels } from "./labels.js";
import type { ToolboxOptions } from "./types.js";
import type { ImageInfo } from "./types.js";
import { copyDirectoryIn } from "./workspace.js";

/** HOME inside the toolbox: writable, owned by the run's user, with ~/.aws under it. */
export const TOOLBOX_HOME = "/home/eksbox";
/** Under ~/.aws: the SSO token cache and the CLI's assumed-role cache. */
const AWS_WRITABLE_CACHES = ["sso/cache", "cli/cache"];

/** What the main process prints once the container is ready: then the mount probe's answer. */
const READY = "eksbox-toolbox-ready";
const READY_TIMEOUT_MS = 60_000;

// Arguments: uid gid home pid-dir workspace-to-create build-dir-to-create probe-file probe-token
// broker-port. Directories eksbox creates for the user are the user's; existing ones are left as they are.
// The credential broker listens on 127.0.0.1 in eksbox's network namespace: the container shares it
// exactly when its /proc/net/tcp lists that listening socket (0100007F:<port hex>, state 0A), which
// needs no tool in the image and no connection.
const ENTRYPOINT_SCRIPT = `set -e
uid=$1 gid=$2 home=$3 pids=$4 workspace=$5 builddir=$6 probe=$7 token=$8 brokerport=$9
grep -q "^[^:]*:[^:]*:$uid:" /etc/passwd || echo "eksbox:x:$uid:$gid:eksbox:$home:/bin/sh" >> /etc/passwd
grep -q "^[^:]*:[^:]*:$gid:" /etc/group || echo "eksbox:x:$gid:" >> /etc/group
mkdir -p "$home" "$pids"
chown "$uid:$gid" "$home"
chmod 1777 "$pids"
if [ -n "$workspace" ]; then mkdir -p "$workspace"; chown "$uid:$gid" "$workspace"; fi
if [ -n "$builddir" ]; then
  for dir in "\${builddir%/*}" "$builddir"; do [ -d "$dir" ] || { mkdir "$dir" && chown "$uid:$gid" "$dir"; }; done
fi
seen=none
if [ -n "$probe" ]; then seen=missing; [ "$(cat "$probe" 2>/dev/null)" = "$token" ] && seen=bind; fi
broker=none
if [ -n "$brokerport" ]; then
  broker=unreachable
  grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$brokerport") 00000000:0000 0A" /proc/net/tcp 2>/dev/null && broker=reachable
fi
echo "${READY} $seen $broker"
exec cat >/dev/null`;

/** The workspace mount was checked by the main process: this machine's files are (or are not) there. */
export type MountProbe = "bind" | "missing" | "none";
/** Whether the container shares the network namespace the credential broker listens in. */
export type BrokerProbe = "reachable" | "unreachable" | "none";

export interface CreateArgs {
  docker: Dockerode;
  opts: ToolboxOptions;
  image: ImageInfo;
  mode: WorkspaceMode;
  env: Record<string, string>;
  awsDir: string | undefined;
  /** Copy ~/.aws in instead of mounting it: the engine may see another machine's ~/.aws at that path. */
  copyAws: boolean;
  /** Bind mode inside a container: the main process checks that the mount shows this file. */
  probe?: { file: string; token: string };
  /** HostConfig.UsernsMode: "keep-id" on rootless Podman, "host" under Docker's userns-remap. */
  usernsMode?: string;
  /** The credential broker's port on 127.0.0.1: the main process says whether it can reach it. */
  brokerPort?: number;
}

/** Creates and starts the container, holding the attach whose end stops it; resolves once it is prepared. */
export async function startContainer(
  args: CreateArgs,
): Promise<{ container: Dockerode.Container; keepAlive: Duplex; probe: MountProbe; broker: BrokerProbe }> {
  const { docker, opts, mode } = args;
  // Mounts, not Binds: a workspace the engine cannot see is an error here, where Binds would
  // silently create an empty directory on the engine's host.
  const mounts: Dockerode.MountSettings[] = [];
  const bind = (source: string, target: string, readOnly = false) =>
    mounts.push({ Type: "bind", Source: source, Target: target, ReadOnly: readOnly });
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
  const user = opts.user ?? { uid: 0, gid: 0 };
  const buildDir = opts.envName ? path.posix.join(opts.projectRoot, envPaths(opts.envName).dir) : "";
  const probe = mode === "bind" && args.probe ? args.probe : undefined;
  const container = await docker.createContainer({
    Image: args.image.id,
    name: `eksbox-${opts.runId}-${randomBytes(3).toString("hex")}`.replace(/[^a-zA-Z0-9_.-]/g, "-"),
    Entrypoint: ["/bin/sh", "-c", ENTRYPOINT_SCRIPT, "eksbox-toolbox"],
    Cmd: [
      String(user.uid),
      String(user.gid),
      TOOLBOX_HOME,
      PID_DIR,
      mode === "archive" ? opts.projectRoot : "",
      buildDir,
      probe?.file ?? "",
      probe?.token ?? "",
      args.brokerPort ? String(args.brokerPort) : "",
    ],
    // Root only to prepare; every step runs as the user (execs name their user).
    User: "0:0",
    WorkingDir: mode === "bind" ? opts.projectRoot : "/",
    Env: toDockerEnv(args.env),
    Labels: containerLabels({ runId: opts.runId, envName: opts.envName, step: "toolbox" }),
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    HostConfig: {
      Init: true,
      Mounts: mounts,
      NetworkMode: opts.networkMode ?? "host",
      AutoRemove: false,
      ...(args.usernsMode ? { UsernsMode: args.usernsMode } : {}),
    },
  });
  let keepAlive: Duplex | undefined;
  try {
    keepAlive = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as unknown as Duplex;
    keepAlive.on("error", () => undefined);
    const ready = readyLine(keepAlive);
    // Awaited below; if start fails first, the attach is destroyed and this rejection is expected.
    ready.catch(() => undefined);
    await container.start();
    return { container, keepAlive, ...(await ready) };
  } catch (error) {
    // A start the engine refused can leave the attach open (Podman did: "write child: broken pipe"),
    // and an open socket would keep eksbox from exiting after it reported the failure.
    keepAlive?.destroy();
    // A main process that ended without a word: what the engine recorded says why (a runtime error).
    const state = await container.inspect().then(
      (info) => info.State,
      () => undefined,
    );
    await removeContainer(container).catch(() => undefined);
    if (error instanceof InternalError && state?.Error) {
      throw new InternalError(`${error.message} (the engine says: ${state.Error}; exit code ${state.ExitCode})`, { cause: error });
    }
    throw error;
  }
}

/** Reads the main process's output up to its ready line; the output of a failed preparation becomes the error. */
function readyLine(stream: Duplex): Promise<{ probe: MountProbe; broker: BrokerProbe }> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(
      () => finish(new InternalError(`the toolbox container did not get ready within ${READY_TIMEOUT_MS / 1000}s`)),
      READY_TIMEOUT_MS,
    );
    const onData = createDemuxer((_name, data) => {
      output += data.toString("utf8");
      const line = output.split("\n").find((candidate) => candidate.startsWith(`${READY} `));
      if (line) {
        const [probe, broker] = line
          .slice(READY.length + 1)
          .trim()
          .split(" ");
        finish(undefined, { probe: probe as MountProbe, broker: (broker ?? "none") as BrokerProbe });
      } else if (output.length > 16_384) output = output.slice(-8_192);
    });
    const onEnd = () =>
      finish(new InternalError(`preparing the toolbox container failed: ${output.trim().slice(-500) || "its main process ended"}`));
    function finish(error: Error | undefined, answer?: { probe: MountProbe; broker: BrokerProbe }) {
      clearTimeout(timer);
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("close", onEnd);
      // From here on nothing is read: the stream only carries our stdin (the dead-man switch).
      stream.resume();
      if (error) reject(error);
      else resolve(answer!);
    }
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("close", onEnd);
  });
}

/** After start: copies the workspace and ~/.aws in when the engine cannot mount them. */
export async function setUpContainer(
  toolbox: DockerToolbox,
  opts: ToolboxOptions,
  awsDir: string | undefined,
  copyAws: boolean,
): Promise<void> {
  if (toolbox.mode === "archive") await copyDirectoryIn(toolbox.container, opts.projectRoot, opts.projectRoot);
  if (awsDir && (copyAws || toolbox.mode === "archive")) {
    await copyDirectoryIn(toolbox.container, path.dirname(awsDir), TOOLBOX_HOME, [path.basename(awsDir)]);
  }
}

export function isMissingBindSource(error: unknown): boolean {
  return /bind source path does not exist|invalid mount config/i.test(error instanceof Error ? error.message : String(error));
}

/**
 * A file only this machine has, for the main process to look for in the mounted workspace: there
 * when the engine mounts this machine's files, missing when it mounts another machine's path.
 */
export async function writeMountProbe(projectRoot: string): Promise<{ file: string; token: string; remove(): Promise<void> } | undefined> {
  const token = randomBytes(16).toString("hex");
  const file = path.join(projectRoot, `.eksbox-probe-${token.slice(0, 8)}`);
  try {
    await writeFile(file, token);
  } catch {
    return undefined;
  }
  return { file, token, remove: () => rm(file, { force: true }) };
}
