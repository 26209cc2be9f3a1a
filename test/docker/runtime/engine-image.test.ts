// Engine discovery against the real engine and dead sockets, image resolution (missing image,
// explicit override, mutable tag warning) and the sweep of containers left by crashed runs.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, UnavailableError, UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { LABEL_OWNER, LABEL_RUN_ID, LABEL_TOOL } from "../../../src/runtime/labels.js";
import { connectEngine, openToolbox, sweepStaleContainers } from "../../../src/runtime/toolbox.js";
import { containersOfRun, docker, ensureTestImage, newRunId, engineEnv } from "./support.js";

let imageRef: string;
let workspace: string;

beforeAll(async () => {
  imageRef = await ensureTestImage();
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-ws-"));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

describe("engine discovery", () => {
  it("finds the default socket when DOCKER_HOST is unset", async () => {
    const { docker: found, description } = await connectEngine({ HOME: workspace });
    expect(description).toBe("/var/run/docker.sock");
    expect((await found.version()).ApiVersion).toBeTruthy();
  });

  it("uses DOCKER_HOST=unix://... as the only candidate", async () => {
    const { description } = await connectEngine({ DOCKER_HOST: "unix:///var/run/docker.sock" });
    expect(description).toBe("DOCKER_HOST=unix:///var/run/docker.sock");
  });

  it("engine down: one UnavailableError (exit 69) saying what was tried and how to start one", async () => {
    const dead = path.join(workspace, "dead.sock");
    const error = await connectEngine({ DOCKER_HOST: `unix://${dead}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as UnavailableError).exitCode).toBe(ExitCode.unavailable);
    expect((error as Error).message).toContain(`DOCKER_HOST=unix://${dead}: no such socket`);
    expect((error as UnavailableError).hint).toMatch(/systemctl start docker/);
  });

  it("a socket that accepts but never answers like an engine is reported, not waited on forever", async () => {
    const socketPath = path.join(workspace, "mute.sock");
    const server = createServer((socket) => socket.end("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      const error = await connectEngine({ DOCKER_HOST: `unix://${socketPath}` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnavailableError);
      expect((error as Error).message).toContain(socketPath);
    } finally {
      server.close();
    }
  });

  it("a tcp DOCKER_HOST where nothing listens says connection refused", async () => {
    const error = await connectEngine({ DOCKER_HOST: "tcp://127.0.0.1:1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect((error as Error).message).toMatch(/tcp:\/\/127\.0\.0\.1:1: connection refused/);
  });
});

describe("the toolbox image", () => {
  it("an explicit image that is missing and cannot be pulled: a UserError saying how to get it", async () => {
    const sink = new MemorySink();
    const runId = newRunId("missing");
    const error = await openToolbox({
      projectRoot: workspace,
      imageRef: "eksbox-test/not-built-anywhere:v0-missing",
      runId,
      events: sink,
      interrupter: new Interrupter(),
      processEnv: { ...engineEnv },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain(
      "eksbox-test/not-built-anywhere:v0-missing is not available locally and could not be pulled",
    );
    expect((error as UserError).hint).toContain("docker pull eksbox-test/not-built-anywhere:v0-missing");
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it("EKSBOX_IMAGE overrides the toolbox; a mutable tag gets a warning", async () => {
    await docker.getImage(imageRef).tag({ repo: "eksbox-test/runtime", tag: "latest" });
    const sink = new MemorySink();
    const toolbox = await openToolbox({
      projectRoot: workspace,
      runId: newRunId("latest"),
      events: sink,
      interrupter: new Interrupter(),
      processEnv: { ...engineEnv, EKSBOX_IMAGE: "eksbox-test/runtime:latest" },
    });
    await toolbox.dispose();
    await docker.getImage("eksbox-test/runtime:latest").remove({ noprune: true });
    expect(toolbox.image.ref).toBe("eksbox-test/runtime:latest");
    const warnings = sink.events.filter((e) => e.type === "log" && e.level === "warn").map((e) => (e as { message: string }).message);
    expect(warnings.some((w) => w.includes("mutable tag"))).toBe(true);
  });

  it("a content-hash tag gets no warning", async () => {
    const sink = new MemorySink();
    const toolbox = await openToolbox({
      projectRoot: workspace,
      imageRef,
      runId: newRunId("pinned"),
      events: sink,
      interrupter: new Interrupter(),
      processEnv: { ...engineEnv },
    });
    await toolbox.dispose();
    expect(sink.events.filter((e) => e.type === "log" && e.level === "warn")).toEqual([]);
  });
});

describe("the project's toolbox image", () => {
  async function fakeProject(dockerfile: string): Promise<string> {
    const root = await mkdtemp(path.join(tmpdir(), "eksbox-project-"));
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(path.join(root, "src", "image"), { recursive: true });
    await writeFile(path.join(root, "Dockerfile"), dockerfile);
    await writeFile(path.join(root, "src", "image", "fetch-verified.sh"), "#!/bin/sh\n");
    await writeFile(path.join(root, "src", "image", "awscli-public-key.asc"), "key\n");
    return root;
  }

  it("missing: built from the project's Dockerfile with live output, then used", async () => {
    const nonce = `${process.pid}-${Date.now()}`;
    const root = await fakeProject(`FROM ${imageRef}\nRUN echo building-${nonce}\nLABEL io.eksbox.tools='{"kubectl":"1.34.0"}'\n`);
    const sink = new MemorySink();
    let builtRef: string | undefined;
    try {
      const toolbox = await openToolbox({
        projectRoot: root,
        runId: newRunId("build"),
        events: sink,
        interrupter: new Interrupter(),
        processEnv: { ...engineEnv },
      });
      builtRef = toolbox.image.ref;
      const result = await toolbox.run({ step: "version", argv: ["true"] });
      await toolbox.dispose();
      expect(result.exitCode).toBe(0);
      expect(builtRef).toMatch(/^eksbox-toolbox:[0-9a-f]{12}$/);
      expect(toolbox.image.tools).toEqual({ kubectl: "1.34.0" });
      expect(sink.events.some((e) => e.type === "image-build" && e.line.includes(`building-${nonce}`))).toBe(true);
    } finally {
      if (builtRef)
        await docker
          .getImage(builtRef)
          .remove({ force: true })
          .catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  });

  it("a failing build is reported with the error from the progress stream", async () => {
    const root = await fakeProject(`FROM ${imageRef}\nRUN echo about-to-fail-${process.pid}-${Date.now()} && exit 3\n`);
    const runId = newRunId("build-fail");
    try {
      const error = await openToolbox({
        projectRoot: root,
        runId,
        events: new MemorySink(),
        interrupter: new Interrupter(),
        processEnv: { ...engineEnv },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      // Docker's builder says "returned a non-zero code: 3", Podman's (buildah) "while running runtime: exit status 3".
      expect((error as Error).message).toMatch(
        /failed building eksbox-toolbox:[0-9a-f]{12}: .*(returned a non-zero code: 3|exit status 3)/,
      );
      expect(await containersOfRun(runId)).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("leftovers", () => {
  it("sweeps containers of dead eksbox processes on this host and keeps live or foreign ones", async () => {
    const runId = newRunId("sweep");
    // A pid that surely belongs to no process: a child that has already exited.
    const child = spawn("true");
    await new Promise((resolve) => child.on("exit", resolve));
    const make = async (owner: string) => {
      const container = await docker.createContainer({
        Image: imageRef,
        Entrypoint: ["sleep"],
        Cmd: ["300"],
        Labels: { [LABEL_TOOL]: "eksbox", [LABEL_RUN_ID]: runId, [LABEL_OWNER]: owner },
        HostConfig: { Init: true },
      });
      await container.start();
      return container.id;
    };
    const dead = await make(`${hostname()}:${child.pid}`);
    const live = await make(`${hostname()}:${process.pid}`);
    const foreign = await make("some-ci-runner:1");
    try {
      const removed = await sweepStaleContainers(docker);
      expect(removed).toContain(dead);
      expect(removed).not.toContain(live);
      expect(removed).not.toContain(foreign);
    } finally {
      for (const id of [dead, live, foreign])
        await docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => undefined);
    }
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it("a killed eksbox process leaves no running container: its toolbox stops on its own", async () => {
    const runId = newRunId("crash");
    const script = path.join(workspace, "crash.mts");
    const toolboxModule = new URL("../../../src/runtime/toolbox.ts", import.meta.url).pathname;
    const interruptModule = new URL("../../../src/core/interrupt.ts", import.meta.url).pathname;
    const { writeFile } = await import("node:fs/promises");
    await writeFile(
      script,
      `import { openToolbox } from ${JSON.stringify(toolboxModule)};
       import { Interrupter } from ${JSON.stringify(interruptModule)};
       const toolbox = await openToolbox({ projectRoot: ${JSON.stringify(workspace)}, imageRef: ${JSON.stringify(imageRef)}, runId: ${JSON.stringify(runId)}, events: { emit() {} }, interrupter: new Interrupter(), processEnv: ${JSON.stringify(engineEnv)} });
       const step = toolbox.run({ step: "long", argv: ["sleep", "600"] });
       console.log("ready");
       await step;`,
    );
    // One process (no tsx wrapper in between), so SIGKILL hits the process that holds the toolbox.
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()));
    expect((await containersOfRun(runId)).map((c) => c.State)).toEqual(["running"]);
    child.kill("SIGKILL");
    while ((await containersOfRun(runId)).some((c) => c.State === "running")) await new Promise((r) => setTimeout(r, 100));
    const [left] = await containersOfRun(runId);
    // Stopped, and the next run's sweep removes it.
    expect(await sweepStaleContainers(docker)).toContain(left!.Id);
    expect(await containersOfRun(runId)).toEqual([]);
  });
});
