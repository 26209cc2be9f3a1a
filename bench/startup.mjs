#!/usr/bin/env node
// Start-up: `eksbox --help`, `eksbox generate` and `eksbox plan born` as fresh processes, against
// `node -e 0` plus the command's actual work (measured in a fresh process after its modules are
// loaded, bench/lib/command-work.mjs), interleaved round by round. Then what each module costs to
// import, to show what start-up pays for.
// Usage: node bench/startup.mjs [--quick] [--json FILE]   (plan born needs moto and the Docker engine)
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { emulatorEnv, ensureTestImage, makeProject, startKubeApi, startMoto } from "./lib/emulator.mjs";
import { cliPath, finish, loadAverage, parseArgs, repoRoot, say } from "./lib/report.mjs";
import { median, ms, run, spread, x } from "./lib/stats.mjs";

const args = parseArgs();
const rounds = args.quick ? 5 : 15;
const planRounds = args.quick ? 3 : 5;
const importRounds = args.quick ? 3 : 9;
const loadBefore = loadAverage();
const workScript = join(repoRoot, "bench/lib/command-work.mjs");
const importScript = join(repoRoot, "bench/lib/import-cost.mjs");

say("starting moto, the kube-apiserver stand-in and the test toolbox image");
const image = await ensureTestImage();
const moto = await startMoto();
const kube = await startKubeApi(moto.url);
const project = await makeProject(moto.url, ["bench"]);
const projectWithTasks = await makeProject(moto.url, ["bench"]);
await copyFile(join(repoRoot, "config/tasks.yaml"), join(projectWithTasks, "config/tasks.yaml"));
const env = emulatorEnv(image, kube.url);

const commands = {
  "--help (no tasks file)": { cli: ["--help"], cwd: project, work: ["help", project] },
  "--help (with config/tasks.yaml)": { cli: ["--help"], cwd: projectWithTasks, work: ["help", projectWithTasks] },
  generate: { cli: ["generate", "--env", "bench", "--no-tty"], cwd: project, work: ["generate", project, "bench"] },
  "plan born": { cli: ["plan", "born", "--env", "bench", "--no-tty"], cwd: project, work: ["plan", project, "bench"], rounds: planRounds },
};

/**
 * src/runtime/dockerode-lib.ts on its own, as plain JS under node_modules/.cache so that it resolves
 * dockerode as it does in dist/ (in the bundle it shares a chunk with code that would be counted too).
 */
async function dockerodeAsLoaded() {
  const { transform } = await import("esbuild");
  const { code } = await transform(await readFile(join(repoRoot, "src/runtime/dockerode-lib.ts"), "utf8"), { loader: "ts", format: "esm" });
  const dir = join(repoRoot, "node_modules/.cache/eksbox-bench");
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "dockerode-lib.mjs"), code);
  return join(dir, "dockerode-lib.mjs");
}

const results = {};
try {
  for (const [name, spec] of Object.entries(commands)) {
    const n = spec.rounds ?? rounds;
    say(`${name}: ${n} rounds`);
    const samples = { node: [], work: [], eksbox: [] };
    for (let round = -1; round < n; round++) {
      // Rotated order: none of the three always runs first.
      const jobs = [
        async () => ["node", (await run("node", ["-e", "0"])).ms],
        async () => [
          "work",
          JSON.parse((await run("node", [workScript, ...spec.work], { env, cwd: spec.cwd })).stdout.trim().split("\n").pop()).ms,
        ],
        async () => [
          "eksbox",
          (await run("node", [cliPath, ...spec.cli], { env, cwd: spec.cwd, allowFailure: name.startsWith("--help") })).ms,
        ],
      ];
      const offset = ((round % 3) + 3) % 3;
      for (const job of [...jobs.slice(offset), ...jobs.slice(0, offset)]) {
        const [key, value] = await job();
        if (round >= 0) samples[key].push(value);
      }
    }
    results[name] = samples;
  }
} finally {
  await kube.stop();
  await moto.stop();
}

