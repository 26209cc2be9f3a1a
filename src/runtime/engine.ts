// Finding a Docker-compatible engine the way the docker CLI does: DOCKER_HOST (or the current
// docker context) when set, otherwise the usual sockets of Docker, rootless Docker, Docker
// Desktop, Colima and Podman. The first that answers a ping wins; when none does, one message
// says what was tried and how to start an engine.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { dockerodeClass } from "./dockerode-lib.js";
import { UnavailableError } from "../core/errors.js";

export interface EngineCandidate {
  /** For messages: "DOCKER_HOST=tcp://...", "/var/run/docker.sock". */
  description: string;
  options: Dockerode.DockerOptions;
}

export interface EngineConnection {
  docker: Dockerode;
  description: string;
  /** The engine cannot see this machine's files (tcp or ssh): bind mounts of host paths would be wrong. */
  remote: boolean;
  /** The unix socket it answered on, when it is one. */
  socketPath?: string;
}

const PING_TIMEOUT_MS = 5_000;

// docker-modem fills gaps from the real process.env; every key is set so a test's processEnv rules.
function socketOptions(socketPath: string): Dockerode.DockerOptions {
  return { socketPath, host: undefined, port: undefined, protocol: undefined } as Dockerode.DockerOptions;
}

function readCertificates(certPath: string): Pick<Dockerode.DockerOptions, "ca" | "cert" | "key"> {
  const read = (name: string) => readFileSync(join(certPath, name));
  return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
}

/** Parses a docker host URL (unix://, tcp://, ssh://) into dockerode options. */
export function hostOptions(hostUrl: string, processEnv: NodeJS.ProcessEnv): { options: Dockerode.DockerOptions; remote: boolean } {
  if (hostUrl.startsWith("unix://")) return { options: socketOptions(hostUrl.slice("unix://".length)), remote: false };
  if (hostUrl.startsWith("npipe://")) return { options: socketOptions(hostUrl.slice("npipe://".length)), remote: false };
  const url = new URL(hostUrl.includes("://") ? hostUrl : `tcp://${hostUrl}`);
  if (url.protocol === "ssh:") {
    return {
      options: {
        protocol: "ssh",
        host: url.hostname,
        port: url.port || 22,
        username: url.username || undefined,
        sshOptions: { agent: processEnv.SSH_AUTH_SOCK },
        socketPath: undefined,
      } as Dockerode.DockerOptions,
      remote: true,
    };
  }
  if (url.protocol !== "tcp:" && url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UnavailableError(`DOCKER_HOST=${hostUrl} uses an unsupported scheme ${url.protocol}`, {
      hint: "use unix:///path/to/docker.sock, tcp://host:2376 or ssh://user@host",
    });
  }
  const tlsVerify =
    processEnv.DOCKER_TLS_VERIFY !== undefined && processEnv.DOCKER_TLS_VERIFY !== "" && processEnv.DOCKER_TLS_VERIFY !== "0";
  const useTls = tlsVerify || url.protocol === "https:" || url.port === "2376";
  const options: Dockerode.DockerOptions = {
    protocol: useTls ? "https" : "http",
    host: url.hostname,
    port: url.port || (useTls ? 2376 : 2375),
    socketPath: undefined,
  };
  if (useTls) {
    const certPath = processEnv.DOCKER_CERT_PATH || join(processEnv.HOME || homedir(), ".docker");
    if (existsSync(join(certPath, "ca.pem"))) Object.assign(options, readCertificates(certPath));
  }
  return { options, remote: !isLoopback(url.hostname) };
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "127.0.0.1" || host === "::1" || host === "[::1]";
}

