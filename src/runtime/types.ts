// The narrow interface the rest of eksbox uses to run commands in the toolbox. Only src/runtime
// knows about dockerode; steps, tasks and tests code against Toolbox (unit tests fake it).
import type { EventSink } from "../core/events.js";
import type { Interrupter } from "../core/interrupt.js";
import type { AssumeRoleSettings } from "./credentials.js";
import type { Redactor } from "./redact.js";

export interface ToolboxRunRequest {
  /** Step name: labels the container/exec and prefixes output lines. */
  step: string;
  argv: readonly string[];
  /** Extra non-secret environment for this command. */
  env?: Readonly<Record<string, string>>;
  /**
   * Collect stdout and return it (for commands whose output we parse, such as
   * `aws ... --output json`); stdout is then not emitted as step-output events. Stderr still streams.
   */
  captureStdout?: boolean;
  /** Working directory relative to the workspace root. */
  cwd?: string;
  /**
   * Write the command's output here, redacted, one line at a time, instead of emitting step-output
   * events (for `eksbox exec`, whose output is the command's). A slow reader slows the command.
   */
  output?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };
  /**
   * Bookkeeping that must still run after the first interrupt (releasing the environment's lock):
   * it starts even though the run was interrupted. A second interrupt still stops the container.
   */
  evenAfterInterrupt?: boolean;
}

export interface ToolboxRunResult {
  exitCode: number;
  /** Only with captureStdout: the raw stdout, not redacted (it is parsed, never logged). */
  stdout: string;
  /** The last lines of output (stderr preferred), redacted, for error reports. */
  outputTail: string[];
}

export interface ImageInfo {
  ref: string;
  id: string;
  digest?: string;
  /** tool -> version, from the image's manifest label. */
  tools: Record<string, string>;
}

export interface Toolbox {
  readonly image: ImageInfo;
  /**
   * Runs one command; resolves with its exit code (non-zero is not an exception).
   * Interrupts: once the Interrupter reached level 1, new calls reject with AbortedError. A call in
   * progress when the interrupt came resolves only if its command still exited 0 (it finished
   * within the grace period, and the caller should record that it did); otherwise it rejects with
   * AbortedError. Calls may run concurrently.
   */
  run(request: ToolboxRunRequest): Promise<ToolboxRunResult>;
  /** Runs one command and throws StepFailedError on a non-zero exit. */
  runOrFail(request: ToolboxRunRequest): Promise<ToolboxRunResult>;
  /**
   * Makes workspace files written on this machine after the toolbox opened visible to its commands
   * (absolute paths under the workspace). A bind mount already shows them; archive mode copies them in.
   */
  shareFiles(paths: readonly string[]): Promise<void>;
  /** Stops and removes everything this toolbox started; copies results back in archive mode. */
  dispose(): Promise<void>;
}

export interface SessionRequest {
  step: string;
  argv: readonly string[];
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  /** Allocate a terminal: output arrives as one raw stream, and the command sees a TTY. */
  tty: boolean;
  /** Forwarded to the command; its end closes the command's stdin. */
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Initial terminal size, and a way to hear about changes (returns an unsubscribe). */
  size?: { columns: number; rows: number };
  onResize?: (listener: (size: { columns: number; rows: number }) => void) => () => void;
}

/** A toolbox that can also run interactive commands (`eksbox shell`, `eksbox exec` on a terminal). */
export interface InteractiveToolbox extends Toolbox {
  /** Raw byte streams (secrets still masked), optional TTY and stdin; resolves with the exit code. */
  session(request: SessionRequest): Promise<number>;
}

/** How a run's toolbox is opened (openToolbox). */
export interface ToolboxOptions {
  /** The workspace: mounted (or copied) at the same absolute path, which is also the working directory. */
  projectRoot: string;
  envName?: string;
  aws?: { profile?: string; region?: string; endpointUrl?: string };
  /** Explicit --image; else processEnv.EKSBOX_IMAGE; else the project's expected ref. */
  imageRef?: string;
  runId: string;
  events: EventSink;
  interrupter: Interrupter;
  processEnv: NodeJS.ProcessEnv;
  /** More variables of processEnv to forward by name, as if they were in EKSBOX_PASS_ENV. */
  passEnv?: readonly string[];
  /** "auto" binds when the engine can see the workspace and copies it otherwise. */
  mode?: "auto" | "bind" | "archive";
  /** How long a step gets to exit after the first interrupt before its container is stopped. Default EKSBOX_INTERRUPT_GRACE_SECONDS or 30 s. */
  graceMs?: number;
  /** After the second interrupt, how long steps get after SIGTERM before they are killed. Default 10 s. */
  stopGraceMs?: number;
  /** Who the commands run as; defaults to the user running eksbox, so files they write are ours. */
  user?: { uid: number; gid: number };
  /** Default "host": the tools reach proxies, local emulators and SSO callbacks on 127.0.0.1. */
  networkMode?: string;
  /** Shared with the run recorder; secrets from processEnv are added to it. */
  redactor?: Redactor;
  /**
   * Resolve the credentials on this machine and serve them to the toolbox (credentials.ts), chaining
   * the environment's aws.assumeRole. Absent: the toolbox gets ~/.aws and the AWS_* variables as they are.
   */
  credentials?: { assumeRole?: AssumeRoleSettings; now?: () => number };
  /** Fail (UnavailableError) rather than build or pull a missing image. */
  onlyIfImagePresent?: boolean;
}
