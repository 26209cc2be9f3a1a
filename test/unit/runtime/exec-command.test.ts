// eksbox exec and shell against a fake toolbox: which path (streamed run, piped stdin, terminal)
// they take, exit code propagation, and that the toolbox is always disposed.
import { openSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { execCommand, type ExecDeps } from "../../../src/commands/exec.js";
import { shellCommand, SHELL_ARGV } from "../../../src/commands/shell.js";
import type { CommandContext } from "../../../src/core/context.js";
import { UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import type { ToolboxOptions } from "../../../src/runtime/types.js";
import type { ImageInfo, InteractiveToolbox, SessionRequest, ToolboxRunRequest, ToolboxRunResult } from "../../../src/runtime/types.js";

class FakeToolbox implements InteractiveToolbox {
  readonly image: ImageInfo = { ref: "fake:1", id: "sha256:fake", tools: {} };
  runs: ToolboxRunRequest[] = [];
  sessions: SessionRequest[] = [];
  disposed = 0;
  constructor(
    private readonly exitCode: number,
    private readonly failWith?: Error,
  ) {}
  async run(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    this.runs.push(request);
    if (this.failWith) throw this.failWith;
    request.output?.stdout.write("out\n");
    return { exitCode: this.exitCode, stdout: "", outputTail: [] };
  }
  async runOrFail(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    return this.run(request);
  }
  async session(request: SessionRequest): Promise<number> {
    this.sessions.push(request);
    return this.exitCode;
  }
  async shareFiles(): Promise<void> {}
  async dispose(): Promise<void> {
    this.disposed++;
  }
}

const project = mkdtempSync(path.join(tmpdir(), "eksbox-project-"));
function context(): CommandContext & { out: PassThrough } {
  const out = new PassThrough();
  return {
    projectRoot: project,
    events: new MemorySink(),
    interrupter: new Interrupter(),
    stdout: out,
    out,
    output: "text",
    processEnv: {},
  };
}
function deps(toolbox: FakeToolbox, stdin: { isTTY: boolean; fd: number }): ExecDeps & { opened: ToolboxOptions[] } {
  const opened: ToolboxOptions[] = [];
  return {
    opened,
    openToolbox: async (opts) => {
      opened.push(opts);
      return toolbox;
    },
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new PassThrough(),
  };
}
const devNull = () => ({ isTTY: false, fd: openSync("/dev/null", "r") });

afterEach(() => {
  process.exitCode = undefined;
});

describe("eksbox exec", () => {
  it("streams a non-interactive command's output to stdout and takes its exit code", async () => {
    const toolbox = new FakeToolbox(42);
    const ctx = context();
    const d = deps(toolbox, devNull());
    const code = await execCommand(ctx, { image: "my/toolbox:1", argv: ["aws", "sts", "get-caller-identity"] }, d);
    expect(code).toBe(42);
    expect(process.exitCode).toBe(42);
    expect(toolbox.runs[0]).toMatchObject({ step: "exec", argv: ["aws", "sts", "get-caller-identity"] });
    expect(ctx.out.read()?.toString()).toBe("out\n");
    expect(d.opened[0]).toMatchObject({ imageRef: "my/toolbox:1", projectRoot: project });
    expect(d.opened[0]!.envName).toBeUndefined();
    expect(toolbox.disposed).toBe(1);
  });

  it("forwards piped input through a session", async () => {
    const file = path.join(project, "input.yaml");
    writeFileSync(file, "kind: Pod\n");
    const toolbox = new FakeToolbox(0);
    await execCommand(context(), { argv: ["kubectl", "apply", "-f", "-"] }, deps(toolbox, { isTTY: false, fd: openSync(file, "r") }));
    expect(toolbox.runs).toEqual([]);
    expect(toolbox.sessions[0]).toMatchObject({ tty: false, argv: ["kubectl", "apply", "-f", "-"] });
    expect(toolbox.sessions[0]!.stdin).toBeDefined();
  });

  it("disposes the toolbox when the run fails", async () => {
    const toolbox = new FakeToolbox(0, new Error("engine went away"));
    await expect(execCommand(context(), { argv: ["true"] }, deps(toolbox, devNull()))).rejects.toThrow("engine went away");
    expect(toolbox.disposed).toBe(1);
  });

  it("refuses an empty command with an example", async () => {
    await expect(execCommand(context(), { argv: [] }, deps(new FakeToolbox(0), devNull()))).rejects.toBeInstanceOf(UserError);
  });

  it("an unknown --env is a UserError before any container starts", async () => {
    const d = deps(new FakeToolbox(0), devNull());
    await expect(execCommand(context(), { env: "Not_Valid", argv: ["true"] }, d)).rejects.toBeInstanceOf(UserError);
    expect(d.opened).toEqual([]);
  });
});

describe("eksbox shell", () => {
  it("without a terminal, runs the shell reading commands from stdin", async () => {
    const toolbox = new FakeToolbox(5);
    const code = await shellCommand(context(), {}, deps(toolbox, devNull()));
    expect(code).toBe(5);
    expect(toolbox.sessions[0]).toMatchObject({ step: "shell", argv: SHELL_ARGV, tty: false });
    expect(toolbox.disposed).toBe(1);
  });
});
