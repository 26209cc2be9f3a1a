// Paths into the checkout and the shape of one benchmark's result: each script prints Markdown and,
// with --json FILE, writes its result for bench/run.mjs to fold into bench/RESULTS.md.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describeMachine, loadAverage } from "./machine.mjs";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const cliPath = join(repoRoot, "dist", "cli.js");

let typescriptLoader;
/** import() of a TypeScript module of this checkout (path from the repository root), through tsx. */
export async function typescriptModule(pathFromRoot) {
  typescriptLoader ??= import("tsx/esm/api").then(({ register }) => register());
  await typescriptLoader;
  return import(pathToFileURL(join(repoRoot, pathFromRoot.replace(/\.js$/, ".ts"))).href);
}

/**
 * import() of one of eksbox's own modules, `await sourceModule("runtime/toolbox.js")`: from src/
 * through tsx, since dist/ is a bundle whose modules cannot be imported one by one. One loader for
 * the whole process, so every module is loaded once and classes stay the same classes.
 */
export function sourceModule(relative) {
  return typescriptModule(`src/${relative}`);
}

export function parseArgs(argv = process.argv.slice(2)) {
  const at = argv.indexOf("--json");
  return { quick: argv.includes("--quick"), json: at >= 0 ? argv[at + 1] : undefined };
}

/** What a benchmark needs to run steps the way a run does: the runtime, the scheduler, the record, the renderer. */
export async function runModules() {
  const [toolbox, interrupt, scheduler, record, renderer, events] = await Promise.all(
    ["runtime/toolbox.js", "core/interrupt.js", "steps/scheduler.js", "steps/run-record.js", "output/renderer.js", "core/events.js"].map(
      sourceModule,
    ),
  );
  return {
    openToolbox: toolbox.openToolbox,
    Interrupter: interrupt.Interrupter,
    runTask: scheduler.runTask,
    RunRecorder: record.RunRecorder,
    PlainRenderer: renderer.PlainRenderer,
    fanOut: events.fanOut,
  };
}

/** Bench progress goes to stderr; stdout carries the Markdown. */
export const say = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);

/**
 * target: { name, target, measured, baseline, ratio, met (true/false/null when not judged), limit }
 * All strings except met; numbers already formatted by the caller.
 */
export function targetTable(targets) {
  const rows = targets.map(
    (t) =>
      `| ${t.name} | ${t.target} | ${t.measured} | ${t.baseline} | ${t.ratio} | ${t.met === true ? "met" : t.met === false ? "**missed**" : "n/a"} |`,
  );
  return ["| target | wanted | eksbox (median) | baseline (median) | ratio | result |", "|---|---|---|---|---|---|", ...rows].join("\n");
}

export function finish(result, args) {
  const full = { ...result, machine: describeMachine(), loadAfter: loadAverage() };
  const md = [
    `## ${result.title}`,
    "",
    `Reproduce: \`${result.reproduce}\``,
    "",
    `Load average before / after: ${result.loadBefore} / ${full.loadAfter}`,
    "",
    targetTable(result.targets),
    "",
    result.details ?? "",
  ].join("\n");
  full.markdown = md;
  process.stdout.write(`${md}\n`);
  if (args.json) writeFileSync(args.json, JSON.stringify(full, null, 2));
  return full;
}

export { loadAverage };