/** The endpoint of the current docker context, when one other than "default" is selected. */
function contextHost(processEnv: NodeJS.ProcessEnv): { name: string; host: string } | undefined {
  const configDir = processEnv.DOCKER_CONFIG || join(processEnv.HOME || homedir(), ".docker");
  let name = processEnv.DOCKER_CONTEXT;
  if (!name) {
    try {
      name = (JSON.parse(readFileSync(join(configDir, "config.json"), "utf8")) as { currentContext?: string }).currentContext;
    } catch {
      return undefined;
    }
  }
  if (!name || name === "default") return undefined;
  const digest = createHash("sha256").update(name).digest("hex");
  try {
    const meta = JSON.parse(readFileSync(join(configDir, "contexts", "meta", digest, "meta.json"), "utf8")) as {
      Endpoints?: { docker?: { Host?: string } };
    };
    const host = meta.Endpoints?.docker?.Host;
    return host ? { name, host } : undefined;
  } catch {
    return undefined;
  }
}

/** The engines to try, in order. An explicit DOCKER_HOST or context is the only candidate, as with the docker CLI. */
export function engineCandidates(processEnv: NodeJS.ProcessEnv): Array<EngineCandidate & { remote: boolean }> {
  if (processEnv.DOCKER_HOST) {
    const { options, remote } = hostOptions(processEnv.DOCKER_HOST, processEnv);
    return [{ description: `DOCKER_HOST=${processEnv.DOCKER_HOST}`, options, remote }];
  }
  const context = contextHost(processEnv);
  if (context) {
    const { options, remote } = hostOptions(context.host, processEnv);
    return [{ description: `docker context "${context.name}" (${context.host})`, options, remote }];
  }
  const home = processEnv.HOME || homedir();
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const runtimeDir = processEnv.XDG_RUNTIME_DIR || (uid !== undefined ? `/run/user/${uid}` : undefined);
  const sockets = [
    "/var/run/docker.sock",
    runtimeDir && join(runtimeDir, "docker.sock"),
    join(home, ".docker", "run", "docker.sock"),
    join(home, ".docker", "desktop", "docker.sock"),
    join(home, ".colima", "default", "docker.sock"),
    join(home, ".rd", "docker.sock"),
    runtimeDir && join(runtimeDir, "podman", "podman.sock"),
    "/run/podman/podman.sock",
  ].filter((path): path is string => Boolean(path));
  return [...new Set(sockets)].map((path) => ({ description: path, options: socketOptions(path), remote: false }));
}

function whyNot(candidate: EngineCandidate, error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such socket";
  if (code === "EACCES") return "permission denied (add yourself to the docker group, or use rootless Docker)";
  if (code === "ECONNREFUSED") return "connection refused (no engine listening)";
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 200) || `no answer from ${candidate.description}`;
}

async function ping(options: Dockerode.DockerOptions): Promise<void> {
  const probe = new (dockerodeClass())({ ...options, timeout: PING_TIMEOUT_MS });
  await probe.ping();
}

/** Connects to the first engine that answers, or throws UnavailableError listing every attempt. */
export async function connectEngine(processEnv: NodeJS.ProcessEnv): Promise<EngineConnection> {
  const tried: string[] = [];
  for (const candidate of engineCandidates(processEnv)) {
    const socketPath = (candidate.options as { socketPath?: string }).socketPath;
    if (socketPath && !socketExists(socketPath)) {
      tried.push(`  ${candidate.description}: no such socket`);
      continue;
    }
    try {
      await ping(candidate.options);
      return {
        docker: new (dockerodeClass())(candidate.options),
        description: candidate.description,
        remote: candidate.remote,
        socketPath,
      };
    } catch (error) {
      tried.push(`  ${candidate.description}: ${whyNot(candidate, error)}`);
    }
  }
  throw new UnavailableError(`no Docker engine answered; tried:\n${tried.join("\n")}`, {
    hint:
      "start one (Linux: `sudo systemctl start docker`, or `dockerd-rootless-setuptool.sh install`; " +
      "macOS/Windows: open Docker Desktop, or `colima start`; Podman: `systemctl --user start podman.socket`), " +
      "or point DOCKER_HOST at a running engine",
  });
}

function socketExists(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}
