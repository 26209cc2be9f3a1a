// Core modules never print. They emit these typed events to an EventSink; the CLI decides how they
// look (live progress on a TTY, plain timestamped lines in CI, one JSON object a line with
// `--output json`) and the run recorder keeps them under .eksbox/runs/.

export type LogLevel = "debug" | "info" | "warn";
export type StepStatus = "done" | "skipped" | "failed" | "aborted";

export type EksboxEvent =
  | { type: "log"; level: LogLevel; message: string }
  | { type: "file-written"; path: string }
  | { type: "run-start"; runId: string; task: string; env: string }
  | { type: "run-end"; runId: string; status: "done" | "failed" | "aborted"; elapsedMs: number; resume?: string }
  | { type: "image"; ref: string; id: string; digest?: string; tools: Record<string, string> }
  | { type: "image-build"; line: string }
  | { type: "step-start"; step: string; argv?: readonly string[]; description?: string }
  | { type: "step-output"; step: string; stream: "stdout" | "stderr"; line: string }
  /** `reason`: why the step decided as it did (kept in the run record); `summary`: what a done step did (shown). */
  | { type: "step-end"; step: string; status: StepStatus; elapsedMs: number; reason?: string; summary?: string }
  | { type: "interrupt"; level: 1 | 2 | 3; message: string };

export interface EventSink {
  emit(event: EksboxEvent): void;
}

/** Discards everything: for library callers that do not care. */
export const nullSink: EventSink = { emit() {} };

/** Collects events in memory: for tests and for commands that render at the end. */
export class MemorySink implements EventSink {
  readonly events: EksboxEvent[] = [];
  emit(event: EksboxEvent): void {
    this.events.push(event);
  }
}

export function fanOut(...sinks: EventSink[]): EventSink {
  return {
    emit(event) {
      for (const sink of sinks) sink.emit(event);
    },
  };
}

export const log = {
  info: (sink: EventSink, message: string) => sink.emit({ type: "log", level: "info", message }),
  warn: (sink: EventSink, message: string) => sink.emit({ type: "log", level: "warn", message }),
  debug: (sink: EventSink, message: string) => sink.emit({ type: "log", level: "debug", message }),
};

/** One event as a plain line (CI output and run.log); undefined for events that have none. */
/** A done step says what it did; a skipped or failed one why. */
export function stepEndText(event: Extract<EksboxEvent, { type: "step-end" }>): string | undefined {
  return event.status === "done" && event.summary !== undefined ? event.summary : event.reason;
}

export function plainEventLine(event: EksboxEvent): string | undefined {
  switch (event.type) {
    case "log":
      return `${event.level}: ${event.message}`;
    case "file-written":
      return `wrote ${event.path}`;
    case "run-start":
      return `run ${event.runId}: ${event.task} --env ${event.env}`;
    case "run-end":
      return `run ${event.runId} ${event.status} after ${(event.elapsedMs / 1000).toFixed(1)}s${event.resume ? `; resume with: ${event.resume}` : ""}`;
    case "image":
      return `toolbox ${event.ref} (${event.digest ?? event.id}) ${Object.entries(event.tools)
        .map(([t, v]) => `${t} ${v}`)
        .join(", ")}`;
    case "image-build":
      return `build: ${event.line}`;
    case "step-start":
      return `[${event.step}] start${event.description ? `: ${event.description}` : ""}`;
    case "step-output":
      return `[${event.step}] ${event.line}`;
    case "step-end":
      return `[${event.step}] ${event.status} (${(event.elapsedMs / 1000).toFixed(1)}s)${stepEndText(event) ? `: ${stepEndText(event)}` : ""}`;
    case "interrupt":
      return `interrupt: ${event.message}`;
  }
}

let lastMs = 0;
let lastIso = "";
/** new Date().toISOString(), formatted once per millisecond: output lines come far faster than that. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
