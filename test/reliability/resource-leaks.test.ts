// 100 steps through one toolbox, in process: the runtime must not leak file descriptors, handles
// (sockets, timers) or event listeners per step; after dispose, its container is gone.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CountingSink, openTestToolbox } from "./support/toolbox.js";
import { containersOfEnv, removeOurContainers } from "./support/project.js";
import { recordCount } from "./support/counts.js";

const ENV = "chaos-leaks";
const STEPS = 100;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "eksbox-leaks-"));
});
afterAll(async () => {
  await removeOurContainers([ENV]);
  await rm(root, { recursive: true, force: true });
});

interface Snapshot {
  fds: number;
  handles: number;
  processListeners: number;
}

async function snapshot(): Promise<Snapshot> {
  // Let sockets that are closing finish closing before counting.
  await new Promise((r) => setTimeout(r, 200));
  const handles = process.getActiveResourcesInfo().filter((r) => r !== "Timeout" && r !== "TTYWrap").length;
  const processListeners = process.eventNames().reduce((sum, name) => sum + process.listenerCount(name), 0);
  return { fds: (await readdir("/proc/self/fd")).length, handles, processListeners };
}

it(`${STEPS} steps leak no file descriptor, handle or listener`, async () => {
  const sink = new CountingSink();
  const { toolbox, interrupter } = await openTestToolbox(root, ENV, `chaos-leaks-${process.pid}`, sink);
  const interrupterListeners = () => (interrupter as unknown as { listeners: Set<unknown> }).listeners.size;
  try {
    const step = (i: number) =>
      toolbox.run({ step: `s${i}`, argv: ["sh", "-c", 'echo "out $0"; echo "err $0" >&2; exit $(( $0 % 3 ))', String(i)] });
    for (let i = 0; i < 5; i++) await step(i); // warm-up: the engine client's sockets and caches
    const before = await snapshot();
    const listenersBefore = interrupterListeners();
    const codes: number[] = [];
    for (let i = 0; i < STEPS; i++) codes.push((await step(i)).exitCode);
    const after = await snapshot();
    expect(codes.filter((c) => c === 0).length).toBe(34);
    expect(codes.filter((c) => c === 2).length).toBe(33);
    expect(sink.lines).toBeGreaterThanOrEqual(2 * (STEPS + 5));
    // A small constant is allowed (a keep-alive socket opened or closed); a per-step leak is 100+.
    expect(after.fds - before.fds, JSON.stringify({ before, after })).toBeLessThanOrEqual(4);
    expect(after.handles - before.handles, JSON.stringify({ before, after })).toBeLessThanOrEqual(4);
    expect(after.processListeners).toBe(before.processListeners);
    expect(interrupterListeners()).toBe(listenersBefore);
    recordCount("steps checked for fd/handle/listener leaks", STEPS);
    console.log(
      `reliability: fds ${before.fds} -> ${after.fds}, handles ${before.handles} -> ${after.handles}, process listeners ${before.processListeners} -> ${after.processListeners}`,
    );
  } finally {
    await toolbox.dispose();
  }
  expect(interrupterListeners()).toBe(0);
  expect(await containersOfEnv(ENV)).toEqual([]);
});
