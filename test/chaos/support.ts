// Shared by the chaos files: a born-ready environment (service account + gitops, so every born
// step has work), and a way to act on a running CLI the moment its output shows a given line.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import type { ResultPromise } from "execa";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { recordCount } from "../reliability/support/counts.js";
import {
  containersOfEnv,
  halfWrittenFiles,
  removeOurContainers,
  type CliResult,
  type TestProject,
} from "../reliability/support/project.js";

export const GITHUB_TOKEN = "ghp_chaosFAKEtoken0123456789abcdefABCDEF";

export const BORN_EXTRA = `cluster:
  serviceAccounts:
  - name: external-dns
    namespace: kube-system
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]
gitops:
  provider: github
  owner: example-org
  repository: fleet
`;

/** Makes the eksctl/flux double whose argv contains `fragment` wait `seconds` once, before it acts. */
export async function slowDown(project: TestProject, seconds: number, fragment: string): Promise<void> {
  await mkdir(join(project.root, ".eksbox-test"), { recursive: true });
  await writeFile(join(project.root, ".eksbox-test", "slow"), `${seconds} ${fragment}\n`);
}

export async function failOnce(project: TestProject, fragment: string): Promise<void> {
  await mkdir(join(project.root, ".eksbox-test"), { recursive: true });
  await writeFile(join(project.root, ".eksbox-test", "fail"), `${fragment}\n`);
}

/**
 * Waits until the child's stderr matches `pattern`, then calls `act`; resolves with the result.
 * If the pattern never shows, `act` is not called and `acted` is false.
 */
export async function actWhen(
  child: ResultPromise<{ reject: false }>,
  pattern: RegExp,
  act: () => void | Promise<void>,
): Promise<CliResult & { acted: boolean }> {
  let seen = "";
  let acted = false;
  let acting: Promise<void> | undefined;
  child.stderr?.on("data", (chunk: Buffer) => {
    seen += chunk.toString();
    if (!acted && pattern.test(seen)) {
      acted = true;
      acting = Promise.resolve(act());
    }
  });
  const r = await child;
  await acting;
  return {
    exitCode: r.exitCode,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    timedOut: Boolean(r.timedOut),
    signal: r.signal ?? undefined,
    acted,
  };
}

/** What every failed or aborted run must leave: no container, no lock (here or in the account), no half-written file. */
export async function expectCleanAfterFailure(project: TestProject, env: string, cloud?: Cloud): Promise<void> {
  expect(await containersOfEnv(env), "containers left behind").toEqual([]);
  expect(existsSync(join(project.root, ".eksbox", "locks", `${env}.lock`)), "lock left behind").toBe(false);
  if (cloud) expect(await cloud.lockItem(env), "lock left behind in the account").toBeNull();
  expect(await halfWrittenFiles(project.root), "half-written files").toEqual([]);
}

export async function lastRunStatus(project: TestProject, env: string): Promise<string | undefined> {
  try {
    return JSON.parse(await readFile(join(project.root, ".eksbox", "runs", `latest-${env}.json`), "utf8")).status;
  } catch {
    return undefined;
  }
}

export interface ChaosSuite {
  /** Started before the file's first case. */
  cloud: Cloud;
  /** Removed after the file's last case, with the containers of these environments. */
  projects: TestProject[];
  envs: string[];
  /** Counted into the reliability tally under the suite's label. */
  cases: number;
}

/** One cloud for a chaos file's cases, and the clean-up and tally after them. */
export function useChaosSuite(countLabel: string): ChaosSuite {
  const suite: ChaosSuite = { cloud: undefined as unknown as Cloud, projects: [], envs: [], cases: 0 };
  beforeAll(async () => {
    suite.cloud = await startCloud();
  }, 900_000);
  afterAll(async () => {
    recordCount(countLabel, suite.cases);
    await removeOurContainers(suite.envs);
    await suite.cloud?.stop();
    await Promise.all(suite.projects.map((p) => p.cleanup()));
  });
  return suite;
}
