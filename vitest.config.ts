import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // test/podman/ runs only in the Podman suite (vitest.podman.config.ts).
    exclude: ["test/chaos/**", "test/podman/**", "node_modules/**"],
    // Docker-backed suites share one engine on a 2-core machine: run files one at a time there.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 900_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
