// Which engine answers (Docker or Podman, rootful or rootless, with or without a user namespace
// remap) and, from that, how the toolbox's processes must be mapped so that what they write into the
// project belongs to the user running eksbox. Everything that cannot work on that engine is refused
// here, before a container exists, rather than in the middle of a run.
import { statSync } from "node:fs";
import type Dockerode from "dockerode";
import { UserError } from "../core/errors.js";

export interface EngineKind {
  product: "docker" | "podman";
  version: string;
  /** The engine runs as an ordinary user: container root is that user, other ids are its sub-ids. */
  rootless: boolean;
  /** Docker's userns-remap: every container's ids are shifted onto a range of sub-ids. */
  usernsRemap: boolean;
  /** Rootless Podman: whether the engine's user has sub-ids beyond its own (undefined: not asked or unknown). */
  subIds?: boolean;
}

/** The fields of GET /info this module reads (Podman adds Rootless and BuildahVersion to Docker's). */
export interface EngineInfo {
  ServerVersion?: string;
  SecurityOptions?: string[] | null;
  Rootless?: boolean;
  BuildahVersion?: string;
}

export function engineKindFromInfo(info: EngineInfo): EngineKind {
  const options = info.SecurityOptions ?? [];
  const has = (name: string) => options.some((option) => option.split(",").includes(`name=${name}`));
  return {
    product: info.BuildahVersion !== undefined ? "podman" : "docker",
    version: info.ServerVersion ?? "unknown",
    rootless: info.Rootless === true || has("rootless"),
    usernsRemap: has("userns"),
  };
}

export async function detectEngineKind(docker: Dockerode): Promise<EngineKind> {
  const kind = engineKindFromInfo((await docker.info()) as EngineInfo);
  if (kind.product === "podman" && kind.rootless) kind.subIds = hasSubIds(await podmanIdMappings(docker));
  return kind;
}

interface IdMapping {
  container_id: number;
  host_id: number;
  size: number;
}

/** Podman's own API (not the Docker one) says how the rootless user's ids are mapped. */
function podmanIdMappings(docker: Dockerode): Promise<{ uidmap?: IdMapping[]; gidmap?: IdMapping[] } | undefined> {
  return new Promise((resolve) => {
    docker.modem.dial({ path: "/v4.0.0/libpod/info", method: "GET", statusCodes: { 200: true }, options: {} }, (error, data) =>
      resolve(
        error
          ? undefined
          : (data as { host?: { idMappings?: { uidmap?: IdMapping[]; gidmap?: IdMapping[] } } } | undefined)?.host?.idMappings,
      ),
    );
  });
}

/** Without sub-ids only the user's own id is mapped: no image with files of other owners can even be stored. */
export function hasSubIds(mappings: { uidmap?: IdMapping[]; gidmap?: IdMapping[] } | undefined): boolean | undefined {
  if (!mappings?.uidmap || !mappings.gidmap) return undefined;
  const total = (map: IdMapping[]) => map.reduce((sum, entry) => sum + entry.size, 0);
  return total(mappings.uidmap) > 1 && total(mappings.gidmap) > 1;
}

export function describeEngine(kind: EngineKind): string {
  return `${kind.product === "podman" ? "Podman" : "Docker"} ${kind.version}${kind.rootless ? " (rootless)" : ""}${kind.usernsRemap ? " (userns-remap)" : ""}`;
}

export interface ContainerUser {
  /** Who the toolbox's steps run as inside the container. */
  user: { uid: number; gid: number };
  /** HostConfig.UsernsMode, when the engine's default mapping would give the files to someone else. */
  usernsMode?: string;
}

export interface UserPlanInput {
  kind: EngineKind;
  /** Who eksbox runs as (undefined where there are no uids, as on Windows). */
  invoking: { uid: number; gid: number } | undefined;
  /** An explicit ToolboxOptions.user, when the caller chose one. */
  requested: { uid: number; gid: number } | undefined;
  /** Owner of the engine's unix socket when it is on this machine: for a rootless engine, whose files its containers write. */
  socketOwner: number | undefined;
  /** The workspace is copied in and out (archive mode): files come back as the invoking user whatever the mapping. */
  archive: boolean;
}

