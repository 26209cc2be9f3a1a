// Every run leaves a record under .eksbox/runs/<run id>/: events.jsonl (every event, one JSON object
// a line) and run.log (plain timestamped lines), both redacted, plus summary.json. The newest
// summary per environment is what `eksbox status` shows as the last run.
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isoNow, plainEventLine, type EksboxEvent, type EventSink } from "../core/events.js";
import { writeFileAtomic } from "../core/files.js";
import { eksboxPaths } from "../core/layout.js";

export interface RunSummary {
  runId: string;
  task: string;
  env: string;
  status: "running" | "done" | "failed" | "aborted";
  startedAt: string;
  endedAt?: string;
  image?: { ref: string; id: string; digest?: string };
  steps?: { id: string; status: string; elapsedMs: number }[];
  error?: string;
  resume?: string;
}

function redactDeep(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === "string") return redact(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, redact));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)]));
  }
  return value;
}

/** A full or read-only disk must not crash the run: the record is secondary to the work. */
function appendOrDrop(fd: number | undefined, text: string): number | undefined {
  if (fd === undefined || text === "") return fd;
  try {
    writeSync(fd, text);
    return fd;
  } catch {
    try {
      closeSync(fd);
    } catch {
      // already unusable
    }
    return undefined;
  }
}

/** How much unwritten text a sink holds at most before writing it, whatever the turn of the event loop. */
export const FLUSH_AT_CHARS = 256 * 1024;

export class RunRecorder implements EventSink {
  readonly dir: string;
  /** Appended synchronously, a batch per turn of the event loop: a fast producer is slowed down rather than buffered in memory. */
  private eventsFd: number | undefined;
  private logFd: number | undefined;
  private readonly summary: RunSummary;

  private constructor(
    private readonly projectRoot: string,
    dir: string,
    summary: RunSummary,
    private readonly redact: (text: string) => string,
  ) {
    this.dir = dir;
    this.summary = summary;
    this.eventsFd = openSync(join(dir, "events.jsonl"), "a");
    this.logFd = openSync(join(dir, "run.log"), "a");
  }

  static async open(
    projectRoot: string,
    run: { runId: string; task: string; env: string },
    redact: (text: string) => string,
  ): Promise<RunRecorder> {
    const dir = join(projectRoot, eksboxPaths.run(run.runId));
    await mkdir(dir, { recursive: true });
    const summary: RunSummary = { ...run, status: "running", startedAt: new Date().toISOString() };
    const recorder = new RunRecorder(projectRoot, dir, summary, redact);
    await recorder.writeSummary();
    return recorder;
  }

  emit(event: EksboxEvent): void {
    // Step output is most of the events (eksctl prints thousands of lines): redact its one string
    // field directly rather than walking the object.
    const safe = (
      event.type === "step-output" ? { ...event, line: this.redact(event.line) } : redactDeep(event, this.redact)
    ) as EksboxEvent;
    const at = isoNow();
    this.pendingEvents += JSON.stringify({ at, ...safe }) + "\n";
    const line = plainEventLine(safe);
    if (line !== undefined) this.pendingLog += `${at} ${line}\n`;
    if (safe.type === "image") this.summary.image = { ref: safe.ref, id: safe.id, digest: safe.digest };
    // One write per file per turn of the event loop instead of two per line, and at once when a burst
    // (the engine's socket can deliver megabytes in one turn) fills a batch: memory stays bounded.
    if (this.pendingEvents.length + this.pendingLog.length >= FLUSH_AT_CHARS) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  private pendingEvents = "";
  private pendingLog = "";
  private flushScheduled = false;

  private flush(): void {
    this.eventsFd = appendOrDrop(this.eventsFd, this.pendingEvents);
    this.logFd = appendOrDrop(this.logFd, this.pendingLog);
    this.pendingEvents = "";
    this.pendingLog = "";
  }

  async close(result: Pick<RunSummary, "status" | "steps" | "error" | "resume">): Promise<RunSummary> {
    Object.assign(this.summary, redactDeep(result, this.redact), { endedAt: new Date().toISOString() });
    this.flush();
    for (const fd of [this.eventsFd, this.logFd]) if (fd !== undefined) closeSync(fd);
    this.eventsFd = this.logFd = undefined;
    await this.writeSummary().catch(() => {});
    return this.summary;
  }

  private async writeSummary(): Promise<void> {
    const text = JSON.stringify(this.summary, null, 2) + "\n";
    await writeFileAtomic(join(this.dir, "summary.json"), text);
    await writeFileAtomic(join(this.projectRoot, eksboxPaths.latestRun(this.summary.env)), text);
  }
}

export async function lastRun(projectRoot: string, envName: string): Promise<RunSummary | undefined> {
  try {
    return JSON.parse(await readFile(join(projectRoot, eksboxPaths.latestRun(envName)), "utf8")) as RunSummary;
  } catch {
    return undefined;
  }
}
