// pollUntilDone: the one loop the waits on the cloud share (a roll's and a mode switch's Ready nodes,
// an EKS cluster update). Its deadline is set to have passed or to be far off, never raced.
import { describe, expect, it } from "vitest";
import { MemorySink } from "../../../src/core/events.js";
import { pollUntilDone, type PollOptions } from "../../../src/core/sleep.js";

function poller(answers: (string | undefined)[], overrides: Partial<PollOptions<string>> = {}) {
  const events = new MemorySink();
  let looks = 0;
  const opts: PollOptions<string> = {
    signal: new AbortController().signal,
    events,
    timeoutMs: 60_000,
    intervalMs: 0,
    look: async () => answers[looks++],
    waiting: (awaited) => `waiting for ${awaited}`,
    aborted: () => new Error("aborted"),
    timedOut: (awaited) => new Error(`timed out on ${awaited}`),
    ...overrides,
  };
  return { opts, events, looks: () => looks };
}

describe("pollUntilDone", () => {
  it("looks until a look finds it done, saying what it awaits between looks", async () => {
    const { opts, events, looks } = poller(["ng-a, ng-b", "ng-b", undefined]);
    await pollUntilDone(opts);
    expect(looks()).toBe(3);
    expect(events.events).toEqual([
      { type: "log", level: "info", message: "waiting for ng-a, ng-b" },
      { type: "log", level: "info", message: "waiting for ng-b" },
    ]);
  });

  it("is done at once when the first look finds it so, even interrupted or past its deadline", async () => {
    const controller = new AbortController();
    controller.abort();
    const { opts, events, looks } = poller([undefined], { signal: controller.signal, timeoutMs: -1 });
    await pollUntilDone(opts);
    expect(looks()).toBe(1);
    expect(events.events).toEqual([]);
  });

  it("interrupted while something is awaited: the caller's abort error, and no further look", async () => {
    const controller = new AbortController();
    const { opts, looks } = poller(["InProgress", "InProgress", undefined], {
      signal: controller.signal,
      waiting: (awaited) => {
        controller.abort();
        return `waiting: ${awaited}`;
      },
    });
    await expect(pollUntilDone(opts)).rejects.toThrow("aborted");
    expect(looks()).toBe(2);
  });

  it("past its deadline with something awaited: the caller's timeout error with the last look's answer", async () => {
    const { opts, events } = poller(["InProgress"], { timeoutMs: -1 });
    await expect(pollUntilDone(opts)).rejects.toThrow("timed out on InProgress");
    expect(events.events).toEqual([]);
  });

  it("a look that throws (a failed update) ends the wait with that error", async () => {
    const { opts } = poller([], { look: async () => Promise.reject(new Error("Failed: AccessDenied")) });
    await expect(pollUntilDone(opts)).rejects.toThrow("Failed: AccessDenied");
  });
});