/**
 * How to map ids so that files written into a bind-mounted workspace are the invoking user's:
 *  - rootful engine: run as that uid:gid (ids are the host's);
 *  - Docker with userns-remap: the same, in the host's user namespace (UsernsMode "host");
 *  - rootless Podman: keep-id, which maps the engine owner's uid to itself inside the container;
 *  - rootless Docker (no keep-id): container root, which is the engine owner on the host.
 * A rootless engine can only give files to its owner: when that is someone else, nothing can fix it
 * from here, so it is refused.
 */
export function planContainerUser(input: UserPlanInput): ContainerUser {
  const { kind, invoking, requested, socketOwner, archive } = input;
  const wanted = requested ?? invoking ?? { uid: 0, gid: 0 };
  if (!kind.rootless) return kind.usernsRemap ? { user: wanted, usernsMode: "host" } : { user: wanted };

  const engine = describeEngine(kind);
  if (!archive && invoking && socketOwner !== undefined && socketOwner !== invoking.uid) {
    throw new UserError(
      `${engine} runs as uid ${socketOwner}, but eksbox runs as uid ${invoking.uid}: the files the toolbox writes into the project would belong to uid ${socketOwner}`,
      {
        hint:
          kind.product === "podman"
            ? "run eksbox as the user who runs `podman system service` (or point DOCKER_HOST at your own rootless Podman socket, $XDG_RUNTIME_DIR/podman/podman.sock)"
            : "run eksbox as the user who runs the rootless dockerd (or point DOCKER_HOST at your own, $XDG_RUNTIME_DIR/docker.sock)",
      },
    );
  }
  if (kind.product === "podman") {
    // Under keep-id the engine owner's ids appear unchanged in the container; other ids are sub-ids.
    return { user: requested ?? invoking ?? { uid: 0, gid: 0 }, usernsMode: "keep-id" };
  }
  // Rootless Docker has no keep-id: container root is the engine's owner.
  return { user: { uid: 0, gid: 0 } };
}

/** Refuses an engine that cannot run any toolbox, before an image is built or pulled on it. */
export function checkEngineUsable(kind: EngineKind): void {
  if (kind.subIds === false) {
    throw new UserError(
      `${describeEngine(kind)} has no sub-ids for its user: it can map only that one id, so no toolbox image can be stored or run`,
      {
        hint:
          "give the user who runs Podman ranges in /etc/subuid and /etc/subgid (`sudo usermod --add-subuids 100000-165535 " +
          "--add-subgids 100000-165535 <user>`, needs the uidmap package), then `podman system migrate`",
      },
    );
  }
}

/** Owner of a local unix socket, or undefined (remote engine, or not readable). */
export function socketOwner(socketPath: string | undefined): number | undefined {
  if (!socketPath) return undefined;
  try {
    return statSync(socketPath).uid;
  } catch {
    return undefined;
  }
}

/**
 * Engine answers at container creation or start that mean this engine cannot run the toolbox as
 * set up, turned into what to do about it: known causes get their own fix, any other refusal (an
 * engine error, HTTP 5xx) is reported with the engine's reason and where to look. What the engine
 * says is passed through `redact`. Anything else (the engine gone, a failed preparation, a request
 * the engine found invalid, which is eksbox's bug) is returned unchanged.
 */
