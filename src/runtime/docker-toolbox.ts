// The Docker implementation of Toolbox: one long-lived toolbox container per run (bench/RESULTS-runtime.md
// has the numbers behind that choice), and steps run through step agents, long-lived execs that each
// run one step at a time (step-agent.ts says why). Steps may run side by side, one agent each;
// interrupts escalate from SIGINT to each step's own process, to SIGTERM and a stop, to a kill.
import path from "node:path";
import type { Duplex } from "node:stream";
import type Dockerode from "dockerode";
import { AbortedError, InternalError, StepFailedError, UnavailableError, exitCodeMeaning } from "../core/errors.js";
import { log } from "../core/events.js";
import type { InterruptLevel } from "../core/interrupt.js";
import {
  runInternalExec,
  runSession,
  runStepExec,
  runStepOnAgent,
  startStepAgent,
  wrapWithPidFile,
  type RunningStep,
  type StepExecOptions,
} from "./exec.js";
import { AgentUnsupportedError, type StepAgent } from "./step-agent.js";
import type { CredentialBroker, CredentialSource } from "./credentials.js";
import type { Redactor } from "./redact.js";
import type { ToolboxOptions } from "./types.js";
import type { ImageInfo, InteractiveToolbox, SessionRequest, ToolboxRunRequest, ToolboxRunResult } from "./types.js";
import { copyDirectoryIn, copyDirectoryOut } from "./workspace.js";

/** Inside the container: where each step's wrapper writes its pid. */
export const PID_DIR = "/tmp/eksbox-steps";
const DEFAULT_GRACE_MS = 30_000;
const DEFAULT_STOP_GRACE_MS = 10_000;

export type WorkspaceMode = "bind" | "archive";

/** Brokered credentials: served by the broker, or (without one) put into each step's environment. */
export interface ToolboxCredentialAccess {
  source: CredentialSource;
  broker?: CredentialBroker;
}

export class DockerToolbox implements InteractiveToolbox {
  private readonly running = new Set<RunningStep>();
  private readonly agents: StepAgent[] = [];
  /** Set when the image cannot run an agent: every step is then an exec of its own. */
  private agentsUnsupported = false;
  private unsubscribe: () => void = () => {};
  private disposed: Promise<void> | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private stepCounter = 0;
  /** Interrupt levels are handled in order; dispose waits for the last. */
  private interruptHandling: Promise<void> = Promise.resolve();

  constructor(
    readonly docker: Dockerode,
    readonly container: Dockerode.Container,
    private readonly keepAlive: Duplex,
    readonly image: ImageInfo,
    readonly mode: WorkspaceMode,
    readonly redactor: Redactor,
    private readonly opts: ToolboxOptions,
    private readonly credentials?: ToolboxCredentialAccess,
  ) {}

  /** The broker's endpoint when there is one; tests ask it directly. */
  get credentialBroker(): CredentialBroker | undefined {
    return this.credentials?.broker;
  }

  /** Without a broker, each step gets credentials renewed just before it starts. */
  private async withCredentials<R extends { env?: Readonly<Record<string, string>> }>(request: R): Promise<R> {
    if (!this.credentials || this.credentials.broker) return request;
    // Blank endpoint variables: a container created for the broker must not look for it.
    const noEndpoint = { AWS_CONTAINER_CREDENTIALS_FULL_URI: "", AWS_CONTAINER_AUTHORIZATION_TOKEN: "" };
    return { ...request, env: { ...noEndpoint, ...(await this.credentials.source.stepEnv()), ...request.env } };
  }

  get workspace(): string {
    return this.opts.projectRoot;
  }

  get userSpec(): string | undefined {
    return this.opts.user ? `${this.opts.user.uid}:${this.opts.user.gid}` : undefined;
  }

  /** Called once by openToolbox: from here on, interrupts act on this toolbox's steps. */
  watchInterrupts(): void {
    this.unsubscribe = this.opts.interrupter.onEscalate((level) => {
      // A kill must not wait behind the SIGTERM grace period of level 2.
      const handled = level === 3 ? this.onInterrupt(level) : this.interruptHandling.then(() => this.onInterrupt(level));
      this.interruptHandling = Promise.all([this.interruptHandling, handled]).then(() => undefined);
    });
  }

  private checkNotInterrupted(step: string, evenAfterInterrupt = false): void {
    if (this.opts.interrupter.level > (evenAfterInterrupt ? 1 : 0))
      throw new AbortedError(`not starting step ${step}: the run was interrupted`);
    if (this.disposed) throw new InternalError(`step ${step} started after the toolbox was disposed`);
  }

  private workingDir(cwd: string | undefined): string {
    return cwd ? path.posix.resolve(this.workspace, cwd) : this.workspace;
  }

