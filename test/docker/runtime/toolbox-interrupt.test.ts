// Ctrl-C at each point of a run: the first lets the step finish its call, the second stops it,
// the third kills it; an interrupt before or between steps starts nothing. Never a container left.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError } from "../../../src/core/errors.js";
import { MemorySink, type EksboxEvent } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { openToolbox } from "../../../src/runtime/toolbox.js";
import type { ToolboxOptions } from "../../../src/runtime/types.js";
import { containersOfRun, ensureTestImage, newRunId, engineEnv } from "./support.js";

let imageRef: string;
let workspace: string;

beforeAll(async () => {
  imageRef = await ensureTestImage();
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-ws-"));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

function setUp(extra: Partial<ToolboxOptions> = {}) {
  const sink = new MemorySink();
  const interrupter = new Interrupter();
  const runId = newRunId("int");
  const open = () =>
    openToolbox({
      projectRoot: workspace,
      imageRef,
      runId,
      events: sink,
      interrupter,
      processEnv: { ...engineEnv },
      mode: "bind",
      ...extra,
    });
  const lines = (step: string) =>
    sink.events
      .filter((e): e is Extract<EksboxEvent, { type: "step-output" }> => e.type === "step-output" && e.step === step)
      .map((e) => e.line);
  /** Resolves once the step printed `text`, so the interrupt lands while it runs. */
  const printed = async (step: string, text: string) => {
    while (!lines(step).some((line) => line.includes(text))) await new Promise((r) => setTimeout(r, 20));
  };
  return { sink, interrupter, runId, open, lines, printed };
}

describe("interrupts", () => {
  it("first Ctrl-C: SIGINT reaches the command, which finishes its call within the grace period", async () => {
    const t = setUp({ graceMs: 60_000 });
    const toolbox = await t.open();
    try {
      const running = toolbox.run({ step: "create-cluster", argv: ["slow-step", "1", "0"] });
      await t.printed("create-cluster", "slow-step: started");
      t.interrupter.escalate();
      const result = await running;
      // Exit 0 after the interrupt: the step did finish, and the caller may record it.
      expect(result.exitCode).toBe(0);
      expect(t.lines("create-cluster")).toEqual([
        "slow-step: started",
        "slow-step: got SIGINT, finishing the call",
        "slow-step: finished cleanly",
      ]);
      await expect(toolbox.run({ step: "next", argv: ["true"] })).rejects.toBeInstanceOf(AbortedError);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("first Ctrl-C: a step that exits non-zero after SIGINT rejects with AbortedError", async () => {
    const t = setUp();
    const toolbox = await t.open();
    try {
      const running = toolbox.run({ step: "plain-sleep", argv: ["sleep", "300"] });
      await new Promise((r) => setTimeout(r, 300));
      t.interrupter.escalate();
      await expect(running).rejects.toBeInstanceOf(AbortedError);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("grace period over: the container is stopped and the step aborted", async () => {
    const t = setUp({ graceMs: 500, stopGraceMs: 500 });
    const toolbox = await t.open();
    try {
      // Takes 600 s to finish after SIGINT: far beyond the grace period.
      const running = toolbox.run({ step: "stubborn", argv: ["slow-step", "600", "0"] });
      await t.printed("stubborn", "started");
      t.interrupter.escalate();
      await expect(running).rejects.toBeInstanceOf(AbortedError);
      expect(t.sink.events.some((e) => e.type === "log" && e.message.includes("grace period over"))).toBe(true);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("second Ctrl-C: SIGTERM to the command, then the container stops", async () => {
    const t = setUp({ graceMs: 60_000, stopGraceMs: 30_000 });
    const toolbox = await t.open();
    try {
      const running = toolbox.run({ step: "stubborn", argv: ["slow-step", "600", "0"] });
      await t.printed("stubborn", "started");
      t.interrupter.escalate();
      await t.printed("stubborn", "got SIGINT");
      t.interrupter.escalate();
      await expect(running).rejects.toThrow(/exit code 143/);
      expect(t.lines("stubborn")).toContain("slow-step: got SIGTERM");
      // The container is stopped right after the step has gone (no step left to wait for).
      while ((await toolbox.container.inspect()).State.Running) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("third Ctrl-C: kills at once", async () => {
    const t = setUp({ graceMs: 60_000, stopGraceMs: 60_000 });
    const toolbox = await t.open();
    try {
      // Ignores INT and TERM: only a kill ends it.
      const running = toolbox.run({ step: "immortal", argv: ["sh", "-c", "trap '' INT TERM; echo ready; while :; do sleep 0.1; done"] });
      await t.printed("immortal", "ready");
      t.interrupter.escalate();
      t.interrupter.escalate();
      t.interrupter.escalate();
      await expect(running).rejects.toThrow(/exit code 137/);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("an interrupt before the toolbox starts leaves nothing behind", async () => {
    const t = setUp();
    t.interrupter.escalate();
    await expect(t.open()).rejects.toBeInstanceOf(AbortedError);
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("an interrupt while the toolbox is being prepared leaves nothing behind", async () => {
    const t = setUp();
    // Escalates the moment the image is resolved, i.e. in the middle of openToolbox.
    const events = { emit: (e: EksboxEvent) => (t.sink.emit(e), e.type === "image" && t.interrupter.escalate()) };
    await expect(
      openToolbox({ projectRoot: workspace, imageRef, runId: t.runId, events, interrupter: t.interrupter, processEnv: { ...engineEnv } }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("a step in a toolbox container that died fails as a step, naming the cause", async () => {
    const t = setUp();
    const toolbox = await t.open();
    try {
      await toolbox.container.kill();
      await expect(toolbox.run({ step: "after-death", argv: ["true"] })).rejects.toThrow(/toolbox container is no longer running/);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });

  it("an interrupt between steps refuses the next step", async () => {
    const t = setUp();
    const toolbox = await t.open();
    try {
      expect((await toolbox.run({ step: "one", argv: ["true"] })).exitCode).toBe(0);
      t.interrupter.escalate();
      await expect(toolbox.run({ step: "two", argv: ["true"] })).rejects.toBeInstanceOf(AbortedError);
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(t.runId)).toEqual([]);
  });
});
