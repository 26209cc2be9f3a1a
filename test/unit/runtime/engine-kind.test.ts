// Which engine answers and how the toolbox's ids are mapped on it, from the engines' real /info
// answers (fields as Docker 20.10 and Podman 4.3 send them); what cannot work is refused up front.
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.js";
import {
  checkEngineUsable,
  engineKindFromInfo,
  hasSubIds,
  explainContainerStartError,
  isContainerNotRunningError,
  planContainerUser,
  type EngineKind,
} from "../../../src/runtime/engine-kind.js";
import { isMissingBindSource } from "../../../src/runtime/container.js";

const dockerRootful = { ServerVersion: "20.10.24+dfsg1", SecurityOptions: ["name=seccomp,profile=default"] };
const dockerRootless = {
  ServerVersion: "20.10.24+dfsg1",
  SecurityOptions: ["name=seccomp,profile=default", "name=rootless", "name=cgroupns"],
};
const dockerRemap = { ServerVersion: "20.10.24+dfsg1", SecurityOptions: ["name=seccomp,profile=default", "name=userns"] };
const podmanRootful = {
  ServerVersion: "4.3.1",
  SecurityOptions: ["name=seccomp,profile=default"],
  Rootless: false,
  BuildahVersion: "1.28.2",
};
const podmanRootless = {
  ServerVersion: "4.3.1",
  SecurityOptions: ["name=seccomp,profile=default", "name=rootless"],
  Rootless: true,
  BuildahVersion: "1.28.2",
};

const me = { uid: 1000, gid: 1000 };
const plan = (kind: EngineKind, extra: Partial<Parameters<typeof planContainerUser>[0]> = {}) =>
  planContainerUser({ kind, invoking: me, requested: undefined, socketOwner: undefined, archive: false, ...extra });

describe("engine kind from /info", () => {
  it("tells Docker from Podman, rootful from rootless, and sees userns-remap", () => {
    expect(engineKindFromInfo(dockerRootful)).toEqual({
      product: "docker",
      version: "20.10.24+dfsg1",
      rootless: false,
      usernsRemap: false,
    });
    expect(engineKindFromInfo(dockerRootless)).toMatchObject({ product: "docker", rootless: true, usernsRemap: false });
    expect(engineKindFromInfo(dockerRemap)).toMatchObject({ product: "docker", rootless: false, usernsRemap: true });
    expect(engineKindFromInfo(podmanRootful)).toMatchObject({ product: "podman", version: "4.3.1", rootless: false });
    expect(engineKindFromInfo(podmanRootless)).toMatchObject({ product: "podman", rootless: true });
    expect(engineKindFromInfo({ SecurityOptions: null })).toMatchObject({ product: "docker", version: "unknown", rootless: false });
  });
});