  /**
   * Resolves with the exit code, even a non-zero one. If an interrupt arrived while the step ran,
   * it resolves only when the step still exited 0 (it finished during the grace period, and the
   * caller should record that); otherwise it rejects with AbortedError.
   */
  async run(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    this.checkNotInterrupted(request.step, request.evenAfterInterrupt);
    request = await this.withCredentials(request);
    const step = this.newRunningStep(request.step);
    this.running.add(step);
    try {
      const result = await this.runStep(step, request, {
        events: this.opts.events,
        workingDir: this.workingDir(request.cwd),
        user: this.userSpec,
      });
      if (step.interrupted && result.exitCode !== 0) {
        throw new AbortedError(
          `step ${request.step} stopped by the interrupt (exit code ${result.exitCode}: ${exitCodeMeaning(result.exitCode)})`,
        );
      }
      return result;
    } finally {
      this.stepEnded(step);
    }
  }

  private async runStep(step: RunningStep, request: ToolboxRunRequest, options: StepExecOptions): Promise<ToolboxRunResult> {
    if (this.agentsUnsupported) return runStepExec(this, step, request, options);
    const agent = await this.acquireAgent(request, options);
    try {
      return await runStepOnAgent(this, agent, step, request, options);
    } catch (error) {
      if (!(error instanceof AgentUnsupportedError)) throw error;
      // The agent exited before reading the request: the step never started, so running it is safe.
      this.agentsUnsupported = true;
      log.debug(this.opts.events, "the toolbox image cannot run the step agent (no base64?): one exec per step");
      return runStepExec(this, step, request, options);
    } finally {
      agent.busy = false;
    }
  }

  /** An idle live agent, or a new one: as many agents as steps running side by side. */
  private async acquireAgent(request: ToolboxRunRequest, options: StepExecOptions): Promise<StepAgent> {
    for (let index = this.agents.length - 1; index >= 0; index--) {
      if (!this.agents[index]!.alive) this.agents.splice(index, 1);
    }
    const idle = this.agents.find((agent) => !agent.busy);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    const agent = await startStepAgent(this, request, { ...options, workingDir: this.workspace });
    agent.busy = true;
    this.agents.push(agent);
    return agent;
  }

  async runOrFail(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    const result = await this.run(request);
    if (result.exitCode !== 0) {
      throw new StepFailedError({ step: request.step, argv: request.argv, exitCode: result.exitCode, outputTail: result.outputTail });
    }
    return result;
  }

  /** An interactive command (`shell`, `exec` on a terminal): raw streams, optional TTY and stdin. */
  async session(request: SessionRequest): Promise<number> {
    this.checkNotInterrupted(request.step);
    request = await this.withCredentials(request);
    // Registered like a step, so a SIGTERM or SIGHUP to eksbox reaches it too.
    const step = this.newRunningStep(request.step);
    this.running.add(step);
    try {
      return await runSession(
        this,
        { ...request, argv: wrapWithPidFile(step.pidFile, request.argv) },
        { workingDir: this.workingDir(request.cwd), user: this.userSpec },
      );
    } finally {
      this.stepEnded(step);
    }
  }

  private newRunningStep(name: string): RunningStep {
    const key = `${name.replace(/[^A-Za-z0-9_.-]/g, "_")}-${++this.stepCounter}`;
    return { name, pidFile: `${PID_DIR}/${key}.pid`, interrupted: false };
  }

  private stepEnded(step: RunningStep): void {
    this.running.delete(step);
    if (this.running.size === 0 && this.graceTimer) {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
    }
  }

  /** Runs a helper command (not a step) and returns its exit code and output. */
  internalExec(argv: string[], user: string | undefined = this.userSpec): Promise<{ exitCode: number; output: string }> {
    return runInternalExec(this.container, argv, user);
  }

  private async signalSteps(signal: "INT" | "TERM"): Promise<void> {
    await Promise.all(
      [...this.running].map(async (step) => {
        step.interrupted = true;
        // The step's wrapper wrote its pid before exec'ing the command, so the signal reaches the command
        // itself; through an agent the step leads its own process group, and the whole group gets it.
        const script = `pid=$(cat "$0") && { kill -${signal} "-$pid" 2>/dev/null || kill -${signal} "$pid"; }`;
        const result = await this.internalExec(["/bin/sh", "-c", script, step.pidFile], "0:0").catch((error: unknown) => ({
          exitCode: -1,
          output: String(error),
        }));
        if (result.exitCode !== 0) log.debug(this.opts.events, `could not send SIG${signal} to step ${step.name}: ${result.output.trim()}`);
      }),
    );
  }

