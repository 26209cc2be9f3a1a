import { PassThrough } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { coloursWanted, createRenderer } from "../../../src/output/renderer.js";

/** What the live view writes for one finished step and a failed run, given the environment. */
function liveViewText(env: NodeJS.ProcessEnv): string {
  const stderr = Object.assign(new PassThrough(), { columns: 80, isTTY: true }) as unknown as NodeJS.WriteStream & PassThrough;
  const chunks: string[] = [];
  stderr.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
  const sink = createRenderer("tty", { stdout: stderr, stderr }, false, env);
  sink.emit({ type: "step-end", step: "cluster", status: "done", elapsedMs: 1200 });
  sink.emit({ type: "run-end", runId: "r1", status: "failed", elapsedMs: 2000, resume: "eksbox born --env dev" });
  return chunks.join("");
}

const escape = "\x1b[";

describe("colours in the live view", () => {
  it("colours by default", () => {
    const text = liveViewText({});
    expect(text).toContain(`${escape}32m✔`);
    expect(text).toContain(`${escape}31mfailed`);
  });

  it("writes no colour with NO_COLOR, and the same words", () => {
    const text = liveViewText({ NO_COLOR: "1" });
    expect(text).not.toContain(escape);
    expect(text).toBe(stripVTControlCharacters(liveViewText({})));
    expect(liveViewText({ NO_COLOR: "" })).not.toContain(escape);
    expect(liveViewText({ TERM: "dumb" })).not.toContain(escape);
  });

  it("lets FORCE_COLOR decide when it is set, as Node does", () => {
    expect(liveViewText({ FORCE_COLOR: "0" })).not.toContain(escape);
    expect(liveViewText({ FORCE_COLOR: "false" })).not.toContain(escape);
    expect(liveViewText({ FORCE_COLOR: "1", NO_COLOR: "1" })).toContain(`${escape}32m✔`);
    expect(coloursWanted({ FORCE_COLOR: "", TERM: "dumb" })).toBe(true);
    expect(coloursWanted({ FORCE_COLOR: "3" })).toBe(true);
  });

  it("never colours plain or JSON output", () => {
    for (const mode of ["plain", "json"] as const) {
      const stderr = new PassThrough();
      const chunks: string[] = [];
      stderr.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
      const sink = createRenderer(
        mode,
        { stdout: stderr as unknown as NodeJS.WriteStream, stderr: stderr as unknown as NodeJS.WriteStream },
        false,
        { FORCE_COLOR: "1" },
      );
      sink.emit({ type: "step-end", step: "cluster", status: "done", elapsedMs: 1200 });
      expect(chunks.join("")).toContain("cluster");
      expect(chunks.join("")).not.toContain(escape);
    }
  });
});
