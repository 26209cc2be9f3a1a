// Runs once before the test files: makes sure the Docker engine and the Debian base image exist
// (setup-engine.sh reuses what is there, so this is quick after the first time).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  if (process.env.EKSBOX_TEST_SKIP_ENGINE === "1") return;
  const script = fileURLToPath(new URL("./setup-engine.sh", import.meta.url));
  execFileSync("bash", [script], { stdio: "inherit" });
}
