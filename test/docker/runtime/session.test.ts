// Interactive sessions (`shell`, `exec` on a terminal, piped input) and `eksbox exec` end to end.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execCommand } from "../../../src/commands/exec.js";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { openToolbox, type DockerToolbox } from "../../../src/runtime/toolbox.js";
import { ensureTestImage, newRunId, engineEnv } from "./support.js";

const SECRET = "ghp_sessionsecretvalue123";
let imageRef: string;
let workspace: string;
let toolbox: DockerToolbox;

function collector() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

beforeAll(async () => {
  imageRef = await ensureTestImage();
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-ws-"));
  toolbox = await openToolbox({
    projectRoot: workspace,
    imageRef,
    runId: newRunId("session"),
    events: new MemorySink(),
    interrupter: new Interrupter(),
    processEnv: { ...engineEnv, FLUX_TOKEN: SECRET, EKSBOX_PASS_ENV: "FLUX_TOKEN" },
  });
});
afterAll(async () => {
  await toolbox?.dispose();
  await rm(workspace, { recursive: true, force: true });
});

describe("sessions", () => {
  it("a terminal session sees a TTY of the given size, gets input, and masks secrets", async () => {
    const stdin = new PassThrough();
    const out = collector();
    stdin.write("go\n");
    const code = toolbox.session({
      step: "shell",
      argv: ["sh", "-c", 'read line; stty size; test -t 1 && echo tty; echo "$FLUX_TOKEN"; exit 4'],
      tty: true,
      stdin,
      stdout: out.stream,
      stderr: out.stream,
      size: { columns: 101, rows: 33 },
    });
    expect(await code).toBe(4);
    stdin.end();
    expect(out.text()).toContain("33 101");
    expect(out.text()).toContain("tty");
    expect(out.text()).not.toContain(SECRET);
    expect(out.text()).toContain("***");
  });

  it("piped input reaches the command, which sees its end", async () => {
    const stdin = new PassThrough();
    const out = collector();
    const err = collector();
    stdin.end("line one\nline two\n");
    const code = await toolbox.session({
      step: "exec",
      argv: ["sh", "-c", "wc -l; echo done >&2"],
      tty: false,
      stdin,
      stdout: out.stream,
      stderr: err.stream,
    });
    expect(code).toBe(0);
    expect(out.text().trim()).toBe("2");
    expect(err.text()).toBe("done\n");
  });
});

describe("interrupting a session", () => {
  it("a SIGTERM to eksbox reaches an interactive command too", async () => {
    const interrupter = new Interrupter();
    const own = await openToolbox({
      projectRoot: workspace,
      imageRef,
      runId: newRunId("session-int"),
      events: new MemorySink(),
      interrupter,
      processEnv: { ...engineEnv },
      graceMs: 60_000,
    });
    try {
      const stdin = new PassThrough();
      const out = collector();
      const code = own.session({ step: "shell", argv: ["slow-step", "0", "5"], tty: false, stdin, stdout: out.stream, stderr: out.stream });
      while (!out.text().includes("started")) await new Promise((r) => setTimeout(r, 20));
      interrupter.escalate();
      expect(await code).toBe(5);
      expect(out.text()).toContain("got SIGINT");
    } finally {
      await own.dispose();
    }
  });
});

describe("eksbox exec", () => {
  it("prints the command's stdout, masked, and sets the exit code", async () => {
    const out = collector();
    const err = collector();
    const ctx = {
      projectRoot: workspace,
      events: new MemorySink(),
      interrupter: new Interrupter(),
      stdout: out.stream,
      output: "text" as const,
      processEnv: { ...engineEnv, AWS_SESSION_TOKEN: SECRET },
    };
    try {
      const code = await execCommand(
        ctx,
        { image: imageRef, argv: ["sh", "-c", 'echo "token=$AWS_SESSION_TOKEN"; echo warn >&2; exit 9'] },
        {
          openToolbox,
          stdin: Object.assign(new PassThrough(), { isTTY: false, fd: 99_999 }) as unknown as NodeJS.ReadStream,
          stderr: err.stream,
        },
      );
      expect(code).toBe(9);
      expect(process.exitCode).toBe(9);
    } finally {
      process.exitCode = undefined;
    }
    expect(out.text()).toBe("token=***\n");
    expect(err.text()).toBe("warn\n");
  });
});
