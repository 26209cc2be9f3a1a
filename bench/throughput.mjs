#!/usr/bin/env node
// Output throughput and memory: 200 MB of 80-byte lines printed in the toolbox, through
//   baseline      `docker run --rm IMAGE sh -c 'yes ... | head -c N'` > /dev/null (docker CLI)
//   eksbox exec   `eksbox exec -- sh -c ...` > /dev/null (redacted lines written to stdout, with backpressure)
//   run step      one step of a run: step-output events, plain renderer and run record (bench/lib/step-output.mjs)
// each at 0 bytes (fixed cost), a small size and 200 MB, interleaved. Throughput = bytes / (t(N) - t(0));
// memory = peak RSS of the eksbox process (GNU time %M), which must not grow with the output.
// Usage: node bench/throughput.mjs [--quick] [--image REF] [--json FILE]
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { payloadCommand } from "./lib/payload.mjs";
import { cliPath, finish, loadAverage, parseArgs, repoRoot, say } from "./lib/report.mjs";
import { median, ms, run, x } from "./lib/stats.mjs";

const args = parseArgs();
const imageAt = process.argv.indexOf("--image");
const image = imageAt > 0 ? process.argv[imageAt + 1] : "eksbox-test/debian:bookworm";
const rounds = args.quick ? 1 : 2;
const BIG = 200_000_000;
const SMALL = 20_000_000;
const sizes = [0, SMALL, BIG];
const loadBefore = loadAverage();

const project = await mkdtemp(join(tmpdir(), "eksbox-bench-throughput-"));
await mkdir(join(project, "config", "environments"), { recursive: true });
const env = { ...process.env, EKSBOX_IMAGE: image };

/** Wall ms and peak RSS (MiB) of a process, stdout to /dev/null. */
async function measure(argv) {
  const result = await run("/usr/bin/time", ["-f", "maxrss=%M", ...argv], { env, cwd: project, stdout: "ignore" });
  const rss = Number(/maxrss=(\d+)/.exec(result.stderr)?.[1]) / 1024;
  return { ms: result.ms, rssMiB: rss, stdout: result.stdout };
}

const subjects = {
  "docker run --rm": (bytes) => measure(["docker", "run", "--rm", "--init", "--network", "host", image, ...payloadCommand(bytes)]),
  "eksbox exec": (bytes) => measure(["node", cliPath, "exec", "--no-tty", "--", ...payloadCommand(bytes)]),
  "step in a run": async (bytes) => {
    const result = await run(
      "/usr/bin/time",
      ["-f", "maxrss=%M", "node", join(repoRoot, "bench/lib/step-output.mjs"), image, String(bytes)],
      { env, cwd: project },
    );
    const inner = JSON.parse(result.stdout.trim().split("\n").pop());
    // The step's own time, without the toolbox start-up around it in that process.
    return { ms: inner.ms, rssMiB: Number(/maxrss=(\d+)/.exec(result.stderr)?.[1]) / 1024, samples: inner.rssSamplesMiB };
  },
};

const samples = {};
for (const name of Object.keys(subjects)) samples[name] = Object.fromEntries(sizes.map((s) => [s, { ms: [], rss: [] }]));
let rssTrace;
for (let round = 0; round < rounds; round++) {
  for (const bytes of sizes) {
    const names = Object.keys(subjects);
    const offset = round % names.length;
    for (const name of [...names.slice(offset), ...names.slice(0, offset)]) {
      say(`round ${round + 1}/${rounds}: ${name}, ${bytes / 1e6} MB`);
      const m = await subjects[name](bytes);
      samples[name][bytes].ms.push(m.ms);
      samples[name][bytes].rss.push(m.rssMiB);
      if (m.samples && bytes === BIG) rssTrace = m.samples;
    }
  }
}
await rm(project, { recursive: true, force: true });

// "step in a run" times only the step, so its fixed cost is its own 0-byte step.
const mbps = (name) => BIG / 1e6 / ((median(samples[name][BIG].ms) - median(samples[name][0].ms)) / 1000);
const base = mbps("docker run --rm");
const rows = Object.keys(subjects).map((name) => {
  const s = samples[name];
  return `| ${name} | ${ms(median(s[0].ms), 0)} | ${ms(median(s[SMALL].ms), 0)} | ${ms(median(s[BIG].ms), 0)} | ${ms(mbps(name), 0)} | ${x(mbps(name) / base)} | ${ms(median(s[SMALL].rss), 0)} | ${ms(median(s[BIG].rss), 0)} |`;
});
const growth = (name) => median(samples[name][BIG].rss) - median(samples[name][SMALL].rss);
const flat = (name) => growth(name) < 32;

finish(
  {
    id: "throughput",
    title: "Output throughput and memory (200 MB through a step)",
    reproduce: `node bench/throughput.mjs${args.quick ? " --quick" : ""} --image ${image}`,
    loadBefore,
    targets: ["eksbox exec", "step in a run"].map((name) => ({
      name: `200 MB through ${name === "eksbox exec" ? "`eksbox exec` to stdout" : "a step of a run (events, renderer, run record)"}`,
      target: ">= 90% of `docker run`'s throughput, flat memory",
      measured: `${ms(mbps(name), 0)} MB/s, peak RSS ${ms(median(samples[name][BIG].rss), 0)} MiB (${ms(median(samples[name][SMALL].rss), 0)} MiB at 20 MB)`,
      baseline: `${ms(base, 0)} MB/s`,
      ratio: x(mbps(name) / base),
      met: mbps(name) >= 0.9 * base && flat(name),
    })),
    details: [
      `### Wall time (median ms of ${rounds} round(s)) and peak RSS of the process (MiB)`,
      "",
      "| method | 0 B | 20 MB | 200 MB | MB/s (200 MB minus 0 B) | x docker run | RSS 20 MB | RSS 200 MB |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      "docker run's RSS is the docker CLI's. The step-in-a-run times are the step alone (the toolbox start-up of that process excluded).",
      rssTrace ? `RSS of the step-in-a-run process while 200 MB went through (MiB, sampled): ${rssTrace.join(", ")}` : "",
      "",
    ].join("\n"),
    raw: samples,
  },
  args,
);