describe("who the steps run as", () => {
  it("rootful Docker and Podman: the invoking uid:gid, no user namespace", () => {
    expect(plan(engineKindFromInfo(dockerRootful))).toEqual({ user: me });
    expect(plan(engineKindFromInfo(podmanRootful))).toEqual({ user: me });
    expect(plan(engineKindFromInfo(podmanRootful), { requested: { uid: 4321, gid: 4322 } })).toEqual({ user: { uid: 4321, gid: 4322 } });
  });

  it("Docker with userns-remap: the invoking uid in the host's user namespace, not a shifted sub-id", () => {
    expect(plan(engineKindFromInfo(dockerRemap))).toEqual({ user: me, usernsMode: "host" });
  });

  it("rootless Podman: keep-id, never the host uid inside the engine's own namespace", () => {
    expect(plan(engineKindFromInfo(podmanRootless), { socketOwner: 1000 })).toEqual({ user: me, usernsMode: "keep-id" });
  });

  it("rootless Docker: container root, which is the engine's owner on the host", () => {
    expect(plan(engineKindFromInfo(dockerRootless), { socketOwner: 1000 })).toEqual({ user: { uid: 0, gid: 0 } });
  });

  it("a rootless engine owned by someone else is refused at start, naming the engine and what to do", () => {
    for (const info of [podmanRootless, dockerRootless]) {
      const kind = engineKindFromInfo(info);
      const error = (() => {
        try {
          plan(kind, { socketOwner: 1002 });
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toMatch(
        kind.product === "podman"
          ? /^Podman 4\.3\.1 \(rootless\) runs as uid 1002, but eksbox runs as uid 1000/
          : /^Docker .* \(rootless\) runs as uid 1002/,
      );
      expect((error as UserError).hint).toMatch(kind.product === "podman" ? /podman system service/ : /rootless dockerd/);
    }
  });

  it("archive mode and remote engines are not refused: copied-back files are the invoking user's anyway", () => {
    expect(plan(engineKindFromInfo(podmanRootless), { socketOwner: 1002, archive: true })).toEqual({ user: me, usernsMode: "keep-id" });
    expect(plan(engineKindFromInfo(podmanRootless), { socketOwner: undefined })).toEqual({ user: me, usernsMode: "keep-id" });
  });
});

describe("rootless Podman without sub-ids", () => {
  // idMappings as /v4.0.0/libpod/info reports them for a user with and without /etc/subuid ranges.
  const own = { container_id: 0, host_id: 1002, size: 1 };
  const withSubIds = {
    uidmap: [own, { container_id: 1, host_id: 165536, size: 65536 }],
    gidmap: [own, { container_id: 1, host_id: 165536, size: 65536 }],
  };
  const single = { uidmap: [own], gidmap: [own] };

  it("is seen in the id mappings", () => {
    expect(hasSubIds(withSubIds)).toBe(true);
    expect(hasSubIds(single)).toBe(false);
    expect(hasSubIds(undefined)).toBeUndefined();
  });

  it("is refused before any image is built or pulled, with the commands that fix it", () => {
    const kind = { ...engineKindFromInfo(podmanRootless), subIds: false };
    expect(() => checkEngineUsable(kind)).toThrow(UserError);
    expect(() => checkEngineUsable(kind)).toThrow(/^Podman 4\.3\.1 \(rootless\) has no sub-ids for its user/);
    try {
      checkEngineUsable(kind);
    } catch (error) {
      expect((error as UserError).hint).toMatch(/usermod --add-subuids .*`podman system migrate`/);
    }
    expect(() => checkEngineUsable({ ...kind, subIds: true })).not.toThrow();
    expect(() => checkEngineUsable(engineKindFromInfo(dockerRootful))).not.toThrow();
  });
});

describe("engine answers that mean the toolbox cannot start", () => {
  const podman = engineKindFromInfo(podmanRootful);
  const httpError = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message}`), { statusCode });

  it("Podman without catatonit: what to install", () => {
    const error = explainContainerStartError(
      podman,
      httpError(
        500,
        "container create: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: no such file or directory",
      ),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      /^Podman 4\.3\.1 has no init binary for the toolbox container \(container create: container-init binary not found/,
    );
    expect((error as UserError).hint).toContain("apt-get install catatonit");
  });

  it("limits the engine may not raise: where to lower them", () => {
    const error = explainContainerStartError(
      podman,
      httpError(
        500,
        "runc: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted",
      ),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toContain("default_ulimits in containers.conf");
  });

  it("rootless without newuidmap or sub-ids: what to install and configure", () => {
    const error = explainContainerStartError(
      engineKindFromInfo(podmanRootless),
      httpError(500, 'cannot set up namespace using "/usr/bin/newuidmap": exit status 1'),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toMatch(/uidmap.*\/etc\/subuid/);
  });

  it("a mount source Docker cannot find: which path, and what to do about it", () => {
    const error = explainContainerStartError(
      engineKindFromInfo(dockerRootful),
      Object.assign(
        new Error(
          '(HTTP code 400) unexpected - invalid mount config for type "bind": bind source path does not exist: /home/me/my project ',
        ),
        { statusCode: 400 },
      ),
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(
      "Docker 20.10.24+dfsg1 cannot mount /home/me/my project into the toolbox container: it is not there " +
        '(invalid mount config for type "bind": bind source path does not exist: /home/me/my project)',
    );
    expect((error as UserError).hint).toMatch(/run again where it is now.*DOCKER_HOST/);
    // Still recognised as a missing source: a probing run switches to copying the workspace in.
    expect(isMissingBindSource(error)).toBe(true);
  });

  it("anything else passes through unchanged", () => {
    const other = httpError(500, "no space left on device");
    expect(explainContainerStartError(podman, other)).toBe(other);
  });

  it("an exec into a stopped container: Docker's 409 and Podman's 500 'container state improper' alike", () => {
    expect(isContainerNotRunningError(httpError(409, "Container abc is not running"))).toBe(true);
    expect(isContainerNotRunningError(httpError(404, "no such container"))).toBe(true);
    expect(
      isContainerNotRunningError(httpError(500, "can only create exec sessions on running containers: container state improper")),
    ).toBe(true);
    expect(isContainerNotRunningError(httpError(500, "some other failure"))).toBe(false);
  });
});
