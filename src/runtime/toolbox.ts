// The entry point of the runtime: openToolbox connects to the engine, sweeps leftovers, makes sure
// the image exists and starts the run's toolbox container, binding the workspace or copying it.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { AbortedError } from "../core/errors.js";
import { log } from "../core/events.js";
import { envPaths } from "../core/layout.js";
import { isMissingBindSource, setUpContainer, startContainer, TOOLBOX_HOME, writeMountProbe, type MountProbe } from "./container.js";
import { buildContainerEnv } from "./container-env.js";
import { DockerToolbox, type WorkspaceMode } from "./docker-toolbox.js";
import { connectEngine } from "./engine.js";
import { checkEngineUsable, describeEngine, detectEngineKind, explainContainerStartError, planContainerUser, socketOwner } from "./engine-kind.js";
import { resolveToolboxImage } from "./image.js";
import { sweepStaleContainers } from "./labels.js";
import { Redactor } from "./redact.js";
import type { ToolboxOptions } from "./types.js";
import { runningInContainer } from "./workspace.js";

export { connectEngine } from "./engine.js";
export { sweepStaleContainers } from "./labels.js";
export { DockerToolbox, type WorkspaceMode } from "./docker-toolbox.js";
export { TOOLBOX_HOME } from "./container.js";

function defaultUser(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== "function" || typeof process.getgid !== "function") return undefined;
  return { uid: process.getuid(), gid: process.getgid() };
}

/**
 * Connects to the engine, sweeps leftovers, makes sure the image exists and starts the toolbox
 * container. The caller must `dispose()` it in a `finally`.
 */
export async function openToolbox(opts: ToolboxOptions): Promise<DockerToolbox> {
  const options: ToolboxOptions = { ...opts, user: opts.user ?? defaultUser(), projectRoot: path.resolve(opts.projectRoot) };
  const redactor = (options.redactor ?? new Redactor()).addFromEnv(options.processEnv);
  const { docker, remote, description, socketPath } = await connectEngine(options.processEnv);
  log.debug(options.events, `docker engine: ${description}`);
  // Podman answers /info slowly (half a second): asked while the sweep runs.
  const detecting = detectEngineKind(docker);
  detecting.catch(() => undefined);
  await sweepStaleContainers(docker, options.events);
  const kind = await detecting;
  log.debug(options.events, `engine kind: ${describeEngine(kind)}`);
  checkEngineUsable(kind);
  const image = await resolveToolboxImage(docker, {
    projectRoot: options.projectRoot,
    imageRef: options.imageRef,
    processEnv: options.processEnv,
    events: options.events,
    signal: options.interrupter.signal,
  });
  if (options.interrupter.level > 0) throw new AbortedError("interrupted before the toolbox started");

  const env = buildContainerEnv({
    processEnv: options.processEnv,
    aws: options.aws,
    home: TOOLBOX_HOME,
    envName: options.envName,
    passEnv: options.passEnv,
    kubeconfig: options.envName ? path.posix.join(options.projectRoot, envPaths(options.envName).kubeconfig) : undefined,
  });
  redactor.addFromEnv(env);
  const hostAws = path.join(options.processEnv.HOME || homedir(), ".aws");
  const awsDir = existsSync(hostAws) ? hostAws : undefined;

  const requested = options.mode ?? "auto";
  let mode: WorkspaceMode = requested === "archive" || (requested === "auto" && remote) ? "archive" : "bind";
  const mustProbe = requested === "auto" && mode === "bind" && runningInContainer();
  // Who the steps run as, and the user namespace that makes their files the invoking user's (or a refusal).
  const placement = planContainerUser({
    kind,
    invoking: defaultUser(),
    requested: opts.user,
    socketOwner: remote ? undefined : socketOwner(socketPath),
    archive: mode === "archive",
  });
  options.user = placement.user;

  // In a container, the engine's idea of our HOME is another machine's: never mount ~/.aws from there.
  const copyAws = mode === "archive" || mustProbe;
  const probeFile = mustProbe ? await writeMountProbe(options.projectRoot) : undefined;
  const open = async (chosen: WorkspaceMode): Promise<{ toolbox: DockerToolbox; probe: MountProbe }> => {
    const { container, keepAlive, probe } = await startContainer({ docker, opts: options, image, mode: chosen, env, awsDir, copyAws, probe: probeFile, usernsMode: placement.usernsMode }).catch(
      (error: unknown) => {
        throw explainContainerStartError(kind, error);
      },
    );
    return { toolbox: new DockerToolbox(docker, container, keepAlive, image, chosen, redactor, options), probe };
  };
  const switchToArchive = async () => {
    log.info(options.events, "the engine cannot see this workspace (eksbox runs in a container?): copying it in and results back");
    if (kind.product === "podman") {
      // Docker refuses a missing mount source; Podman creates it. (Copying instead of probing would
      // be worse: files a step renders on this side after the start would never reach the container.)
      log.warn(options.events, `Podman may have created an empty directory ${options.projectRoot} on its host for the probe mount; remove it there if so`);
    }
    mode = "archive";
    return (await open(mode)).toolbox;
  };

  let toolbox: DockerToolbox;
  try {
    try {
      const opened = await open(mode);
      toolbox = opened.toolbox;
      if (mustProbe && mode === "bind" && opened.probe !== "bind") {
        await toolbox.dispose();
        toolbox = await switchToArchive();
      }
    } catch (error) {
      if (!(mustProbe && isMissingBindSource(error))) throw error;
      toolbox = await switchToArchive();
    }
  } finally {
    await probeFile?.remove();
  }
  try {
    await setUpContainer(toolbox, options, awsDir, copyAws);
    if (options.interrupter.level > 0) throw new AbortedError("interrupted before the toolbox started");
    toolbox.watchInterrupts();
    log.debug(options.events, `toolbox container ${toolbox.container.id.slice(0, 12)} (${mode} mode) from ${image.ref}`);
    return toolbox;
  } catch (error) {
    await toolbox.dispose().catch(() => undefined);
    throw error;
  }
}
