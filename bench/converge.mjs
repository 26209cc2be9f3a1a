#!/usr/bin/env node
// Converge's cost on an unchanged environment: `eksbox plan born` of this checkout against today's
// `plan born` (the main branch's build, before converge), and `eksbox diff` against this plan, all
// on one born environment in the local emulator, interleaved round by round.
// Usage: node bench/converge.mjs [--quick] [--json FILE] [--baseline DIR] [--subject DIR]
//   --baseline DIR: a checkout whose dist/cli.js is the baseline (default: main just before converge
//   landed, the parent of the commit that added src/steps/converge/diff.ts, built in a temp dir).
//   --subject DIR: a checkout whose dist/cli.js is measured (default: this one's dist/).
import { cp, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emulatorEnv, ensureTestImage, makeProject, startKubeApi, startMoto } from "./lib/emulator.mjs";
import { cliPath, finish, loadAverage, parseArgs, repoRoot, say } from "./lib/report.mjs";
import { interleave, median, ms, run, spread, x } from "./lib/stats.mjs";

const args = parseArgs();
const rounds = args.quick ? 3 : 7;
const loadBefore = loadAverage();
const at = process.argv.indexOf("--baseline");

async function baselineCheckout() {
  if (at >= 0) return { dir: process.argv[at + 1], cleanup: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "eksbox-bench-baseline-"));
  // main itself has converge now: the baseline is main as it was just before converge was added.
  const added = await run("git", ["-C", repoRoot, "log", "--diff-filter=A", "--format=%H", "main", "--", "src/steps/converge/diff.ts"]);
  const first = added.stdout.trim().split("\n").pop();
  if (!first) throw new Error("cannot find the commit that added converge on main: pass --baseline DIR");
  say(`building ${first.slice(0, 8)}^'s dist/ in ${dir} (the baseline: plan born before converge)`);
  await run("sh", ["-c", `git -C "${repoRoot}" archive ${first}^ | tar -x -C "${dir}"`]);
  await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  await run("npm", ["run", "build", "--silent"], { cwd: dir });
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

const subjectAt = process.argv.indexOf("--subject");
const subjectCli = subjectAt >= 0 ? join(process.argv[subjectAt + 1], "dist", "cli.js") : cliPath;
const baseline = await baselineCheckout();
const baselineCli = join(baseline.dir, "dist", "cli.js");
say("starting moto, the kube-apiserver stand-in and the test toolbox image");
const image = await ensureTestImage();
const moto = await startMoto();
const kube = await startKubeApi(moto.url);
const project = await makeProject(moto.url, ["conv"]);
const env = emulatorEnv(image, kube.url);
let samples;
let baselineProject;
try {
  say("born --env conv");
  await run("node", [subjectCli, "born", "--env", "conv", "--no-tty"], { env, cwd: project });
  // The baseline renders with its own templates and defaults (they have moved on since): the same
  // project and environment, its built-in files taken from the baseline checkout.
  baselineProject = await mkdtemp(join(tmpdir(), "eksbox-bench-baseline-project-"));
  await cp(project, baselineProject, { recursive: true });
  for (const part of ["templates", join("config", "defaults.yaml")]) {
    await rm(join(baselineProject, part), { recursive: true, force: true });
    await cp(join(baseline.dir, part), join(baselineProject, part), { recursive: true });
  }
  const cmd = (cli, words) => async () => {
    const cwd = cli === baselineCli ? baselineProject : project;
    const result = await run("node", [cli, ...words, "--env", "conv", "--no-tty"], { env, cwd, allowFailure: true });
    if (result.code !== 0) throw new Error(`${cli} ${words.join(" ")} exited ${result.code}:\n${result.stderr.slice(-1500)}`);
  };
  samples = await interleave(
    {
      "plan born (before converge)": cmd(baselineCli, ["plan", "born"]),
      "plan born (converge)": cmd(subjectCli, ["plan", "born"]),
      "diff --exit-code": cmd(subjectCli, ["diff", "--exit-code"]),
    },
    { rounds, onRound: (r) => r >= 0 && say(`round ${r + 1}/${rounds}`) },
  );
} finally {
  await kube.stop();
  await moto.stop();
  await rm(project, { recursive: true, force: true });
  if (baselineProject) await rm(baselineProject, { recursive: true, force: true });
  await baseline.cleanup();
}

const before = median(samples["plan born (before converge)"]);
const plan = median(samples["plan born (converge)"]);
const diff = median(samples["diff --exit-code"]);
finish(
  {
    id: "converge",
    title: "Converge: `plan born` and `diff` on an unchanged environment",
    reproduce: `node bench/converge.mjs${args.quick ? " --quick" : ""}`,
    loadBefore,
    targets: [
      {
        name: "plan born on an unchanged environment vs plan born before converge",
        target: "<= 1.2x",
        measured: `${ms(plan, 0)} ms`,
        baseline: `${ms(before, 0)} ms`,
        ratio: x(plan / before),
        met: plan / before <= 1.2,
      },
      {
        name: "diff vs plan born",
        target: "no slower (<= 1.05x, noise)",
        measured: `${ms(diff, 0)} ms`,
        baseline: `${ms(plan, 0)} ms`,
        ratio: x(diff / plan),
        met: diff / plan <= 1.05,
      },
    ],
    details: [
      `Wall time of a fresh process, median (p25-p75) ms over ${rounds} interleaved rounds:`,
      "",
      "| command | ms |",
      "|---|---|",
      ...Object.entries(samples).map(([name, list]) => `| ${name} | ${spread(list, 0)} |`),
      "",
      "The extra reads converge makes (one describe-auto-scaling-groups, eksctl get addon, one",
      "list-attached-role-policies per service account) start with preflight and run side by side,",
      "so they overlap preflight and generate instead of following them.",
    ].join("\n"),
  },
  args,
);
