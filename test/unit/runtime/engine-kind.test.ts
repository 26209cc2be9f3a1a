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
import { Redactor } from "../../../src/runtime/redact.js";
import { renderError } from "../../../src/output/errors.js";

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

  // What docker-modem rejects with: the status, its own wording, the engine's JSON body, and its stack.
  const modemError = (statusCode: number, message: string) =>
    Object.assign(new Error(`(HTTP code ${statusCode}) server error - ${message} `), {
      statusCode,
      reason: "server error",
      json: { message: `${message}\n` },
    });

  it("any other refusal of the start: the engine, its reason in its own words, where to look; no dockerode wording or stack", () => {
    const reason =
      "failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: " +
      "unable to start container process: error during container init: open /proc/sys/net/core/somaxconn: permission denied: unknown";
    const raw = modemError(500, reason);
    const error = explainContainerStartError(engineKindFromInfo(dockerRootful), raw);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`Docker 20.10.24+dfsg1 refused to start the toolbox container: ${reason}`);
    expect((error as UserError).hint).toBe(
      "the engine's log says more (`journalctl -u docker.service` where systemd runs it); fix what it reports, then run again",
    );
    expect((error as UserError).cause).toBe(raw);
    // What the CLI prints for it: message and hint, never the modem's stack.
    const rendered = renderError(error);
    expect(rendered).toBe(`error: ${(error as UserError).message}\n  ${(error as UserError).hint}\n`);
    expect(rendered).not.toMatch(/HTTP code|server error -|docker-modem|\n\s+at /);
  });

  it("a rootless engine that cannot set up the container's network: its network driver and user namespaces", () => {
    const reason = "failed to create endpoint on network host: failed to create default sandbox: operation not permitted";
    const docker = explainContainerStartError(engineKindFromInfo(dockerRootless), modemError(500, reason)) as UserError;
    expect(docker.message).toBe(`Docker 20.10.24+dfsg1 (rootless) refused to start the toolbox container: ${reason}`);
    expect(docker.hint).toMatch(/slirp4netns.*\/dev\/net\/tun.*user\.max_user_namespaces.*`journalctl --user -u docker\.service`/);
    const podmanRootlessError = explainContainerStartError(engineKindFromInfo(podmanRootless), modemError(500, reason)) as UserError;
    expect(podmanRootlessError.message).toMatch(/^Podman 4\.3\.1 \(rootless\) refused to start the toolbox container: failed to create/);
    expect(podmanRootlessError.hint).toMatch(/pasta or slirp4netns.*`journalctl --user -u podman\.service`/);
  });

  it("the engine's words go through the run's secret masking", () => {
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const redactor = Redactor.fromEnv({ AWS_SECRET_ACCESS_KEY: secret });
    const error = explainContainerStartError(
      podman,
      modemError(500, `OCI runtime create failed: bad env AWS_SECRET_ACCESS_KEY=${secret}`),
      (text) => redactor.redact(text),
    ) as UserError;
    expect(error.message).toBe(
      "Podman 4.3.1 refused to start the toolbox container: OCI runtime create failed: bad env AWS_SECRET_ACCESS_KEY=***",
    );
    const ulimits = explainContainerStartError(podman, modemError(500, `error setting rlimit type 7 ${secret}`), (text) =>
      redactor.redact(text),
    ) as UserError;
    expect(ulimits.message).not.toContain(secret);
  });

  it("without a JSON body, the reason is the error's text without dockerode's prefix", () => {
    const error = explainContainerStartError(podman, httpError(500, "no space left on device")) as UserError;
    expect(error.message).toBe("Podman 4.3.1 refused to start the toolbox container: no space left on device");
    expect(error.hint).toContain("`journalctl -u podman.service`");
  });

  it("anything else passes through unchanged: the engine gone, a request it found invalid (eksbox's bug), a failed preparation", () => {
    const gone = Object.assign(new Error("connect ECONNREFUSED /var/run/docker.sock"), { code: "ECONNREFUSED" });
    expect(explainContainerStartError(podman, gone)).toBe(gone);
    const invalid = httpError(400, "invalid isolation: unknown");
    expect(explainContainerStartError(podman, invalid)).toBe(invalid);
    const notAnError = "preparing the toolbox container failed";
    expect(explainContainerStartError(podman, notAnError)).toBe(notAnError);
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
