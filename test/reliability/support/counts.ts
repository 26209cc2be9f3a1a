// Counts each reliability/chaos file reports ("faults: 12 cases"), gathered in one file so the
// last thing a run prints is the whole tally (test/chaos/summary.ts prints it; the main `npm test`
// prints each file's counts as it ends).
import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** Set by vitest.chaos.config.ts; without it (plain `npm test`) counts are only printed. */
export const COUNTS_FILE = process.env.EKSBOX_CHAOS_COUNTS_FILE;

export function recordCount(what: string, count: number, unit = ""): void {
  if (COUNTS_FILE) appendFileSync(COUNTS_FILE, JSON.stringify({ what, count, unit }) + "\n");
  console.log(`reliability: ${what}: ${count}${unit ? ` ${unit}` : ""}`);
}

export function readCounts(file = COUNTS_FILE): Map<string, { count: number; unit: string }> {
  const totals = new Map<string, { count: number; unit: string }>();
  if (!file || !existsSync(file)) return totals;
  for (const line of readFileSync(file, "utf8").split("\n").filter(Boolean)) {
    const { what, count, unit } = JSON.parse(line) as { what: string; count: number; unit: string };
    const prev = totals.get(what);
    totals.set(what, { count: (prev?.count ?? 0) + count, unit });
  }
  return totals;
}
