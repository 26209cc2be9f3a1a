import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// One tally for the whole run: each file appends its counts here, test/chaos/summary.ts prints them.
process.env.EKSBOX_CHAOS_COUNTS_FILE ??= join(tmpdir(), `eksbox-chaos-counts-${process.pid}.jsonl`);

export default defineConfig({
  test: {
    // The heavy suite plus the cheap reliability files, so the tally covers the whole issue.
    include: ["test/chaos/**/*.test.ts", "test/reliability/**/*.test.ts"],
    exclude: ["node_modules/**"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
    globalSetup: ["test/support/global-setup.ts", "test/chaos/summary.ts"],
  },
});
