// One step of a run whose command prints BYTES of lines: the output goes through eksbox's whole path
// (demultiplexing, line splitting, redaction, step-output events, the plain renderer and the run
// record), as eksctl's output does in `eksbox born`. Prints {"ms", "peakRssMiB", "rssSamplesMiB"}.
// Usage: node bench/lib/step-output.mjs IMAGE BYTES
import { openSync, writeSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runModules } from "./report.mjs";
import { nowMs } from "./stats.mjs";

const [image, bytes] = process.argv.slice(2);
const { openToolbox, Interrupter, runTask, RunRecorder, PlainRenderer, fanOut } = await runModules();
const { payloadCommand } = await import("./payload.mjs");

const project = await mkdtemp(join(tmpdir(), "eksbox-bench-output-"));
await mkdir(join(project, "config", "environments"), { recursive: true });
const interrupter = new Interrupter();
const recorder = await RunRecorder.open(project, { runId: "bench", task: "bench", env: "bench" }, (t) => t);
// Like process.stderr redirected to a file (CI logs): synchronous writes.
const devNull = openSync("/dev/null", "w");
const stderrToFile = { write: (text) => (writeSync(devNull, text), true) };
const events = fanOut(new PlainRenderer(stderrToFile), recorder);
const toolbox = await openToolbox({
  projectRoot: project,
  runId: `bench-${process.pid}`,
  events,
  interrupter,
  processEnv: { ...process.env, EKSBOX_IMAGE: image },
});
const rss = [];
const sampler = setInterval(() => rss.push(process.memoryUsage().rss), 50);
let elapsed;
try {
  const task = {
    name: "bench",
    concurrency: 1,
    steps: [
      {
        id: "output",
        description: "print lines",
        needs: [],
        decide: async () => ({ action: "run", reason: "bench", commands: [] }),
        run: async (ctx) => void (await ctx.toolbox.runOrFail({ step: "output", argv: payloadCommand(Number(bytes)) })),
      },
    ],
  };
  const start = nowMs();
  const result = await runTask(task, { toolbox, events, signal: interrupter.signal, planning: false });
  elapsed = nowMs() - start;
  if (result.status !== "done") throw result.error;
} finally {
  clearInterval(sampler);
  await toolbox.dispose();
  await recorder.close({ status: "done" });
  await rm(project, { recursive: true, force: true });
}
const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;
const step = Math.max(1, Math.floor(rss.length / 8));
process.stdout.write(
  JSON.stringify({ ms: elapsed, peakRssMiB: mib(Math.max(...rss)), rssSamplesMiB: rss.filter((_, i) => i % step === 0).map(mib) }) + "\n",
);
