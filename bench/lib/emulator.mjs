// The local emulator the lifecycle benchmarks run against, as test/e2e/lifecycle.test.ts does: moto
// as AWS, the kube-apiserver stand-in, the test toolbox image (real aws and kubectl, eksctl and
// flux test doubles) and a temporary project whose environments point at moto.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot, typescriptModule } from "./report.mjs";
import { run } from "./stats.mjs";

export const REGION = "us-east-1";
export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIAEKSBOXTESTFAKE00",
  AWS_SECRET_ACCESS_KEY: "eksbox-test-fake-secret",
  AWS_SESSION_TOKEN: "eksbox-test-fake-session",
};
export const FAKE_GITHUB_TOKEN = "ghp_benchFAKEtoken1234567890abcdefABCDEF";

/** Builds the test toolbox image when its inputs changed (reused otherwise); returns its reference. */
export async function ensureTestImage() {
  const { stdout } = await run("npx", ["tsx", "test/support/test-toolbox.ts"], { cwd: repoRoot });
  return stdout.trim().split("\n").pop();
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const children = new Set();
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function stopper(child) {
  children.add(child);
  return async () => {
    children.delete(child);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
}

/** moto behind the EKS stand-in (test/doubles/eks_standin.py), as test/support/moto.ts starts them. */
export async function startMoto() {
  const moto = await startMotoOnly();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn("python3", [join(repoRoot, "test/doubles/eks_standin.py"), "--port", String(port), "--moto", moto.url], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  const stopStandin = stopper(child);
  const stop = async () => {
    await stopStandin();
    await moto.stop();
  };
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2000) })).ok) return { url, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the EKS stand-in did not answer on ${url}`);
}

async function startMotoOnly() {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", "ignore", "ignore"],
  });
  const stop = stopper(child);
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2000) })).ok) return { url, stop };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`moto_server did not answer on ${url}`);
}

export async function startKubeApi(motoUrl) {
  const child = spawn("python3", [join(repoRoot, "test/doubles/kube-apiserver.py"), motoUrl, "--port", "0", "--regions", REGION], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = stopper(child);
  let output = "";
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kube-apiserver stand-in did not start:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`kube-apiserver stand-in exited ${code}:\n${output}`)));
  });
  return { url, stop };
}

// The same project and environment as the e2e tests (test/support/project-skeleton.ts).
const skeleton = await typescriptModule("test/support/project-skeleton.ts");

export function environmentYaml(motoUrl) {
  return skeleton.bornEnvironmentYaml(motoUrl, REGION);
}

/** A project with the repository's templates and defaults and one environment file per name. */
export async function makeProject(motoUrl, envNames, { prefix = "eksbox-bench-" } = {}) {
  const root = await skeleton.makeProjectSkeleton(prefix);
  for (const name of envNames) await writeFile(join(root, "config", "environments", `${name}.yaml`), environmentYaml(motoUrl));
  return root;
}

/** The environment eksbox runs with against the emulator (what the e2e test passes). */
export function emulatorEnv(image, kubeUrl) {
  return {
    ...process.env,
    ...FAKE_AWS_ENV,
    EKSBOX_IMAGE: image,
    EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API",
    EKSBOX_TEST_KUBE_API: kubeUrl,
    GITHUB_TOKEN: FAKE_GITHUB_TOKEN,
    CI: "1",
  };
}
