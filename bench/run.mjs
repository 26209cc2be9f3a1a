#!/usr/bin/env node
// `npm run bench`: builds dist/ when src/ is newer, makes sure the Docker engine and base image are
// there, runs every benchmark (each measures against a baseline in the same run) and rewrites
// bench/RESULTS.md with the figures, the machine and how to reproduce them.
// Usage: node bench/run.mjs [--quick] [--only exec,startup,...] [--no-write]
//   --quick: few rounds (a smoke run, a few minutes); without it the full run takes about 7 minutes on 2 cores.
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeMachine, loadAverage, machineLine } from "./lib/machine.mjs";
import { targetTable, repoRoot, say } from "./lib/report.mjs";
import { run } from "./lib/stats.mjs";

const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const onlyAt = argv.indexOf("--only");
const only = onlyAt >= 0 ? argv[onlyAt + 1].split(",") : undefined;
const write = !argv.includes("--no-write");

// In the order they are reported; the cheap, quiet ones first so the Docker-heavy ones do not
// leave load behind for them.
const benches = [
  { id: "startup", script: "bench/startup.mjs" },
  { id: "generate", script: "bench/generate.mjs" },
  { id: "exec", script: "bench/exec.mjs" },
  { id: "throughput", script: "bench/throughput.mjs" },
  { id: "born", script: "bench/born.mjs" },
  { id: "fleet", script: "bench/fleet.mjs" },
  { id: "converge", script: "bench/converge.mjs" },
].filter((b) => !only || only.includes(b.id));

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const cli = join(repoRoot, "dist", "cli.js");
if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(join(repoRoot, "src"))) {
  say("building dist/ (src/ is newer)");
  // The same bundle users get; a type error stops the build (npm run build type-checks first).
  await run("npm", ["run", "build", "--silent"], { cwd: repoRoot });
}
await run("bash", [join(repoRoot, "test/support/setup-engine.sh")], { cwd: repoRoot });

const machine = describeMachine();
const started = Date.now();
const scratch = await mkdtemp(join(tmpdir(), "eksbox-bench-results-"));
const results = [];
try {
  for (const bench of benches) {
    say(`\n== ${bench.id} (load average ${loadAverage()})`);
    const json = join(scratch, `${bench.id}.json`);
    const child = await run("node", [join(repoRoot, bench.script), ...(quick ? ["--quick"] : []), "--json", json], {
      cwd: repoRoot,
      allowFailure: true,
      stdout: "ignore",
      stderr: "inherit",
    });
    if (child.code !== 0) {
      say(`${bench.id} failed (exit ${child.code}); its error is above`);
      results.push({
        id: bench.id,
        failed: true,
        error: `exit ${child.code}: run \`node ${bench.script}${quick ? " --quick" : ""}\` alone to see it`,
      });
      continue;
    }
    results.push(JSON.parse(await readFile(json, "utf8")));
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}
const minutes = ((Date.now() - started) / 60000).toFixed(1);

const allTargets = results.flatMap((r) => (r.failed ? [] : r.targets.map((t) => ({ ...t, name: `${t.name}` }))));
const failed = results.filter((r) => r.failed);
const document = [
  "# Benchmarks: what eksbox adds, against the engine's floor",
  "",
  "Every figure is a median over rounds in which eksbox and its baseline ran interleaved in the same",
  "run, so load and drift hit both alike; ratios are what to compare across machines, not milliseconds.",
  "",
  `Reproduce: \`npm run bench\` (full, about 7 minutes on 2 cores) or \`npm run bench -- --quick\` (a few rounds);`,
  "each script also runs alone (`node bench/<name>.mjs [--quick]`, see the sections).",
  "They need the Docker engine, moto (`moto_server`) and python3 on the host, as the e2e tests do;",
  "`bash test/support/setup-engine.sh` prepares the engine and base image.",
  "",
  `Measured ${machine.date} (${quick ? "--quick" : "full run"}, ${minutes} min) on: ${machineLine(machine)}; load average at the end ${loadAverage()}.`,
  "",
  "## Summary",
  "",
  targetTable(allTargets),
  "",
  ...(failed.length ? ["Benchmarks that failed this run:", "", ...failed.map((f) => `- ${f.id}:\n\n\`\`\`\n${f.error}\n\`\`\``), ""] : []),
  "See [Findings](#findings) for what limits each missed target and the fix measured for it.",
  "",
  ...results.filter((r) => !r.failed).map((r) => r.markdown),
  "",
  "## Earlier measurements kept beside this file",
  "",
  "- [RESULTS-runtime.md](RESULTS-runtime.md): container per step vs exec per step, the decision behind the runtime (`node bench/runtime-overhead.mjs`).",
  "- [RESULTS-image.md](RESULTS-image.md): toolbox image build cold, warm and with one pin changed (`npx tsx bench/image-build.ts`; minutes, not part of `npm run bench`).",
  "",
];

// The hand-written analysis (what limits each target, fixes measured) is kept across reruns: it is
// everything from "## Findings" on in the current RESULTS.md.
const resultsFile = join(repoRoot, "bench", "RESULTS.md");
const previous = existsSync(resultsFile) ? await readFile(resultsFile, "utf8") : "";
const findingsAt = previous.indexOf("\n## Findings");
document.push(findingsAt >= 0 ? previous.slice(findingsAt + 1) : "## Findings\n\n(none written yet)\n");
const text = document.join("\n");
if (write) {
  await writeFile(resultsFile, text);
  say(`\nwrote bench/RESULTS.md (${minutes} min)`);
} else {
  process.stdout.write(text);
}
