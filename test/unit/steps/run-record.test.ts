import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Redactor } from "../../../src/runtime/redact.js";
import { newRunId } from "../../../src/core/layout.js";
import { RunRecorder, lastRun } from "../../../src/steps/run-record.js";

describe("RunRecorder", () => {
  it("keeps redacted events and log lines, and the last run per env", async () => {
    const root = await mkdtemp(join(tmpdir(), "eksbox-runs-"));
    const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const redactor = Redactor.fromEnv({ AWS_SECRET_ACCESS_KEY: secret });
    const runId = newRunId(new Date("2026-11-25T10:00:00Z"));
    expect(runId).toMatch(/^20261125T100000Z-[0-9a-f]{6}$/);
    const recorder = await RunRecorder.open(root, { runId, task: "born", env: "prod" }, (t) => redactor.redact(t));
    expect((await lastRun(root, "prod"))?.status).toBe("running");
    recorder.emit({ type: "step-output", step: "cluster", stream: "stderr", line: `leaked ${secret} here` });
    recorder.emit({ type: "step-end", step: "cluster", status: "failed", elapsedMs: 1200, reason: `bad ${secret}` });
    const summary = await recorder.close({ status: "failed", error: `boom ${secret}`, resume: "eksbox born --env prod" });
    const events = await readFile(join(recorder.dir, "events.jsonl"), "utf8");
    const log = await readFile(join(recorder.dir, "run.log"), "utf8");
    const stored = await readFile(join(recorder.dir, "summary.json"), "utf8");
    for (const text of [events, log, stored]) expect(text).not.toContain(secret);
    expect(
      events
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).type),
    ).toEqual(["step-output", "step-end"]);
    expect(log).toMatch(/\[cluster\] leaked \*\*\* here/);
    expect(summary.error).toBe("boom ***");
    expect(await lastRun(root, "prod")).toMatchObject({ runId, status: "failed", resume: "eksbox born --env prod" });
    expect(await lastRun(root, "stg")).toBeUndefined();
  });
});

describe("output held in memory through a step (bench: 200 MB through a step)", () => {
  // A burst of output read in one turn of the event loop (the engine's socket delivers megabytes at
  // once) must be written as it comes, not held until the turn ends.
  const line = "x".repeat(100);

  it("the run record writes a burst before the turn ends, holding at most a bounded batch", async () => {
    const { statSync } = await import("node:fs");
    const root = await mkdtemp(join(tmpdir(), "eksbox-runs-"));
    const recorder = await RunRecorder.open(root, { runId: newRunId(), task: "born", env: "prod" }, (t) => t);
    const lines = 50_000;
    for (let i = 0; i < lines; i++) recorder.emit({ type: "step-output", step: "cluster", stream: "stdout", line });
    const written = statSync(join(recorder.dir, "run.log")).size;
    const total = lines * (line.length + "[cluster] ".length + 26);
    expect(total - written).toBeLessThan(1024 * 1024);
    await recorder.close({ status: "done" });
  });

  it("the plain renderer writes a burst before the turn ends", async () => {
    const { PlainRenderer } = await import("../../../src/output/renderer.js");
    let written = 0;
    const renderer = new PlainRenderer({ write: (text: string) => ((written += text.length), true) } as unknown as NodeJS.WritableStream);
    for (let i = 0; i < 50_000; i++) renderer.emit({ type: "step-output", step: "cluster", stream: "stdout", line });
    expect(50_000 * (line.length + 36) - written).toBeLessThan(1024 * 1024);
  });
});
