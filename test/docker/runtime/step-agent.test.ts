// Steps go through step agents (one long-lived exec per slot) in a real toolbox container; an
// image that cannot run the agent falls back to one exec per step with the same results.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError } from "../../../src/core/errors.js";
import { MemorySink, type EksboxEvent } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { openToolbox, type DockerToolbox } from "../../../src/runtime/toolbox.js";
import { containersOfRun, docker, ensureTestImage, newRunId, engineEnv } from "./support.js";

const workspaces: string[] = [];

async function open(
  imageRef: string,
  interrupter = new Interrupter(),
): Promise<{ toolbox: DockerToolbox; runId: string; sink: MemorySink }> {
  const workspace = await mkdtemp(path.join(tmpdir(), "eksbox-agent-"));
  workspaces.push(workspace);
  const runId = newRunId("agent");
  const sink = new MemorySink();
  const toolbox = await openToolbox({
    projectRoot: workspace,
    imageRef,
    runId,
    events: sink,
    interrupter,
    processEnv: { ...engineEnv, HOME: workspace },
    mode: "bind",
    graceMs: 3_600_000,
  });
  return { toolbox, runId, sink };
}

/** The pid of the process that started the step: the agent's shell, or 0 for an exec of its own. */
async function parentOf(toolbox: DockerToolbox, step: string, seconds = 0): Promise<string> {
  const result = await toolbox.runOrFail({ step, argv: ["sh", "-c", `sleep ${seconds}; echo $PPID`], captureStdout: true });
  return result.stdout.trim();
}

async function buildImageWithoutBase64(from: string): Promise<string> {
  const context = await mkdtemp(path.join(tmpdir(), "eksbox-nobase64-"));
  workspaces.push(context);
  await writeFile(path.join(context, "Dockerfile"), `FROM ${from}\nRUN rm /usr/bin/base64\n`);
  const ref = `eksbox-test/no-base64:${from.split(":").pop()}`;
  const stream = await docker.buildImage({ context, src: ["Dockerfile"] }, { t: ref, rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve())));
  await docker.getImage(ref).inspect();
  return ref;
}

let imageRef: string;
beforeAll(async () => {
  imageRef = await ensureTestImage();
});

afterAll(async () => {
  for (const dir of workspaces) await rm(dir, { recursive: true, force: true });
});

describe("step agents", () => {
  it("steps one after another reuse one agent; steps side by side get one each", async () => {
    const { toolbox, runId } = await open(imageRef);
    try {
      const first = await parentOf(toolbox, "first");
      const second = await parentOf(toolbox, "second");
      expect(first).not.toBe("0");
      expect(second).toBe(first);
      const [a, b] = await Promise.all([parentOf(toolbox, "left", 0.3), parentOf(toolbox, "right", 0.3)]);
      expect(a).not.toBe(b);
      expect([a, b]).toContain(first);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it("a failing or killed step leaves the agent serving the next step, with the right exit codes", async () => {
    const { toolbox } = await open(imageRef);
    try {
      const before = await parentOf(toolbox, "before");
      expect((await toolbox.run({ step: "fails", argv: ["sh", "-c", "exit 7"] })).exitCode).toBe(7);
      expect((await toolbox.run({ step: "killed", argv: ["sh", "-c", "kill -9 $$"] })).exitCode).toBe(137);
      expect((await toolbox.run({ step: "missing", argv: ["no-such-tool"] })).exitCode).toBe(127);
      expect(await parentOf(toolbox, "after")).toBe(before);
    } finally {
      await toolbox.dispose();
    }
  });

  it("Ctrl-C reaches every process of a step: a script waiting on its child stops at once", async () => {
    const interrupter = new Interrupter();
    const { toolbox, sink } = await open(imageRef, interrupter);
    const printed = () => sink.events.some((e: EksboxEvent) => e.type === "step-output" && e.line === "waiting");
    try {
      // dash waits for `sleep` here instead of exec'ing it: only a signal to the group reaches sleep.
      const running = toolbox.run({ step: "script", argv: ["sh", "-c", "echo waiting; sleep 600; echo after"] });
      while (!printed()) await new Promise((resolve) => setTimeout(resolve, 20));
      interrupter.escalate();
      // With an hour of grace, only the SIGINT reaching sleep ends this within the test's time.
      await expect(running).rejects.toBeInstanceOf(AbortedError);
      expect(sink.events.some((e) => e.type === "step-output" && e.line === "after")).toBe(false);
    } finally {
      await toolbox.dispose();
    }
  });

  it("what a step leaves running is stopped when it ends, so nothing of it shows under the next step", async () => {
    const { toolbox } = await open(imageRef);
    try {
      const first = await toolbox.runOrFail({ step: "first", argv: ["sh", "-c", "(sleep 1; echo late) & echo now"], captureStdout: true });
      expect(first.stdout).toBe("now\n");
      const second = await toolbox.runOrFail({ step: "second", argv: ["sh", "-c", "sleep 2; echo next"], captureStdout: true });
      expect(second.stdout).toBe("next\n");
    } finally {
      await toolbox.dispose();
    }
  });

  it("an image without base64 runs every step as an exec of its own, with the same results", async () => {
    const { toolbox, runId, sink } = await open(await buildImageWithoutBase64(imageRef));
    try {
      const result = await toolbox.run({ step: "first", argv: ["sh", "-c", "echo out; echo err >&2; exit 4"], captureStdout: true });
      expect(result).toMatchObject({ exitCode: 4, stdout: "out\n", outputTail: ["err"] });
      // An exec's process has no parent inside the container.
      expect(await parentOf(toolbox, "second")).toBe("0");
      expect(sink.events.some((e) => e.type === "log" && /cannot run the step agent/.test(e.message))).toBe(true);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(runId)).toEqual([]);
  });
});
