// Running commands in the toolbox container: a step through a step agent (or an exec of its own
// where the image cannot run one), eksbox's helper commands, and interactive sessions. Output is
// demultiplexed, split into redacted lines and streamed as it comes (with backpressure when
// writing to a stream).
import type { Duplex } from "node:stream";
import type Dockerode from "dockerode";
import { StepFailedError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import { toDockerEnv } from "./container-env.js";
import { createChunkRedactor, type Redactor } from "./redact.js";
import { isContainerNotRunningError } from "./engine-kind.js";
import { execExitCode } from "./exec-status.js";
import { AGENT_SCRIPT, StepAgent, stepScript } from "./step-agent.js";
import { createDemuxer, createLineSplitter, Tail, type StreamName } from "./streams.js";
import type { SessionRequest, ToolboxRunRequest, ToolboxRunResult } from "./types.js";

export type { SessionRequest } from "./types.js";

/** More than this on a captured stdout is refused: captured output is for parsing, not for logs. */
export const CAPTURE_LIMIT_BYTES = 64 * 1024 * 1024;
const TAIL_LINES = 30;

export interface RunningStep {
  name: string;
  /** Inside the container: the wrapper writes the command's pid here, so signals reach it. */
  pidFile: string;
  interrupted: boolean;
}

export interface ExecHost {
  readonly container: Dockerode.Container;
  readonly redactor: Redactor;
}

/**
 * `sh -c 'echo $$ > pidfile; exec "$@"'`: the command replaces the shell and keeps its pid, which
 * is how a later `kill -INT` reaches eksctl itself rather than a wrapper.
 */
export function wrapWithPidFile(pidFile: string, argv: readonly string[]): string[] {
  return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', pidFile, ...argv];
}

function waitForEnd(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (error) reject(error);
      else resolve();
    };
    stream.on("end", () => finish());
    stream.on("close", () => finish());
    // A connection reset after the container was killed is an end, not a failure of ours.
    stream.on("error", (error: NodeJS.ErrnoException) => finish(error.code === "ECONNRESET" || error.code === "EPIPE" ? undefined : error));
  });
}

/** A toolbox container that has died (stopped, killed, out of memory) is a step failure, not a bug of ours. */
async function createExec(host: ExecHost, request: ToolboxRunRequest, options: Dockerode.ExecCreateOptions): Promise<Dockerode.Exec> {
  try {
    return await host.container.exec(options);
  } catch (error) {
    if (!isContainerNotRunningError(error)) throw error;
    throw new StepFailedError({
      step: request.step,
      argv: request.argv,
      message: "could not start: the toolbox container is no longer running (stopped, killed or out of memory)",
      hint: "see `docker events` or the engine's log; run the task again to start a fresh toolbox",
      cause: error,
    });
  }
}

export interface StepExecOptions {
  events: EventSink;
  workingDir: string;
  user: string | undefined;
}

interface OutputFlow {
  pause(): void;
  resume(): void;
}

/**
 * What happens to a step's output, whichever way it ran: captured (stdout, for parsing), written
 * to a target stream with backpressure, or emitted as step-output events; redacted line by line,
 * with the last lines kept for the error report.
 */
function createStepOutput(host: ExecHost, request: ToolboxRunRequest, events: EventSink, flow: OutputFlow) {
  const tails = { stdout: new Tail(TAIL_LINES), stderr: new Tail(TAIL_LINES) };
  const captured: Buffer[] = [];
  let capturedBytes = 0;
  let captureOverflow = false;
  const target = request.output;
  let waitingForDrain: { stream: NodeJS.WritableStream } | undefined;
  const resume = () => {
    if (!waitingForDrain) return;
    waitingForDrain.stream.removeListener("drain", resume);
    waitingForDrain.stream.removeListener("close", resume);
    waitingForDrain = undefined;
    flow.resume();
  };

  const onLine = (name: StreamName) => (rawLine: string) => {
    const line = host.redactor.redact(rawLine);
    tails[name].push(line);
    if (name === "stdout" && request.captureStdout) return;
    if (target) {
      // A reader that went away (`| head`) gets nothing more; the CLI stops the command.
      if ((target[name] as { destroyed?: boolean }).destroyed) return;
      if (!target[name].write(`${line}\n`) && !waitingForDrain) {
        // Backpressure: a slow reader of our output slows the command instead of filling memory.
        waitingForDrain = { stream: target[name] };
        flow.pause();
        target[name].once("drain", resume);
        target[name].once("close", resume);
      }
    } else {
      events.emit({ type: "step-output", step: request.step, stream: name, line });
    }
  };
  const splitters = { stdout: createLineSplitter(onLine("stdout")), stderr: createLineSplitter(onLine("stderr")) };
  return {
    onData: (name: StreamName, data: Buffer): void => {
      if (name === "stdout" && request.captureStdout) {
        if (capturedBytes + data.length > CAPTURE_LIMIT_BYTES) captureOverflow = true;
        else {
          captured.push(Buffer.from(data));
          capturedBytes += data.length;
        }
      }
      splitters[name].push(data);
    },
    finish(exitCode: number): ToolboxRunResult {
      // A step agent's stream serves the next step: it must not stay paused for this step's reader.
      resume();
      splitters.stdout.end();
      splitters.stderr.end();
      if (captureOverflow) {
        throw new StepFailedError({
          step: request.step,
          argv: request.argv,
          exitCode,
          message: `printed more than ${CAPTURE_LIMIT_BYTES / 1024 / 1024} MiB on stdout, more than eksbox keeps for parsing`,
          outputTail: tails.stderr.lines,
        });
      }
      const stderrTail = tails.stderr.lines;
      return {
        exitCode,
        stdout: request.captureStdout ? Buffer.concat(captured).toString("utf8") : "",
        outputTail: stderrTail.length > 0 ? stderrTail : tails.stdout.lines,
      };
    },
  };
}