export function explainContainerStartError(kind: EngineKind, error: unknown, redact: (text: string) => string = (text) => text): unknown {
  const message = redact(error instanceof Error ? error.message : String(error));
  const engine = describeEngine(kind);
  if (/container-init binary not found|init binary/i.test(message)) {
    return new UserError(`${engine} has no init binary for the toolbox container (${firstLine(message)})`, {
      hint:
        kind.product === "podman"
          ? "install catatonit (Debian/Ubuntu: `apt-get install catatonit`) or set init_path in containers.conf to tini or catatonit"
          : "install the engine's init (docker-init / tini) or set `init-path` in daemon.json",
      cause: error,
    });
  }
  if (/error setting rlimit/i.test(message)) {
    return new UserError(`${engine} cannot apply its default resource limits to the toolbox container (${firstLine(message)})`, {
      hint:
        kind.product === "podman"
          ? "the engine may not raise limits here (no CAP_SYS_RESOURCE, e.g. inside a container): set default_ulimits in containers.conf " +
            'to at most the current hard limits, e.g. `default_ulimits = ["nofile=<ulimit -Hn>:<ulimit -Hn>", "nproc=<n>:<n>"]`'
          : "lower the engine's default ulimits (`default-ulimits` in daemon.json) to what this machine allows",
      cause: error,
    });
  }
  if (/keep-id|newuidmap|newgidmap|uid_map|setgroups|there might not be enough IDs available/i.test(message)) {
    return new UserError(`${engine} cannot map your user into the toolbox container (${firstLine(message)})`, {
      hint: "a rootless engine needs newuidmap/newgidmap (package uidmap) and ranges for your user in /etc/subuid and /etc/subgid; then `podman system migrate`",
      cause: error,
    });
  }
  const missingSource = /bind source path does not exist: ([^\n]+)/.exec(message);
  if (missingSource) {
    // Docker checks a mount's source at create and again at start: the path can go in between.
    return new UserError(
      `${engine} cannot mount ${missingSource[1]!.trim()} into the toolbox container: it is not there (${firstLine(message)})`,
      {
        hint:
          "if it was moved or removed while eksbox started, run again where it is now; if the engine runs in a VM or on another " +
          "machine that does not share this path, share it, or set DOCKER_HOST to its tcp:// or ssh:// address and eksbox copies the workspace in",
        cause: error,
      },
    );
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 500) {
    return new UserError(`${engine} refused to start the toolbox container: ${redact(engineReason(error))}`, {
      hint: refusalHint(kind, message),
      cause: error,
    });
  }
  return error;
}

/** The engine's own words: the body's message (dockerode keeps it as `json`), else the error's text without dockerode's prefix. */
function engineReason(error: unknown): string {
  const body = (error as { json?: unknown }).json;
  const said = body && typeof body === "object" ? (body as { message?: unknown }).message : undefined;
  if (typeof said === "string" && said.trim()) return said.trim();
  return firstLine(error instanceof Error ? error.message : String(error));
}

/** Where the engine says more, and for a rootless engine the parts that most often refuse: its network and user namespaces. */
function refusalHint(kind: EngineKind, message: string): string {
  const unit = kind.product === "podman" ? "podman.service" : "docker.service";
  const log = `the engine's log says more (\`journalctl${kind.rootless ? " --user" : ""} -u ${unit}\` where systemd runs it)`;
  if (
    kind.rootless &&
    /sandbox|network|netns|namespace|slirp4netns|pasta|rootlesskit|\/dev\/net\/tun|operation not permitted/i.test(message)
  ) {
    const network =
      kind.product === "podman"
        ? "its network driver (pasta or slirp4netns installed, /dev/net/tun usable by the user)"
        : "its network driver (slirp4netns installed, /dev/net/tun usable by the user; DOCKERD_ROOTLESS_ROOTLESSKIT_NET)";
    return (
      `a rootless engine sets up each container's network and namespaces as its user: check ${network} and that user ` +
      `namespaces are allowed (sysctl user.max_user_namespaces > 0, kernel.unprivileged_userns_clone=1); ${log}`
    );
  }
  return `${log}; fix what it reports, then run again`;
}

function firstLine(message: string): string {
  return message
    .split("\n")[0]!
    .replace(/^\(HTTP code \d+\) [a-z ]+ - /, "")
    .trim()
    .slice(0, 300);
}

/**
 * The container is not running (or gone): Docker answers 409 (or 404); Podman answers 500
 * "container state improper" for an exec into a stopped container.
 */
export function isContainerNotRunningError(error: unknown): boolean {
  const status = (error as { statusCode?: number }).statusCode;
  if (status === 404 || status === 409) return true;
  return status === 500 && /container state improper/i.test(error instanceof Error ? error.message : String(error));
}
