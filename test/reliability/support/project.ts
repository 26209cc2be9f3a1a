// A throwaway eksbox project and the built CLI run in it as a user would, shared by the reliability
// and chaos suites. Everything the suites create in Docker carries io.eksbox.test=chaos so it can be
// found and removed without touching other engineers' containers.
import { readdir, rm, stat, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { ensureBuilt, repoRoot } from "../../support/cli.js";
import { makeProjectSkeleton } from "../../support/project-skeleton.js";

export { repoRoot };
export const CHAOS_LABEL = "io.eksbox.test=chaos";

export interface CliResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  signal?: string;
}

export interface TestProject {
  root: string;
  /** Writes config/environments/<name>.yaml; `endpointUrl` points aws at a moto. */
  writeEnv(name: string, opts?: { endpointUrl?: string; zones?: string[]; extra?: string }): Promise<void>;
  /** Starts the CLI; the promise resolves (never rejects) with its result. */
  spawn(args: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): ResultPromise<{ reject: false }>;
  run(args: string[], opts?: { env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export function envYaml(opts: { endpointUrl?: string; zones?: string[]; extra?: string } = {}): string {
  const zones = opts.zones ?? ["us-east-1a"];
  return [
    "aws:",
    "  region: us-east-1",
    '  accountId: "123456789012"',
    ...(opts.endpointUrl ? [`  endpointUrl: ${opts.endpointUrl}`] : []),
    "worker:",
    `  zones: [${zones.join(", ")}]`,
    "  instanceTypes: [m5.large]",
    "  minSize: 1",
    "  maxSize: 2",
    "  desiredCapacity: 1",
    "  volume: { size: 20 }",
    opts.extra ?? "",
  ].join("\n");
}

export async function makeTestProject(prefix = "eksbox-chaos-"): Promise<TestProject> {
  const cli = await ensureBuilt();
  const root = await makeProjectSkeleton(prefix);
  const spawn = (args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}) =>
    // --no-tty goes first: after a `--` it would be one of the command's arguments.
    execa("node", [cli, "--no-tty", ...args], {
      cwd: root,
      reject: false,
      timeout: opts.timeoutMs ?? 60_000,
      // The CLI reads EKSBOX_ENV and the project from the environment: start from a clean slate.
      env: { CI: "1", EKSBOX_ENV: "", EKSBOX_PROJECT: "", ...opts.env },
      extendEnv: true,
    });
  return {
    root,
    writeEnv: (name, opts) => writeFile(join(root, "config", "environments", `${name}.yaml`), envYaml(opts)),
    spawn,
    async run(args, opts) {
      const r = await spawn(args, opts);
      return {
        exitCode: r.exitCode,
        stdout: String(r.stdout),
        stderr: String(r.stderr),
        timedOut: Boolean(r.timedOut),
        signal: r.signal ?? undefined,
      };
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

/** A Node or eksbox stack frame in output: what a user must never see for bad input. */
export const STACK_FRAME = /^\s+at .+[(\s](file:\/\/|\/|node:).*:\d+:\d+\)?$/m;

/** Every file under dir (recursively), for leftover checks and byte scans. */
export async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push(path);
  }
  return out;
}

/** Temp files left by an interrupted atomic write (writeFileAtomic names them <file>.tmp-<pid>-<rand>). */
export async function halfWrittenFiles(dir: string): Promise<string[]> {
  return (await filesUnder(dir)).filter((f) => /\.tmp-\d+-[a-z0-9]+$/.test(f) || /\.stale-\d+$/.test(f));
}

export async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** eksbox's containers for one env (its own labels), whoever started them. */
export async function containersOfEnv(envName: string): Promise<string[]> {
  const r = await execa("docker", ["ps", "-aq", "--filter", "label=io.eksbox.tool=eksbox", "--filter", `label=io.eksbox.env=${envName}`], {
    reject: false,
  });
  return r.stdout.split("\n").filter(Boolean);
}

/** Removes what this suite left: eksbox containers of our env names, and our own labelled ones. */
export async function removeOurContainers(envNames: string[]): Promise<void> {
  const ids = new Set<string>();
  for (const name of envNames) for (const id of await containersOfEnv(name)) ids.add(id);
  const own = await execa("docker", ["ps", "-aq", "--filter", `label=${CHAOS_LABEL}`], { reject: false });
  for (const id of own.stdout.split("\n").filter(Boolean)) ids.add(id);
  if (ids.size) await execa("docker", ["rm", "-f", ...ids], { reject: false });
}