/** A step as an exec of its own: for images that cannot run the step agent. */
export async function runStepExec(
  host: ExecHost,
  step: RunningStep,
  request: ToolboxRunRequest,
  opts: StepExecOptions,
): Promise<ToolboxRunResult> {
  const exec = await createExec(host, request, {
    Cmd: wrapWithPidFile(step.pidFile, request.argv),
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    Env: request.env ? toDockerEnv(request.env) : undefined,
    WorkingDir: opts.workingDir,
    User: opts.user,
  });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Duplex;
  const output = createStepOutput(host, request, opts.events, stream);
  stream.on("data", createDemuxer(output.onData));
  await waitForEnd(stream);
  return output.finish(await execExitCode(exec));
}

/** A step through one of the toolbox's agents: same output, same pid file, no exec of its own. */
export async function runStepOnAgent(
  host: ExecHost,
  agent: StepAgent,
  step: RunningStep,
  request: ToolboxRunRequest,
  opts: StepExecOptions,
): Promise<ToolboxRunResult> {
  const script = stepScript({ pidFile: step.pidFile, workingDir: opts.workingDir, env: request.env, argv: request.argv });
  const output = createStepOutput(host, request, opts.events, agent);
  const exitCode = await agent.run(script, step.pidFile, { onOutput: output.onData });
  return output.finish(exitCode);
}

/** Starts a step agent: an exec with stdin whose shell loop runs the steps it is sent. */
export async function startStepAgent(host: ExecHost, request: ToolboxRunRequest, opts: StepExecOptions): Promise<StepAgent> {
  const exec = await createExec(host, request, {
    Cmd: ["/bin/sh", "-c", AGENT_SCRIPT],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    WorkingDir: opts.workingDir,
    User: opts.user,
  });
  return StepAgent.start(exec);
}

/** A helper command of eksbox itself: small output, collected whole. */
export async function runInternalExec(
  container: Dockerode.Container,
  argv: string[],
  user: string | undefined,
): Promise<{ exitCode: number; output: string }> {
  const exec = await container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, Tty: false, User: user });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Duplex;
  const chunks: Buffer[] = [];
  stream.on(
    "data",
    createDemuxer((_name, data) => chunks.push(Buffer.from(data))),
  );
  await waitForEnd(stream);
  return { exitCode: await execExitCode(exec), output: Buffer.concat(chunks).toString("utf8") };
}

/** An interactive exec: bytes pass through as they come (secrets still masked); returns the exit code. */
export async function runSession(
  host: ExecHost,
  request: SessionRequest,
  opts: { workingDir: string; user: string | undefined },
): Promise<number> {
  const exec = await host.container.exec({
    Cmd: [...request.argv],
    AttachStdin: Boolean(request.stdin),
    AttachStdout: true,
    AttachStderr: true,
    Tty: request.tty,
    Env: request.env ? toDockerEnv(request.env) : undefined,
    WorkingDir: opts.workingDir,
    User: opts.user,
  });
  const stream = (await exec.start({ hijack: true, stdin: Boolean(request.stdin), Tty: request.tty })) as unknown as Duplex;
  const outputs = {
    stdout: createChunkRedactor(host.redactor, (text) => request.stdout.write(text)),
    stderr: createChunkRedactor(host.redactor, (text) => request.stderr.write(text)),
  };
  if (request.tty) {
    stream.setEncoding("utf8");
    stream.on("data", (text: string) => outputs.stdout.push(text));
  } else {
    const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
    stream.on(
      "data",
      createDemuxer((name, data) => outputs[name].push(decoders[name].decode(data, { stream: true }))),
    );
  }

  const resize = async (size: { columns: number; rows: number }) => {
    if (request.tty) await exec.resize({ h: size.rows, w: size.columns }).catch(() => undefined);
  };
  // Sized before any input is forwarded, so a full-screen program starts with the right size.
  if (request.size) await resize(request.size);
  const stopResize = request.onResize?.((size) => void resize(size)) ?? (() => {});

  const stdin = request.stdin;
  if (stdin) {
    stdin.pipe(stream);
    stdin.on("end", () => {
      // Half-close: the command sees end-of-file and may still print its last output.
      if (!request.tty) (stream as Duplex & { end(): void }).end();
    });
  }
  try {
    await waitForEnd(stream);
  } finally {
    stopResize();
    if (stdin) {
      stdin.unpipe(stream);
      stdin.pause();
    }
    outputs.stdout.flush();
    outputs.stderr.flush();
  }
  return execExitCode(exec);
}
