// Statistics and timing shared by the benchmarks. Every figure is a median of interleaved rounds
// and is reported next to a baseline measured in the same rounds, so machine load and drift hit
// subject and baseline alike.
import { spawn } from "node:child_process";

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The q-quantile (0..1) by nearest rank: p25/p75 show how noisy a median is. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

export const ratio = (subject, baseline) => subject / baseline;

export const ms = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
export const x = (value, digits = 2) => (Number.isFinite(value) ? `${value.toFixed(digits)}x` : "n/a");

/** "median (p25-p75)" for a table cell. */
export function spread(values, digits = 1) {
  return `${ms(median(values), digits)} (${ms(quantile(values, 0.25), digits)}-${ms(quantile(values, 0.75), digits)})`;
}

export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

export async function timed(fn) {
  const start = nowMs();
  const value = await fn();
  return { ms: nowMs() - start, value };
}

/**
 * Runs every subject once per round, rotating the order each round so none always goes first
 * (a cold cache or a burst of load then hits each alike). Warm-up rounds are not recorded.
 * subjects: { name: async () => void }. Returns { name: number[] } in milliseconds.
 */
export async function interleave(subjects, { rounds, warmup = 1, onRound } = {}) {
  const names = Object.keys(subjects);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = -warmup; round < rounds; round++) {
    const offset = ((round % names.length) + names.length) % names.length;
    const order = [...names.slice(offset), ...names.slice(0, offset)];
    for (const name of order) {
      const { ms: elapsed } = await timed(subjects[name]);
      if (round >= 0) samples[name].push(elapsed);
    }
    onRound?.(round);
  }
  return samples;
}

/**
 * Runs a process to completion; resolves with its wall time (spawn to exit), exit code and output.
 * Rejects on a non-zero exit unless allowFailure. stdout may be "ignore" for big outputs; stderr "inherit" shows progress live.
 */
export function run(command, args, { env, cwd, allowFailure = false, stdout = "pipe", stderr = "pipe", input } = {}) {
  return new Promise((resolve, reject) => {
    const start = nowMs();
    const child = spawn(command, args, { env, cwd, stdio: [input === undefined ? "ignore" : "pipe", stdout, stderr] });
    const out = [];
    const err = [];
    child.stdout?.on("data", (c) => out.push(c));
    child.stderr?.on("data", (c) => err.push(c));
    if (input !== undefined) child.stdin.end(input);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const result = { ms: nowMs() - start, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if ((code !== 0 || signal) && !allowFailure) {
        reject(new Error(`${command} ${args.join(" ")} exited ${code ?? signal}:\n${result.stderr.slice(-2000)}`));
      } else resolve(result);
    });
  });
}

/** A function that runs the command and throws on failure: a subject for interleave(). */
export const command = (cmd, args, opts) => async () => {
  await run(cmd, args, opts);
};

/** Least-squares line through (x, y) points: { slope, intercept, r2 }. */
export function linearFit(points) {
  const n = points.length;
  const mx = points.reduce((s, [px]) => s + px, 0) / n;
  const my = points.reduce((s, [, py]) => s + py, 0) / n;
  const sxx = points.reduce((s, [px]) => s + (px - mx) ** 2, 0);
  const sxy = points.reduce((s, [px, py]) => s + (px - mx) * (py - my), 0);
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssTot = points.reduce((s, [, py]) => s + (py - my) ** 2, 0);
  const ssRes = points.reduce((s, [px, py]) => s + (py - (intercept + slope * px)) ** 2, 0);
  return { slope, intercept, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}
