// Turns core events into what a person or a program reads:
//  - "tty":   live progress; each step on its own line with elapsed time, a status line for what runs
//  - "plain": one timestamped line per event, step output prefixed with the step (for CI and logs)
//  - "json":  one JSON object per event, for other programs
// Progress always goes to stderr, so stdout carries only a command's result (JSON with --output json)
// and `eksbox status -o json | jq` works.
import picocolors from "picocolors";
import { isoNow, plainEventLine, stepEndText, type EksboxEvent, type EventSink } from "../core/events.js";
import { FLUSH_AT_CHARS } from "../steps/run-record.js";

export type OutputMode = "tty" | "plain" | "json";

type Colours = ReturnType<typeof picocolors.createColors>;

/**
 * Whether the live view may colour its text, by Node's own rule (tty getColorDepth): FORCE_COLOR,
 * when set, decides ("", 1, 2, 3 and true turn colours on, anything else off); otherwise NO_COLOR,
 * NODE_DISABLE_COLORS or TERM=dumb turn them off. Plain and JSON output are never coloured.
 */
export function coloursWanted(env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined) return ["", "1", "2", "3", "true"].includes(env.FORCE_COLOR);
  return env.NO_COLOR === undefined && env.NODE_DISABLE_COLORS === undefined && env.TERM !== "dumb";
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export class JsonRenderer implements EventSink {
  constructor(private readonly out: NodeJS.WritableStream) {}
  emit(event: EksboxEvent): void {
    this.out.write(JSON.stringify({ at: new Date().toISOString(), ...event }) + "\n");
  }
}

export class PlainRenderer implements EventSink {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly verbose = false,
  ) {}
  private pending = "";
  private flushScheduled = false;

  emit(event: EksboxEvent): void {
    if (event.type === "log" && event.level === "debug" && !this.verbose) return;
    const line = plainEventLine(event);
    if (line === undefined) return;
    this.pending += `${isoNow()} ${line}\n`;
    // Output lines are written a batch per turn of the event loop (one write instead of thousands);
    // any other event writes at once, after them, so nothing is reordered or left behind.
    // A burst of output in one turn is written as each batch fills, so memory stays bounded.
    if (event.type !== "step-output" || this.pending.length >= FLUSH_AT_CHARS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    this.out.write(text);
  }
}

/** Live progress: finished lines scroll, one status line at the bottom shows the running steps. */
export class TtyRenderer implements EventSink {
  private readonly running = new Map<string, number>();
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly colour: Colours;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly verbose = false,
    env: NodeJS.ProcessEnv = {},
  ) {
    this.colour = picocolors.createColors(coloursWanted(env));
  }

  emit(event: EksboxEvent): void {
    switch (event.type) {
      case "step-start":
        this.running.set(event.step, Date.now());
        this.ensureTicking();
        break;
      case "step-end": {
        this.running.delete(event.step);
        const mark =
          event.status === "done" ? this.colour.green("✔") : event.status === "skipped" ? this.colour.dim("–") : this.colour.red("✖");
        const text = stepEndText(event);
        const reason = text ? this.colour.dim(` ${text}`) : "";
        this.print(`${mark} ${this.colour.bold(event.step)} ${event.status} ${this.colour.dim(seconds(event.elapsedMs))}${reason}`);
        if (this.running.size === 0) this.stopTicking();
        break;
      }
      case "step-output":
        // With one step at a time the prefix is noise; with several it says whose line it is.
        this.print(this.running.size > 1 ? `${this.colour.dim(`[${event.step}]`)} ${event.line}` : `  ${event.line}`);
        break;
      case "log":
        if (event.level === "debug" && !this.verbose) return;
        this.print(event.level === "warn" ? this.colour.yellow(`warning: ${event.message}`) : event.message);
        break;
      case "run-end":
        this.stopTicking();
        this.print(
          event.status === "done"
            ? this.colour.green(`done in ${seconds(event.elapsedMs)}`)
            : `${this.colour.red(event.status)} after ${seconds(event.elapsedMs)}${event.resume ? `; resume with: ${this.colour.bold(event.resume)}` : ""}`,
        );
        break;
      case "interrupt":
        this.print(this.colour.yellow(event.message));
        break;
      default: {
        const line = plainEventLine(event);
        if (line !== undefined) this.print(this.colour.dim(line));
      }
    }
  }

  private print(line: string): void {
    this.clearStatus();
    this.out.write(line + "\n");
    this.drawStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) this.out.write("\r\x1b[2K");
    this.statusShown = false;
  }

  private drawStatus(): void {
    if (this.running.size === 0) return;
    const now = Date.now();
    const parts = [...this.running].map(([step, started]) => `${step} ${seconds(now - started)}`);
    const text = `… ${parts.join("  ")}`;
    this.out.write(this.colour.dim(text.slice(0, (this.out.columns || 80) - 1)));
    this.statusShown = true;
  }

  private ensureTicking(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.clearStatus();
      this.drawStatus();
    }, 1000);
    this.timer.unref();
  }

  private stopTicking(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }
}

export function createRenderer(
  mode: OutputMode,
  streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream },
  verbose = false,
  env: NodeJS.ProcessEnv = {},
): EventSink {
  switch (mode) {
    case "json":
      return new JsonRenderer(streams.stderr);
    case "tty":
      return new TtyRenderer(streams.stderr, verbose, env);
    case "plain":
      return new PlainRenderer(streams.stderr, verbose);
  }
}
