// Global setup of the chaos config: starts an empty tally and prints it when every file has run.
import { rmSync } from "node:fs";
import { COUNTS_FILE, readCounts } from "../reliability/support/counts.js";

export default function setup(): () => void {
  if (COUNTS_FILE) rmSync(COUNTS_FILE, { force: true });
  return () => {
    const lines = [...readCounts()].map(([what, { count, unit }]) => `  ${what}: ${count}${unit ? ` ${unit}` : ""}`);
    process.stdout.write(`\nreliability and security suite, counts:\n${lines.join("\n") || "  (no counts recorded)"}\n`);
    if (COUNTS_FILE) rmSync(COUNTS_FILE, { force: true });
  };
}
