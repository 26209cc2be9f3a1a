#!/usr/bin/env node
// `eksbox born` end to end against the local emulator (moto, the kube-apiserver stand-in, the test
// toolbox image with the eksctl/flux test doubles). From the run record's events.jsonl it takes each
// step's start and end, and compares the run's wall time with the sum of its critical path's step
// times (the longest chain through `needs`): whatever the scheduler adds is the difference. It also
// checks that the independent steps (nodegroups, serviceaccounts, kubeconfig) ran side by side.
// Each round creates a fresh environment; a second born of it (everything skipped) follows.
// Usage: node bench/born.mjs [--quick] [--json FILE]
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { emulatorEnv, ensureTestImage, makeProject, startKubeApi, startMoto } from "./lib/emulator.mjs";
import { cliPath, sourceModule, finish, loadAverage, parseArgs, say } from "./lib/report.mjs";
import { median, ms, run, x } from "./lib/stats.mjs";

const args = parseArgs();
const rounds = args.quick ? 1 : 2;
const loadBefore = loadAverage();
const { bornTask } = await sourceModule("steps/born.js");
const needs = Object.fromEntries(bornTask().steps.map((s) => [s.id, [...s.needs]]));

/** Step intervals and run bounds of one run, from its events.jsonl. */
async function readRun(project, envName) {
  const latest = JSON.parse(await readFile(join(project, ".eksbox", "runs", `latest-${envName}.json`), "utf8"));
  const lines = (await readFile(join(project, ".eksbox", "runs", latest.runId, "events.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const steps = {};
  let runStart;
  let runEnd;
  for (const e of lines) {
    const at = Date.parse(e.at);
    if (e.type === "run-start") runStart = at;
    if (e.type === "run-end") runEnd = { at, elapsedMs: e.elapsedMs, status: e.status };
    if (e.type === "step-start") steps[e.step] = { start: at };
    if (e.type === "step-end") Object.assign(steps[e.step], { end: at, status: e.status, elapsedMs: e.elapsedMs });
  }
  return { runId: latest.runId, status: latest.status, steps, runStart, runEnd };
}

/** Longest chain through needs, by the steps' own durations. */
function criticalPath(steps) {
  const finishAt = {};
  const via = {};
  const visit = (id) => {
    if (finishAt[id] !== undefined) return finishAt[id];
    let before = 0;
    for (const need of needs[id] ?? []) {
      if (visit(need) > before) {
        before = finishAt[need];
        via[id] = need;
      }
    }
    finishAt[id] = before + (steps[id].end - steps[id].start);
    return finishAt[id];
  };
  const ids = Object.keys(steps);
  const last = ids.reduce((a, b) => (visit(a) >= visit(b) ? a : b));
  const path = [];
  for (let id = last; id; id = via[id]) path.unshift(id);
  return { ms: finishAt[last], path };
}

function analyse(record) {
  const { steps } = record;
  const starts = Object.values(steps).map((s) => s.start);
  const ends = Object.values(steps).map((s) => s.end);
  const span = Math.max(...ends) - Math.min(...starts);
  const critical = criticalPath(steps);
  // Scheduler delay: from the moment a step's last need ended to the moment it started.
  const delays = Object.entries(steps).map(
    ([id, s]) => s.start - Math.max(Math.min(...starts), ...(needs[id] ?? []).map((n) => steps[n].end)),
  );
  const parallel = ["nodegroups", "serviceaccounts", "kubeconfig"].filter((id) => steps[id]);
  const overlapMs =
    parallel.length > 1 ? Math.min(...parallel.map((id) => steps[id].end)) - Math.max(...parallel.map((id) => steps[id].start)) : 0;
  const sumAll = Object.values(steps).reduce((sum, s) => sum + (s.end - s.start), 0);
  return {
    span,
    critical,
    runElapsed: record.runEnd.elapsedMs,
    // Opening the toolbox (engine, image, container) comes before the first step; removing it after the last.
    beforeSteps: Math.min(...starts) - record.runStart,
    afterSteps: record.runEnd.at - Math.max(...ends),
    maxDelay: Math.max(...delays),
    sumDelay: delays.reduce((a, b) => a + b, 0),
    overlapMs,
    parallelSaving: sumAll - span,
    steps: Object.fromEntries(
      Object.entries(steps).map(([id, s]) => [id, { startMs: s.start - Math.min(...starts), ms: s.end - s.start, status: s.status }]),
    ),
  };
}

say("starting moto, the kube-apiserver stand-in and the test toolbox image");
const image = await ensureTestImage();
const moto = await startMoto();
const kube = await startKubeApi(moto.url);
const envNames = Array.from({ length: rounds }, (_, i) => `born${i + 1}`);
const project = await makeProject(moto.url, envNames);
const env = emulatorEnv(image, kube.url);
const created = [];
const again = [];
try {
  for (const name of envNames) {
    say(`born --env ${name} (creates everything)`);
    const first = await run("node", [cliPath, "born", "--env", name, "--no-tty"], { env, cwd: project });
    created.push({ wall: first.ms, ...analyse(await readRun(project, name)) });
    say(`born --env ${name} again (everything exists)`);
    const second = await run("node", [cliPath, "born", "--env", name, "--no-tty"], { env, cwd: project });
    again.push({ wall: second.ms, ...analyse(await readRun(project, name)) });
  }
} finally {
  await kube.stop();
  await moto.stop();
  await rm(project, { recursive: true, force: true });
}

const med = (list, f) => median(list.map(f));
const spanRatio = (list) => med(list, (r) => r.span / r.critical.ms);
const stepsTable = (r) =>
  [
    "| step | starts at (ms) | takes (ms) | status |",
    "|---|---|---|---|",
    ...Object.entries(r.steps).map(
      ([id, s]) => `| ${id}${r.critical.path.includes(id) ? " (critical)" : ""} | ${s.startMs} | ${s.ms} | ${s.status} |`,
    ),
  ].join("\n");
const summaryRows = [
  ["born (creates)", created],
  ["born again (all skipped)", again],
].map(
  ([label, list]) =>
    `| ${label} | ${ms(
      med(list, (r) => r.wall),
      0,
    )} | ${ms(
      med(list, (r) => r.runElapsed),
      0,
    )} | ${ms(
      med(list, (r) => r.span),
      0,
    )} | ${ms(
      med(list, (r) => r.critical.ms),
      0,
    )} | ${x(spanRatio(list), 3)} | ${ms(
      med(list, (r) => r.maxDelay),
      0,
    )} | ${ms(
      med(list, (r) => r.overlapMs),
      0,
    )} | ${ms(
      med(list, (r) => r.parallelSaving),
      0,
    )} |`,
);

finish(
  {
    id: "born",
    title: "`eksbox born` end to end against the local emulator",
    reproduce: `node bench/born.mjs${args.quick ? " --quick" : ""}`,
    loadBefore,
    targets: [
      {
        name: "born: steps' wall time vs the sum of the critical path's step times",
        target: "within 5%",
        measured: `${ms(
          med(created, (r) => r.span),
          0,
        )} ms`,
        baseline: `${ms(
          med(created, (r) => r.critical.ms),
          0,
        )} ms (${created[0].critical.path.join(" -> ")})`,
        ratio: x(spanRatio(created), 3),
        met: spanRatio(created) <= 1.05,
      },
      {
        name: "born: the whole process's wall time vs the critical path's step times",
        target: "within 5%",
        measured: `${ms(
          med(created, (r) => r.wall),
          0,
        )} ms`,
        baseline: `${ms(
          med(created, (r) => r.critical.ms),
          0,
        )} ms`,
        ratio: x(
          med(created, (r) => r.wall / r.critical.ms),
          3,
        ),
        met: med(created, (r) => r.wall / r.critical.ms) <= 1.05,
        limit: "start-up, toolbox container start and removal: a fixed cost per run, see the breakdown",
      },
      {
        name: "independent steps overlap (nodegroups, serviceaccounts, kubeconfig)",
        target: "they run side by side",
        measured: `all three overlap for ${ms(
          med(created, (r) => r.overlapMs),
          0,
        )} ms; running them side by side saves ${ms(
          med(created, (r) => r.parallelSaving),
          0,
        )} ms`,
        baseline: "0 ms (one after another)",
        ratio: "n/a",
        met: med(created, (r) => r.overlapMs) > 0,
      },
    ],
    details: [
      `### Medians of ${rounds} round(s)`,
      "",
      "wall = the `eksbox born` process; run = run-start to run-end (opening and removing the toolbox included); steps = first step start to last step end; delay = the longest wait of a step after its last need ended (what the scheduler adds).",
      "",
      "| run | wall ms | run ms | steps ms | critical path ms | steps / critical path | max delay ms | overlap ms | saved by parallel steps ms |",
      "|---|---|---|---|---|---|---|---|---|",
      ...summaryRows,
      "",
      "Where the wall time outside the steps goes (medians, ms): " +
        [
          ["born (creates)", created],
          ["born again", again],
        ]
          .map(
            ([label, list]) =>
              `${label}: process start-up and config before the run record ${ms(
                med(list, (r) => r.wall - r.runElapsed),
                0,
              )}, toolbox start before the first step ${ms(
                med(list, (r) => r.beforeSteps),
                0,
              )}, after the last step (toolbox removal, record) ${ms(
                med(list, (r) => r.afterSteps),
                0,
              )}`,
          )
          .join("; ") +
        ".",
      "",
      "### Steps of the first born (ms from the first step's start)",
      "",
      stepsTable(created[0]),
      "",
      "### Steps of the second born",
      "",
      stepsTable(again[0]),
      "",
    ].join("\n"),
    raw: { created, again },
  },
  args,
);
