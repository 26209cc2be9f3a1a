// The entry point of the runtime: openToolbox connects to the engine, sweeps leftovers, makes sure
// the image exists and starts the run's toolbox container, binding the workspace or copying it.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { AbortedError, InternalError, UserError } from "../core/errors.js";
import { log } from "../core/events.js";
import { envPaths } from "../core/layout.js";
import { isMissingBindSource, setUpContainer, startContainer, TOOLBOX_HOME, writeMountProbe, type MountProbe } from "./container.js";
import { buildContainerEnv, withoutHostCredentials } from "./container-env.js";
import { CredentialBroker, CredentialSource } from "./credentials.js";
import { DockerToolbox, type ToolboxCredentialAccess, type WorkspaceMode } from "./docker-toolbox.js";
import { connectEngine } from "./engine.js";
import {
  checkEngineUsable,
  describeEngine,
  detectEngineKind,
  explainContainerStartError,
  planContainerUser,
  socketOwner,
} from "./engine-kind.js";
import { resolveToolboxImage } from "./image.js";
import { sweepStaleContainers } from "./labels.js";
import { Redactor } from "./redact.js";
import type { ToolboxOptions } from "./types.js";
import { runningInContainer } from "./workspace.js";

export { connectEngine } from "./engine.js";
export { sweepStaleContainers } from "./labels.js";
export { DockerToolbox, type WorkspaceMode } from "./docker-toolbox.js";
export { TOOLBOX_HOME } from "./container.js";

/** How steps get the brokered credentials: over loopback, or in each step's environment. */
export type CredentialDelivery = "broker" | "step-env";

/**
 * The broker is reachable at 127.0.0.1 only when the toolbox shares eksbox's network namespace: a
 * local engine and host networking, and then the container checks it (Docker Desktop's VM, or
 * eksbox in a container of its own, have another "host"). EKSBOX_CREDENTIAL_DELIVERY=step-env
 * skips the broker.
 */
export function credentialDelivery(opts: { remote: boolean; networkMode?: string; processEnv: NodeJS.ProcessEnv }): CredentialDelivery {
  const forced = opts.processEnv.EKSBOX_CREDENTIAL_DELIVERY;
  if (forced === "broker" || forced === "step-env") return forced;
  return !opts.remote && (opts.networkMode ?? "host") === "host" ? "broker" : "step-env";
}

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
  const source = options.credentials
    ? new CredentialSource(
        {
          profile: options.aws?.profile,
          region: options.aws?.region,
          endpointUrl: options.aws?.endpointUrl,
          assumeRole: options.credentials.assumeRole,
          envName: options.envName,
          processEnv: options.processEnv,
          now: options.credentials.now,
        },
        redactor,
      )
    : undefined;
  // Resolved while the image is looked up; a failure is looked at below.
  const firstCredentials = source?.get().then(
    () => undefined,
    (error: unknown) => (error instanceof Error ? error : new InternalError(String(error))),
  );
  const image = await resolveToolboxImage(docker, {
    projectRoot: options.projectRoot,
    imageRef: options.imageRef,
    processEnv: options.processEnv,
    events: options.events,
    signal: options.interrupter.signal,
    onlyIfPresent: options.onlyIfImagePresent,
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
  const hostAws = path.join(options.processEnv.HOME || homedir(), ".aws");
  let awsDir = existsSync(hostAws) ? hostAws : undefined;
  const credentialError = await firstCredentials;
  let access: ToolboxCredentialAccess | undefined;
  if (source && credentialError !== undefined) {
    // A role that cannot be assumed is an error; no credentials at all may still be found by the
    // toolbox itself (a credential_process only the image has): it looks, as before the broker.
    if (source.assumesRole || !(credentialError instanceof UserError)) throw credentialError;
    log.warn(options.events, `${credentialError.message}; the toolbox gets ~/.aws and the AWS_* variables as they are`);
  } else if (source) {
    const delivery = credentialDelivery({ remote, networkMode: options.networkMode, processEnv: options.processEnv });
    // The tools inside must not find other credentials first (their chain reads the variables and
    // ~/.aws before the container endpoint), so neither goes in.
    withoutHostCredentials(env);
    awsDir = undefined;
    if (delivery === "broker") {
      const broker = await CredentialBroker.start(source, redactor);
      Object.assign(env, broker.endpoint);
      access = { source, broker };
    } else {
      access = { source };
    }
    log.debug(
      options.events,
      `credentials resolved on this machine${options.credentials?.assumeRole ? ` and ${options.credentials.assumeRole.roleArn} assumed` : ""}`,
    );
  }
  redactor.addFromEnv(env);

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
    const brokerPort = access?.broker?.port;
    const { container, keepAlive, probe, broker } = await startContainer({
      docker,
      opts: options,
      image,
      mode: chosen,
      env,
      awsDir,
      copyAws,
      probe: probeFile,
      usernsMode: placement.usernsMode,
      brokerPort,
    }).catch((error: unknown) => {
      throw explainContainerStartError(kind, error, (text) => redactor.redact(text));
    });
    if (access?.broker && broker !== "reachable") {
      // Another network namespace (Docker Desktop's VM, eksbox in a container): steps get the credentials instead.
      log.debug(options.events, "the toolbox cannot reach the credential broker on 127.0.0.1: credentials go into each step's environment");
      await access.broker.stop();
      access.broker = undefined;
    }
    if (access)
      log.debug(options.events, `credentials served ${access.broker ? "by the broker on 127.0.0.1" : "in each step's environment"}`);
    return { toolbox: new DockerToolbox(docker, container, keepAlive, image, chosen, redactor, options, access), probe };
  };
  const switchToArchive = async () => {
    log.info(options.events, "the engine cannot see this workspace (eksbox runs in a container?): copying it in and results back");
    if (kind.product === "podman") {
      // Docker refuses a missing mount source; Podman creates it. (Copying instead of probing would
      // be worse: files a step renders on this side after the start would never reach the container.)
      log.warn(
        options.events,
        `Podman may have created an empty directory ${options.projectRoot} on its host for the probe mount; remove it there if so`,
      );
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
        // The broker serves the next container.
        await toolbox.dispose({ keepCredentials: true });
        toolbox = await switchToArchive();
      }
    } catch (error) {
      if (!(mustProbe && isMissingBindSource(error))) throw error;
      toolbox = await switchToArchive();
    }
  } catch (error) {
    await access?.broker?.stop();
    throw error;
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