say(`import costs: ${importRounds} fresh processes each`);
// dist/ is a bundle (esbuild): each command is one entry file plus the shared chunks it imports.
const modules = [
  ["commander", "commander"],
  ["yaml", "yaml"],
  ["zod", "zod"],
  ["nunjucks", "nunjucks"],
  ["ajv (only when the generated validator is missing)", "ajv"],
  ["dockerode, everything", "dockerode"],
  ["dockerode as eksbox loads it (ssh2 and gRPC on first use)", await dockerodeAsLoaded(), "dockerodeClass"],
  ["generated eksctl validator", join(repoRoot, "generated/eksctl-validator.mjs")],
  ["dist/cli.js (what every command loads)", join(repoRoot, "dist/cli.js")],
  ["dist/commands/user-task.js (a user task)", join(repoRoot, "dist/commands/user-task.js")],
  ["dist/commands/generate.js", join(repoRoot, "dist/commands/generate.js")],
  ["dist/commands/exec.js (dockerode loads when it connects)", join(repoRoot, "dist/commands/exec.js")],
  ["dist/commands/plan.js", join(repoRoot, "dist/commands/plan.js")],
];
const importSamples = Object.fromEntries(modules.map(([label]) => [label, []]));
const nodeSamples = [];
for (let round = 0; round < importRounds; round++) {
  nodeSamples.push((await run("node", ["-e", "0"])).ms);
  for (const [label, specifier, call] of modules) {
    importSamples[label].push(
      JSON.parse((await run("node", [importScript, specifier, ...(call ? [call] : [])], { cwd: repoRoot })).stdout).ms,
    );
  }
}
await rm(project, { recursive: true, force: true });
await rm(projectWithTasks, { recursive: true, force: true });

const targets = [];
const rows = [];
for (const [name, s] of Object.entries(results)) {
  const floors = s.node.map((n, i) => n + s.work[i]);
  const floor = median(floors);
  const eksbox = median(s.eksbox);
  targets.push({
    name: `\`eksbox ${name}\``,
    target: "<= 1.5x (node -e 0 + work)",
    measured: `${ms(eksbox)} ms`,
    baseline: `${ms(floor)} ms`,
    ratio: x(eksbox / floor),
    met: eksbox <= 1.5 * floor,
  });
  rows.push(`| ${name} | ${spread(s.eksbox)} | ${spread(s.node)} | ${spread(s.work)} | ${ms(eksbox - floor)} | ${x(eksbox / floor)} |`);
}
const nodeMedian = median(nodeSamples);
const importRows = Object.entries(importSamples)
  .map(([label, v]) => [label, median(v)])
  .map(([label, m]) => `| ${label} | ${ms(m)} | ${x(m / nodeMedian)} |`);

finish(
  {
    id: "startup",
    title: "Start-up of `eksbox --help`, `generate` and `plan born`",
    reproduce: `node bench/startup.mjs${args.quick ? " --quick" : ""}`,
    loadBefore,
    targets,
    details: [
      `### Wall time of a fresh process (median ms, p25-p75; ${rounds} rounds, plan born ${planRounds})`,
      "",
      "The work column is the command's own work measured inside a process whose modules were already loaded; the rest of eksbox's wall time over `node -e 0` + work is loading modules.",
      "",
      "| command | eksbox | node -e 0 | work | eksbox - (node + work) | ratio |",
      "|---|---|---|---|---|---|",
      ...rows,
      "",
      `### Import cost of each module in a fresh process (median of ${importRounds}; node -e 0 = ${ms(nodeMedian)} ms in the same rounds)`,
      "",
      "| module (and everything it imports) | ms | x node -e 0 |",
      "|---|---|---|",
      ...importRows,
      "",
    ].join("\n"),
    raw: { results, importSamples, nodeSamples },
  },
  args,
);
