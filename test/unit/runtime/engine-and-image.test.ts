import { createHash } from "node:crypto";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../../src/core/errors.js";
import { engineCandidates, hostOptions } from "../../../src/runtime/engine.js";
import { isMutableRef, parseImageRef } from "../../../src/runtime/image.js";
import { isStale, LABEL_OWNER } from "../../../src/runtime/labels.js";

describe("engine candidates", () => {
  it("DOCKER_HOST is the only candidate, like the docker CLI", () => {
    const candidates = engineCandidates({ DOCKER_HOST: "unix:///run/custom.sock" });
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.options).toMatchObject({ socketPath: "/run/custom.sock" });
    expect(candidates[0]!.remote).toBe(false);
  });

  it("without DOCKER_HOST: system, rootless, Desktop, Colima and Podman sockets in order", () => {
    const paths = engineCandidates({ HOME: "/home/u", XDG_RUNTIME_DIR: "/run/user/1000" }).map((c) => c.description);
    expect(paths[0]).toBe("/var/run/docker.sock");
    expect(paths).toContain("/run/user/1000/docker.sock");
    expect(paths).toContain("/home/u/.docker/run/docker.sock");
    expect(paths).toContain("/home/u/.colima/default/docker.sock");
    expect(paths).toContain("/run/user/1000/podman/podman.sock");
    expect(paths).toContain("/run/podman/podman.sock");
  });

  it("tcp with DOCKER_TLS_VERIFY uses https and the certificates in DOCKER_CERT_PATH", () => {
    const certs = mkdtempSync(path.join(tmpdir(), "certs-"));
    for (const name of ["ca.pem", "cert.pem", "key.pem"]) writeFileSync(path.join(certs, name), `${name}\n`);
    const { options, remote } = hostOptions("tcp://docker.example:2376", { DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs });
    expect(options).toMatchObject({ protocol: "https", host: "docker.example", port: "2376" });
    expect(String(options.ca)).toBe("ca.pem\n");
    expect(remote).toBe(true);
  });

  it("plain tcp on loopback is not remote; ssh is", () => {
    expect(hostOptions("tcp://127.0.0.1:2375", {})).toMatchObject({ options: { protocol: "http" }, remote: false });
    expect(hostOptions("ssh://deploy@build-host", { SSH_AUTH_SOCK: "/tmp/agent" })).toMatchObject({
      options: { protocol: "ssh", host: "build-host", username: "deploy" },
      remote: true,
    });
  });

  it("an unknown scheme is an UnavailableError that says what works", () => {
    expect(() => hostOptions("ftp://x", {})).toThrow(UnavailableError);
  });

  it("follows the current docker context", () => {
    const config = mkdtempSync(path.join(tmpdir(), "docker-config-"));
    writeFileSync(path.join(config, "config.json"), JSON.stringify({ currentContext: "colima" }));
    const meta = path.join(config, "contexts", "meta", createHash("sha256").update("colima").digest("hex"));
    mkdirSync(meta, { recursive: true });
    writeFileSync(
      path.join(meta, "meta.json"),
      JSON.stringify({ Endpoints: { docker: { Host: "unix:///home/u/.colima/default/docker.sock" } } }),
    );
    const candidates = engineCandidates({ DOCKER_CONFIG: config });
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.description).toContain('docker context "colima"');
  });
});

describe("image references", () => {
  it("parses registry ports, tags and digests", () => {
    expect(parseImageRef("registry:5000/team/toolbox:1.2.3")).toEqual({
      repository: "registry:5000/team/toolbox",
      tag: "1.2.3",
      digest: undefined,
    });
    expect(parseImageRef("toolbox@sha256:abc")).toEqual({ repository: "toolbox", digest: "sha256:abc" });
  });

  it("mutable: latest, no tag, moving names, bare major versions; not digests or content tags", () => {
    for (const ref of ["toolbox", "toolbox:latest", "ghcr.io/x/toolbox:main", "node:20", "node:20.1"])
      expect(isMutableRef(ref), ref).toBe(true);
    for (const ref of ["eksbox-toolbox:3f2a9c1b7d4e", "toolbox:1.2.3", "toolbox:latest@sha256:abc"])
      expect(isMutableRef(ref), ref).toBe(false);
  });
});

describe("stale containers", () => {
  it("stale: owner on this host gone (any state), or exited with a foreign owner; never a live owner's", () => {
    const live = `${hostname()}:${process.pid}`;
    const gone = `${hostname()}:2147483646`;
    expect(isStale({ State: "running", Labels: { [LABEL_OWNER]: gone } })).toBe(true);
    expect(isStale({ State: "created", Labels: { [LABEL_OWNER]: gone } })).toBe(true);
    expect(isStale({ State: "exited", Labels: { [LABEL_OWNER]: live } })).toBe(false);
    expect(isStale({ State: "created", Labels: { [LABEL_OWNER]: live } })).toBe(false);
    expect(isStale({ State: "running", Labels: { [LABEL_OWNER]: "ci-runner-7:12" } })).toBe(false);
    expect(isStale({ State: "created", Labels: { [LABEL_OWNER]: "ci-runner-7:12" } })).toBe(false);
    expect(isStale({ State: "exited", Labels: { [LABEL_OWNER]: "ci-runner-7:12" } })).toBe(true);
    expect(isStale({ State: "exited", Labels: {} })).toBe(true);
  });
});

describe("pulling an image", () => {
  it("an error inside the progress stream (HTTP 200) is detected", async () => {
    const { Readable } = await import("node:stream");
    const { MemorySink } = await import("../../../src/core/events.js");
    const { pullImage } = await import("../../../src/runtime/image.js");
    const progress = [
      JSON.stringify({ status: "Pulling from team/toolbox", id: "1.2.3" }),
      JSON.stringify({ errorDetail: { message: "manifest unknown" }, error: "manifest unknown" }),
    ].join("\n");
    const docker = { pull: async () => Readable.from([Buffer.from(progress)]) } as never;
    const sink = new MemorySink();
    await expect(pullImage(docker, "team/toolbox:1.2.3", sink)).rejects.toThrow("manifest unknown");
    expect(sink.events.map((e) => (e as { line?: string }).line)).toContain("Pulling from team/toolbox");
  });
});
