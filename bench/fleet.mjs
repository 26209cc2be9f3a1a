#!/usr/bin/env node
// `eksbox status --all` over 10 environments against one environment's `eksbox status`, in the same
// rounds (interleaved), against moto with the test toolbox image, as the e2e tests run. Each
// environment gets its own toolbox; --parallel (default 10) caps how many run at once.
// Usage: node bench/fleet.mjs [--quick] [--json FILE]
import { rm } from "node:fs/promises";
import { cliPath, finish, loadAverage, parseArgs, say } from "./lib/report.mjs";
import { emulatorEnv, ensureTestImage, makeProject, startKubeApi, startMoto } from "./lib/emulator.mjs";
import { command, interleave, median, ms, spread, x } from "./lib/stats.mjs";

const args = parseArgs();
const rounds = args.quick ? 3 : 7;
const FLEET = Array.from({ length: 10 }, (_, i) => `fleet-${String(i + 1).padStart(2, "0")}`);
const TARGET = 2.5;
const loadBefore = loadAverage();

const image = await ensureTestImage();
const moto = await startMoto();
const kube = await startKubeApi(moto.url);
const project = await makeProject(moto.url, FLEET, { prefix: "eksbox-bench-fleet-" });
const env = emulatorEnv(image, kube.url);
let samples;
try {
  say(`fleet: ${rounds} interleaved rounds, status of 1 vs ${FLEET.length} environments`);
  samples = await interleave(
    {
      "status (one environment)": command("node", [cliPath, "--no-tty", "status", "--env", FLEET[0]], { cwd: project, env }),
      [`status --all (${FLEET.length} environments)`]: command("node", [cliPath, "--no-tty", "status", "--all"], { cwd: project, env }),
    },
    { rounds, onRound: (round) => round >= 0 && say(`  round ${round + 1}/${rounds}`) },
  );
} finally {
  await kube.stop();
  await moto.stop();
  await rm(project, { recursive: true, force: true });
}

const one = samples["status (one environment)"];
const all = samples[`status --all (${FLEET.length} environments)`];
const ratio = median(all) / median(one);
finish(
  {
    id: "fleet",
    title: "`eksbox status --all` over 10 environments vs one environment's `status`",
    reproduce: `node bench/fleet.mjs${args.quick ? " --quick" : ""}`,
    loadBefore,
    targets: [
      {
        name: `status --all over ${FLEET.length} environments vs status of one`,
        target: `at most ${TARGET}x`,
        measured: `${ms(median(all), 0)} ms`,
        baseline: `${ms(median(one), 0)} ms`,
        ratio: x(ratio),
        met: ratio <= TARGET,
      },
    ],
    details: [
      `Each run is a new \`node dist/cli.js\` process against moto (no cluster exists, so each environment's status asks \`aws eks list-clusters\` once in its own toolbox container). Medians (p25-p75), ms: one environment ${spread(one, 0)}; all ${FLEET.length} ${spread(all, 0)}. ${rounds} rounds, interleaved.`,
      "",
    ].join("\n"),
  },
  args,
);
