import type { EventSink } from "./events.js";

/** Waits `ms`, or less when `signal` aborts first; never rejects, so a poll loop checks the signal itself. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** How to wait on the cloud: look, and until the look finds it done, say what is awaited and look again. */
export interface PollOptions<Awaited> {
  signal: AbortSignal;
  events: EventSink;
  timeoutMs: number;
  intervalMs: number;
  /** One look: undefined when done, else what is still awaited. It may throw (a wait that has failed). */
  look: () => Promise<Awaited | undefined>;
  /** The progress line between looks. */
  waiting: (awaited: Awaited) => string;
  /** Thrown when interrupted while something is still awaited. */
  aborted: () => Error;
  /** Thrown once the deadline has passed with something still awaited. */
  timedOut: (awaited: Awaited) => Error;
}

/** The poll loop every wait on the cloud shares (Ready nodes, an EKS update): resolves once a look finds it done. */
export async function pollUntilDone<Awaited>(opts: PollOptions<Awaited>): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const awaited = await opts.look();
    if (awaited === undefined) return;
    if (opts.signal.aborted) throw opts.aborted();
    if (Date.now() > deadline) throw opts.timedOut(awaited);
    opts.events.emit({ type: "log", level: "info", message: opts.waiting(awaited) });
    await sleepUnlessAborted(opts.intervalMs, opts.signal);
  }
}
