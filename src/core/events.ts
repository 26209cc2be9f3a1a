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
  | { type: "step-end"; step: string; status: StepStatus; elapsedMs: number; reason?: string }
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
