// Runs once before the test files: makes sure the engine and the Debian base image exist
// (the setup scripts reuse what is there, so this is quick after the first time). The Podman suite
// (EKSBOX_TEST_ENGINE=podman, vitest.podman.config.ts) sets up Podman instead of Docker.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  if (process.env.EKSBOX_TEST_SKIP_ENGINE === "1") return;
  const name = process.env.EKSBOX_TEST_ENGINE === "podman" ? "setup-podman.sh" : "setup-engine.sh";
  const script = fileURLToPath(new URL(`./${name}`, import.meta.url));
  execFileSync("bash", [script], { stdio: "inherit" });
}
