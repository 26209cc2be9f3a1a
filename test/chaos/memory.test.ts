// Memory stays flat while a step streams ~200 MB of output: the runtime passes lines on as they come
// and keeps only a bounded tail, so the peak RSS over the step grows by far less than the stream.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CountingSink, openTestToolbox } from "../reliability/support/toolbox.js";
import { containersOfEnv, removeOurContainers } from "../reliability/support/project.js";
import { recordCount } from "../reliability/support/counts.js";

const ENV = "chaos-memory";
const BYTES = 200_000_000;
const LINE = 200;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "eksbox-memory-"));
});
afterAll(async () => {
  await removeOurContainers([ENV]);
  await rm(root, { recursive: true, force: true });
});

it("a step streaming 200 MB keeps the peak RSS growth under 100 MB", async () => {
  const sink = new CountingSink();
  const { toolbox } = await openTestToolbox(root, ENV, `chaos-memory-${process.pid}`, sink);
  try {
    await toolbox.run({ step: "warm-up", argv: ["sh", "-c", "yes | head -c 1000000"] });
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const script = `yes "$(printf '%0${LINE - 1}d' 0)" | head -c ${BYTES}; echo "tail line" >&2`;
    const result = await toolbox.run({ step: "stream", argv: ["sh", "-c", script] }).finally(() => clearInterval(sampler));
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(result.exitCode).toBe(0);
    // Every line arrived as an event (and was dropped by the sink): the stream really went through.
    expect(sink.lines).toBeGreaterThanOrEqual(BYTES / LINE);
    const growthMb = (peak - baseline) / 1e6;
    recordCount("resource: MB streamed through one step", BYTES / 1e6);
    console.log(
      `reliability: rss baseline ${(baseline / 1e6).toFixed(0)} MB, peak ${(peak / 1e6).toFixed(0)} MB, growth ${growthMb.toFixed(0)} MB over ${BYTES / 1e6} MB streamed`,
    );
    expect(growthMb).toBeLessThan(100);
  } finally {
    await toolbox.dispose();
  }
  expect(await containersOfEnv(ENV)).toEqual([]);
});
