// moto_server on loopback for the e2e tests and the local demo: the AWS APIs (EKS, IAM,
// CloudFormation, EC2, STS) that the eksctl/flux test doubles and the real aws CLI talk to.
// In front of it runs the EKS stand-in (test/doubles/eks_standin.py) for the EKS APIs moto lacks
// (pod identity associations, access entries, insights, cluster versions); `url` is the stand-in's,
// which forwards everything else to moto unchanged.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export interface MotoServer {
  /** Where AWS clients point: the EKS stand-in in front of moto. */
  url: string;
  port: number;
  /** moto itself, behind the stand-in. */
  motoUrl: string;
  stop(): Promise<void>;
}

const standinScript = fileURLToPath(new URL("../doubles/eks_standin.py", import.meta.url));

/** The EKS stand-in's state for tests: insights to serve, cluster versions. */
export async function seedStandin(server: Pick<MotoServer, "url">, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${server.url}/_standin/${path}`, {
    method: "PUT",
    body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" },
  });
  if (!response.ok) throw new Error(`seeding the EKS stand-in (${path}) failed: ${response.status} ${await response.text()}`);
}

/** Seeds the UPGRADE_READINESS (or other) insights one cluster's list-insights returns. */
export function seedInsights(
  server: Pick<MotoServer, "url">,
  region: string,
  cluster: string,
  insights: unknown[],
  opts: { refreshFails?: boolean } = {},
): Promise<void> {
  return seedStandin(server, `insights/${region}/${cluster}`, { insights, refreshFails: opts.refreshFails ?? false });
}

/** Starts the stand-in on `port`, or with 0 on one the kernel picks as it binds; resolves with the port it listens on. */
async function startStandin(port: number, motoUrl: string, timeoutMs: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn("python3", [standinScript, "--port", String(port), "--moto", motoUrl], { stdio: ["ignore", "pipe", "pipe"] });
  killAtExit(child);
  let output = "";
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the EKS stand-in did not start in time:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4_000);
      const url = /listening http:\/\/[^\s:]+:(\d+)/.exec(output);
      if (url) {
        clearTimeout(timer);
        resolve(Number(url[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the EKS stand-in exited with ${code}:\n${output}`));
    });
  });
  return { child, port: await listening };
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A port nothing listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Kills a child and waits for it: SIGTERM, then SIGKILL after a grace period. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Children must not outlive the test process, even when a test forgets to stop them. */
export function killAtExit(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const c of running) c.kill("SIGKILL");
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export interface MotoInstall {
  /** moto_server of the pinned version: the one on PATH when it fits, else the project's .venv/. */
  server: string;
  /** A python3 with botocore (the kube-apiserver stand-in imports it). */
  python: string;
}

let install: MotoInstall | undefined;

/** Finds (or installs into .venv/) the pinned moto once per process: see ensure-moto.sh. */
export function motoInstall(): MotoInstall {
  if (install) return install;
  const script = fileURLToPath(new URL("./ensure-moto.sh", import.meta.url));
  const out = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const vars = Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => line.split("=", 2) as [string, string]),
  );
  install = { server: vars.MOTO_SERVER!, python: vars.MOTO_PYTHON! };
  return install;
}

/** moto behind the EKS stand-in; `port` (if given) is the stand-in's, the one clients use. */
export async function startMoto(options: { port?: number; timeoutMs?: number } = {}): Promise<MotoServer> {
  const moto = await startMotoOnly({ timeoutMs: options.timeoutMs });
  try {
    // Port 0 unless asked for one: a port picked free before moto's start-up (seconds) was once taken by then.
    const standin = await startStandin(options.port ?? 0, moto.url, options.timeoutMs ?? 30_000);
    return {
      url: `http://127.0.0.1:${standin.port}`,
      port: standin.port,
      motoUrl: moto.url,
      stop: async () => {
        await stopChild(standin.child);
        await moto.stop();
      },
    };
  } catch (error) {
    await moto.stop();
    throw error;
  }
}

async function startMotoOnly(options: { timeoutMs?: number }): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // AWS-managed policies (arn:aws:iam::aws:policy/...) exist in real IAM: without this moto refuses to attach them.
  const child = spawn(motoInstall().server, ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: "true" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  killAtExit(child);
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`moto_server exited with ${child.exitCode} before answering on ${url}:\n${stderr}`);
    }
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 200))]);
    if (failed) throw new Error(`cannot start moto_server (${motoInstall().server}): ${failed.message}`);
    if (await answers(url)) {
      return { url, stop: () => stopChild(child) };
    }
  }
  await stopChild(child);
  throw new Error(`moto_server did not answer on ${url} in time:\n${stderr}`);
}
