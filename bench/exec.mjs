#!/usr/bin/env node
// Per-step cost and `eksbox exec` from a cold process, against what a user has without eksbox.
//   per step, in one run (interleaved rounds, `true` as the command, so every millisecond is overhead):
//     baseline     `docker run --rm --init --network host IMAGE true` (docker CLI; what variant and Makefiles do)
//     docker exec  `docker exec CONTAINER true` into the run's toolbox container (docker CLI)
//     engine exec  one exec through the Engine API with no eksbox code (the floor of exec per step)
//     toolbox.run  eksbox's runtime: openToolbox(...).run({ argv: ["true"] })
//     run step     a one-step task through the scheduler, with the run record and plain renderer attached
//   cold: `eksbox exec -- true` (a new node process each time) vs `docker run --rm IMAGE true`.
// Usage: node bench/exec.mjs [--quick] [--image REF] [--json FILE]
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createWriteStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliPath, finish, loadAverage, parseArgs, runModules, say } from "./lib/report.mjs";
import { command, interleave, median, ms, spread, x } from "./lib/stats.mjs";

const args = parseArgs();
const imageAt = process.argv.indexOf("--image");
const image = imageAt > 0 ? process.argv[imageAt + 1] : "eksbox-test/debian:bookworm";
const stepRounds = args.quick ? 8 : 25;
const coldRounds = args.quick ? 5 : 15;
const loadBefore = loadAverage();

const { openToolbox, Interrupter, runTask, RunRecorder, PlainRenderer, fanOut } = await runModules();

const project = await mkdtemp(join(tmpdir(), "eksbox-bench-exec-"));
await mkdir(join(project, "config", "environments"), { recursive: true });
const processEnv = { ...process.env, EKSBOX_IMAGE: image };
const devNull = createWriteStream("/dev/null");
const interrupter = new Interrupter();

const toolbox = await openToolbox({ projectRoot: project, runId: `bench-${process.pid}`, events: { emit() {} }, interrupter, processEnv });
const containerId = toolbox.container.id;
let perStep;
try {
  const recorder = await RunRecorder.open(project, { runId: `bench-${process.pid}`, task: "bench", env: "bench" }, (t) => t);
  const events = fanOut(new PlainRenderer(devNull), recorder);
  const stepCtx = { toolbox, events, signal: interrupter.signal, planning: false };
  const oneStepTask = {
    name: "bench",
    concurrency: 1,
    steps: [
      {
        id: "noop",
        description: "true",
        needs: [],
        decide: async () => ({ action: "run", reason: "bench", commands: [{ argv: ["true"] }] }),
        run: async (ctx) => void (await ctx.toolbox.runOrFail({ step: "noop", argv: ["true"] })),
      },
    ],
  };
  const rawEngineExec = async () => {
    const exec = await toolbox.container.exec({ Cmd: ["true"], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise((resolve, reject) => {
      stream.on("data", () => {});
      stream.on("end", resolve);
      stream.on("close", resolve);
      stream.on("error", reject);
    });
    // Poll as tightly as the engine allows: this is the floor, not a design.
    for (;;) {
      const info = await exec.inspect();
      if (!info.Running) return;
    }
  };
  say(`per step: ${stepRounds} interleaved rounds against ${image}`);
  perStep = await interleave(
    {
      "docker run --rm": command("docker", ["run", "--rm", "--init", "--network", "host", image, "true"]),
      "docker exec": command("docker", ["exec", containerId, "true"]),
      "engine exec (no eksbox)": rawEngineExec,
      "toolbox.run": async () => {
        const result = await toolbox.run({ step: "noop", argv: ["true"] });
        if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}`);
      },
      "step in a run": async () => {
        const result = await runTask(oneStepTask, stepCtx);
        if (result.status !== "done") throw result.error;
      },
    },
    { rounds: stepRounds, warmup: 2 },
  );
  await recorder.close({ status: "done" });
} finally {
  await toolbox.dispose();
}

say(`cold exec: ${coldRounds} interleaved rounds`);
const cold = await interleave(
  {
    "docker run --rm": command("docker", ["run", "--rm", "--init", "--network", "host", image, "true"]),
    "eksbox exec -- true": command("node", [cliPath, "exec", "--no-tty", "--", "true"], { cwd: project, env: processEnv }),
    "node -e 0": command("node", ["-e", "0"]),
  },
  { rounds: coldRounds, warmup: 1 },
);
await rm(project, { recursive: true, force: true });

const base = median(perStep["docker run --rm"]);
const stepCost = median(perStep["step in a run"]);
const runCost = median(perStep["toolbox.run"]);
const coldBase = median(cold["docker run --rm"]);
const coldExec = median(cold["eksbox exec -- true"]);
const table = (samples, baseline) =>
  [
    "| method | median ms (p25-p75) | ratio to `docker run --rm` |",
    "|---|---|---|",
    ...Object.entries(samples).map(([name, v]) => `| ${name} | ${spread(v)} | ${x(median(v) / baseline)} |`),
  ].join("\n");

finish(
  {
    id: "exec",
    title: "Per-step cost and `eksbox exec` from a cold process",
    reproduce: `node bench/exec.mjs${args.quick ? " --quick" : ""} --image ${image}`,
    loadBefore,
    targets: [
      {
        name: "per step within a run (scheduler + run record + `true` through a step agent)",
        target: "<= 60 ms and >= 5x below `docker run --rm`",
        measured: `${ms(stepCost)} ms`,
        baseline: `${ms(base)} ms`,
        ratio: `${x(base / stepCost)} below`,
        met: stepCost <= 60 && base / stepCost >= 5,
      },
      {
        name: "per step against a bare Engine API exec of `true` (what one exec per step would cost at least)",
        target: "below the engine's exec, which steps no longer pay",
        measured: `${ms(stepCost)} ms`,
        baseline: `${ms(median(perStep["engine exec (no eksbox)"]))} ms (engine exec)`,
        ratio: x(stepCost / median(perStep["engine exec (no eksbox)"])),
        met: stepCost < median(perStep["engine exec (no eksbox)"]),
      },
      {
        name: "`eksbox exec -- true`, cold process",
        target: "no slower than `docker run --rm`",
        measured: `${ms(coldExec)} ms`,
        baseline: `${ms(coldBase)} ms`,
        ratio: x(coldExec / coldBase),
        met: coldExec <= coldBase,
      },
    ],
    details: [
      `### Per step (${stepRounds} rounds, image ${image})`,
      "",
      table(perStep, base),
      "",
      `toolbox.run alone: ${ms(runCost)} ms; the scheduler, run record and renderer add ${ms(stepCost - runCost)} ms per step; ` +
        `toolbox.run (a request to a step agent, the pid file, fork and exec in the container, demultiplexing, the end marker, line splitting, redaction) is ${x(median(perStep["engine exec (no eksbox)"]) / runCost)} cheaper than a bare Engine API exec, the engine's floor for a step of its own.`,
      "",
      `### Cold \`eksbox exec\` (${coldRounds} rounds)`,
      "",
      table(cold, coldBase),
      "",
    ].join("\n"),
    raw: { perStep, cold },
  },
  args,
);