  private waitForSteps(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const started = Date.now();
      const check = () => {
        if (this.running.size === 0 || this.opts.interrupter.level >= 3) return resolve(this.running.size === 0);
        if (Date.now() - started >= ms) return resolve(false);
        setTimeout(check, 100);
      };
      check();
    });
  }

  private async onInterrupt(level: InterruptLevel): Promise<void> {
    try {
      if (level === 1) {
        for (const step of this.running) step.interrupted = true;
        if (this.running.size === 0) return;
        const grace = this.opts.graceMs ?? graceFromEnv(this.opts.processEnv) ?? DEFAULT_GRACE_MS;
        log.info(
          this.opts.events,
          `sent SIGINT to ${[...this.running].map((s) => s.name).join(", ")}; waiting up to ${Math.round(grace / 1000)}s for a clean exit (Ctrl-C again to stop now)`,
        );
        await this.signalSteps("INT");
        // Steps that stopped at once need no grace period (and a timer would keep eksbox alive for it).
        if (this.running.size === 0 || this.disposed) return;
        this.graceTimer = setTimeout(() => {
          if (this.running.size === 0 || this.opts.interrupter.level > 1) return;
          log.warn(this.opts.events, "grace period over: stopping the toolbox container");
          void this.stopContainer();
        }, grace);
      } else if (level === 2) {
        await this.stopContainer();
      } else if (level === 3) {
        log.warn(this.opts.events, "killing the toolbox container");
        await this.container.kill().catch(() => undefined);
      }
    } catch (error) {
      log.warn(this.opts.events, `while handling the interrupt: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async stopContainer(): Promise<void> {
    if (this.running.size > 0) {
      const stopGrace = this.opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
      log.warn(
        this.opts.events,
        `sending SIGTERM to ${[...this.running].map((s) => s.name).join(", ")}; killing in ${Math.round(stopGrace / 1000)}s`,
      );
      await this.signalSteps("TERM");
      await this.waitForSteps(stopGrace);
    }
    await this.container.kill().catch(() => undefined);
  }

  async shareFiles(paths: readonly string[]): Promise<void> {
    if (this.mode !== "archive" || paths.length === 0) return;
    const entries = paths.map((file) => {
      const relative = path.relative(this.workspace, file);
      if (relative.startsWith("..") || path.isAbsolute(relative))
        throw new InternalError(`${file} is outside the workspace ${this.workspace}`);
      return relative;
    });
    await copyDirectoryIn(this.container, this.workspace, this.workspace, entries);
  }

  /** Copies results back (archive mode), removes the container, stops the broker. Safe to call more than once. */
  dispose(options: { keepCredentials?: boolean } = {}): Promise<void> {
    this.disposed ??= this.disposeOnce().finally(() => (options.keepCredentials ? undefined : this.credentials?.broker?.stop()));
    return this.disposed;
  }

  private async disposeOnce(): Promise<void> {
    this.unsubscribe();
    await this.interruptHandling;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    let copyError: unknown;
    if (this.mode === "archive") {
      try {
        await copyDirectoryOut(this.container, this.workspace, this.workspace);
      } catch (error) {
        copyError = error;
      }
    }
    // The container's removal ends the agents; their streams are closed first so nothing reads them.
    for (const agent of this.agents.splice(0)) agent.abandon();
    this.keepAlive.destroy();
    await removeContainer(this.container);
    if (copyError) {
      throw new InternalError(
        `could not copy the workspace back from the toolbox: ${copyError instanceof Error ? copyError.message : String(copyError)}`,
        { cause: copyError },
      );
    }
  }
}

export async function removeContainer(container: Dockerode.Container): Promise<void> {
  try {
    await removeStoppingContainer(container);
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    // 404: already gone; 409: removal already in progress.
    if (status === undefined) {
      throw new UnavailableError(`could not remove the toolbox container ${container.id.slice(0, 12)}: the Docker engine is unreachable`, {
        hint: "the next eksbox run removes it",
      });
    }
    if (status !== 404 && status !== 409) throw error;
  }
}

/**
 * Podman 4 refuses a forced removal that races the container's own stop (its main process ends
 * when our attach closes): "could not be stopped ... container state improper". Once stopped, the
 * removal goes through, so it is tried again.
 */
async function removeStoppingContainer(container: Dockerode.Container): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await container.remove({ force: true });
      return;
    } catch (error) {
      const racedStop =
        (error as { statusCode?: number }).statusCode === 500 &&
        /could not be stopped|container state improper/i.test(String((error as Error).message));
      if (!racedStop || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** EKSBOX_INTERRUPT_GRACE_SECONDS: how long the first Ctrl-C waits, for steps known to need longer. */
function graceFromEnv(processEnv: NodeJS.ProcessEnv): number | undefined {
  const seconds = Number(processEnv.EKSBOX_INTERRUPT_GRACE_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}
