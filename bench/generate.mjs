#!/usr/bin/env node
// generate/validate against the number of environments: `eksbox validate --all` as a fresh process
// and a generate loop over every environment in one process, for 1 to 100 environments, with
// `node -e 0` in the same rounds as the baseline. A straight line through (environments, time)
// shows the cost is linear; its slope is the cost of one more environment.
// Usage: node bench/generate.mjs [--quick] [--json FILE]
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { environmentYaml, makeProject } from "./lib/emulator.mjs";
import { cliPath, finish, loadAverage, parseArgs, repoRoot, say } from "./lib/report.mjs";
import { linearFit, median, ms, run, spread, x } from "./lib/stats.mjs";

const args = parseArgs();
const counts = args.quick ? [1, 10, 100] : [1, 10, 25, 50, 100];
const rounds = args.quick ? 3 : 9;
const loadBefore = loadAverage();

// Environments differ the way real ones do: name, zones, sizes, instance types.
const zoneSets = [
  ["us-east-1a", "us-east-1b"],
  ["us-east-1a", "us-east-1b", "us-east-1c"],
  ["us-east-1b", "us-east-1d"],
];
function variant(i) {
  const zones = zoneSets[i % zoneSets.length];
  return environmentYaml("http://127.0.0.1:5055")
    .replace("zones: [us-east-1a, us-east-1b]", `zones: [${zones.join(", ")}]`)
    .replace("maxSize: 3", `maxSize: ${3 + (i % 5)}`)
    .replace("instanceTypes: [m5.large, c5.large]", i % 2 ? "instanceTypes: [m5.large, c5.large]" : "instanceTypes: [t3.large]");
}

const projects = {};
for (const n of counts) {
  const names = Array.from({ length: n }, (_, i) => `env${String(i).padStart(3, "0")}`);
  const root = await makeProject("http://127.0.0.1:5055", [], { prefix: `eksbox-bench-gen${n}-` });
  for (const [i, name] of names.entries()) await writeFile(join(root, "config", "environments", `${name}.yaml`), variant(i));
  projects[n] = root;
}

const samples = Object.fromEntries(counts.map((n) => [n, { node: [], validate: [], loop: [] }]));
for (let round = -1; round < rounds; round++) {
  say(`round ${round + 1}/${rounds}`);
  for (const n of counts) {
    const s = samples[n];
    const node = (await run("node", ["-e", "0"])).ms;
    const validate = (await run("node", [cliPath, "validate", "--all", "--no-tty"], { cwd: projects[n] })).ms;
    const loop = JSON.parse(
      (await run("node", [join(repoRoot, "bench/lib/generate-loop.mjs"), projects[n]], { cwd: projects[n] })).stdout.trim(),
    ).ms;
    if (round < 0) continue;
    s.node.push(node);
    s.validate.push(validate);
    s.loop.push(loop);
  }
}
for (const root of Object.values(projects)) await rm(root, { recursive: true, force: true });

// "Linear" means no worse than linear: the cost of one more environment must not grow with the
// count. Marginal cost between the two largest counts vs the average from the smallest to the largest.
const marginal = (key) => {
  const [a, b] = counts.slice(-2);
  return (median(samples[b][key]) - median(samples[a][key])) / (b - a);
};
const average = (key) => (median(samples[counts.at(-1)][key]) - median(samples[counts[0]][key])) / (counts.at(-1) - counts[0]);
const fitValidate = linearFit(counts.map((n) => [n, median(samples[n].validate)]));
const fitLoop = linearFit(counts.map((n) => [n, median(samples[n].loop)]));
const top = Math.max(...counts);
const validateTop = median(samples[top].validate);
const nodeTop = median(samples[top].node);
const rows = counts.map(
  (n) =>
    `| ${n} | ${spread(samples[n].validate, 0)} | ${spread(samples[n].loop, 0)} | ${ms(median(samples[n].loop) / n, 2)} | ${spread(samples[n].node, 0)} |`,
);

finish(
  {
    id: "generate",
    title: "generate / validate against the number of environments",
    reproduce: `node bench/generate.mjs${args.quick ? " --quick" : ""}`,
    loadBefore,
    targets: [
      {
        name: `\`eksbox validate --all\`, ${top} environments (fresh process)`,
        target: "< 1 s",
        measured: `${ms(validateTop, 0)} ms`,
        baseline: `node -e 0: ${ms(nodeTop, 0)} ms`,
        ratio: x(validateTop / nodeTop),
        met: validateTop < 1000,
      },
      {
        name: "linear in environments: cost of one more environment at the top vs on average (validate --all; generate loop)",
        target: "not growing (<= 1.5x the average)",
        measured: `${ms(marginal("validate"), 2)} ms/env; ${ms(marginal("loop"), 2)} ms/env`,
        baseline: `${ms(average("validate"), 2)} ms/env; ${ms(average("loop"), 2)} ms/env (least squares: ${ms(fitValidate.slope, 2)}, r²=${fitValidate.r2.toFixed(3)}; ${ms(fitLoop.slope, 2)}, r²=${fitLoop.r2.toFixed(3)})`,
        ratio: `${x(marginal("validate") / average("validate"))}; ${x(marginal("loop") / average("loop"))}`,
        met: marginal("validate") <= 1.5 * average("validate") && marginal("loop") <= 1.5 * average("loop"),
      },
    ],
    details: [
      `### Median ms (p25-p75) of ${rounds} rounds`,
      "",
      "| environments | `eksbox validate --all` (process) | generate loop, in one process (load, render, validate, write) | loop ms per env | node -e 0 |",
      "|---|---|---|---|---|",
      ...rows,
      "",
    ].join("\n"),
    raw: samples,
  },
  args,
);
