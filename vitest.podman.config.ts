import { defineConfig } from "vitest/config";

// The runtime tests and the lifecycle end-to-end test again, against Podman's Docker-compatible API
// (rootful `podman system service`), plus the rootless Podman checks. test/support/setup-podman.sh
// (run by the global setup) installs and starts what is missing. Set before the workers start, so the
// tests, eksbox and the docker CLI the test support runs all talk to Podman.
process.env.EKSBOX_TEST_ENGINE = "podman";
process.env.DOCKER_HOST = process.env.EKSBOX_TEST_PODMAN_HOST ?? "unix:///run/podman/podman.sock";

export default defineConfig({
  test: {
    include: ["test/docker/runtime/**/*.test.ts", "test/e2e/lifecycle.test.ts", "test/podman/**/*.test.ts"],
    exclude: ["node_modules/**"],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 900_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
