// User tasks from the fixture tasks.yaml, end to end through the command function: env lock, run
// record, a real toolbox container (the runtime test image: Debian's sh and coreutils) and the
// scheduler. Values full of shell syntax must reach the commands as exactly themselves.
import { access, mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../../src/core/context.js";
import { MemorySink, type EksboxEvent } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { userTaskCommand } from "../../../src/commands/user-task.js";
import { ensureTestImage } from "../runtime/support.js";
import { makeProject, repoRoot } from "../../unit/tasks/support.js";

let image: string;
let root: string;

beforeAll(async () => {
  image = await ensureTestImage();
  root = await makeProject({ tasksYaml: await readFile(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), "utf8") });
}, 600_000);

async function context(): Promise<CommandContext & { sink: MemorySink }> {
  const sink = new MemorySink();
  const home = await mkdtemp(join(tmpdir(), "eksbox-home-"));
  return {
    projectRoot: root,
    events: sink,
    sink,
    interrupter: new Interrupter(),
    stdout: new Writable({ write: (_c, _e, done) => done() }),
    output: "text",
    processEnv: { HOME: home, PATH: process.env.PATH },
  };
}

const stdoutOf = (sink: MemorySink, step: string) =>
  sink.events
    .filter((e): e is Extract<EksboxEvent, { type: "step-output" }> => e.type === "step-output" && e.step === step && e.stream === "stdout")
    .map((e) => e.line);

describe("user tasks in the toolbox", () => {
  it("hands every value to the commands as exactly one argument", async () => {
    // One line each, no \r: step output is split into lines.
    const names = fc.sample(
      fc
        .oneof(
          fc
            .array(fc.constantFrom("'", '"', "$(id)", "`id`", ";", "&&", "|", "\\", "$HOME", "*", " ", "#", "--"), {
              minLength: 1,
              maxLength: 6,
            })
            .map((p) => p.join("")),
          fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
        )
        .filter((s) => !/[\0\n\r\u2028\u2029\u0085]/.test(s) && s.trim() === s && s !== ""),
      { numRuns: 25, seed: 20261125 },
    );
    const ctx = await context();
    await userTaskCommand(ctx, { task: "greet", given: { names, greeting: "hi; echo PWNED", shout: true }, env: "unit", image });
    expect(stdoutOf(ctx.sink, "argv")).toEqual(["hi; echo PWNED", ...names]);
    expect(stdoutOf(ctx.sink, "script")).toEqual(names.map((n) => `hi; echo PWNED, ${n}!`));
    expect(ctx.sink.events.find((e) => e.type === "run-end")).toMatchObject({ status: "done" });
  });

  it("skips what a previous run did (skipIf) and records each run", async () => {
    const first = await context();
    await userTaskCommand(first, { task: "marker", given: { file: "build/marker.txt" }, env: "unit", image });
    expect(await readFile(join(root, "build/marker.txt"), "utf8")).toBe("unit\n");
    expect(first.sink.events).toContainEqual(expect.objectContaining({ type: "step-end", step: "write", status: "done" }));

    const second = await context();
    await userTaskCommand(second, { task: "marker", given: { file: "build/marker.txt" }, env: "unit", image });
    expect(second.sink.events).toContainEqual(
      expect.objectContaining({ type: "step-end", step: "write", status: "skipped", reason: "skipIf passed: test -e build/marker.txt" }),
    );
    expect(stdoutOf(second.sink, "show")).toEqual(["unit"]);
    await access(join(root, ".eksbox", "runs"));
    expect((await readdir(join(root, ".eksbox", "runs"))).length).toBeGreaterThanOrEqual(3);
  });

  it("stops at a failing step with its exit code and names how to resume", async () => {
    const ctx = await context();
    const error = await userTaskCommand(ctx, { task: "marker", given: { file: "no/such/dir/x" }, env: "unit", image }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ step: "write", commandExitCode: 2 });
    expect(ctx.sink.events.find((e) => e.type === "run-end")).toMatchObject({
      status: "failed",
      resume: "eksbox marker no/such/dir/x --env unit",
    });
  });
});
