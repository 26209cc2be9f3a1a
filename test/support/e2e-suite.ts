// One end-to-end suite's world: the emulated cloud (cloud.ts), the built CLI, and a throwaway project
// (project-skeleton.ts) whose environments the suite writes against the cloud. The e2e and oracle
// suites that run the whole lifecycle through the CLI start it in beforeAll and stop it in afterAll.
import { realpathSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { LABEL_ENV, LABEL_TOOL, TOOL_NAME } from "../../src/runtime/labels.js";
import { ensureBuilt } from "./cli.js";
import { startCloud, type AwsEndpoint, type Cloud } from "./cloud.js";
import { makeProjectSkeleton } from "./project-skeleton.js";

export interface E2eSuite {
  cloud: Cloud;
  /** The project's root, a new temporary directory: eksbox runs in it. */
  project: string;
  /** `eksbox <args> --no-tty` in the project as CI runs it (never rejects): the cloud's environment, the GitHub token, extraEnv last. */
  eksbox(args: string[], extraEnv?: Record<string, string>): ReturnType<typeof runEksbox>;
  /** config/environments/<name>.yaml of the project. */
  envFile(name: string): string;
  /** See leftoverContainers: this project's, for one environment. */
  leftoverContainers(envName: string): Promise<string>;
  stop(): Promise<void>;
}

function runEksbox(cli: string, project: string, env: Record<string, string>, args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], { cwd: project, reject: false, env, extendEnv: true });
}

export async function startE2eSuite(options: {
  /** mkdtemp prefix of the project, e.g. "eksbox-e2e-". */
  projectPrefix: string;
  githubToken: string;
  region?: string;
  /** What AWS clients talk to (see startCloud). */
  endpoint?: () => Promise<AwsEndpoint>;
}): Promise<E2eSuite> {
  const cli = await ensureBuilt();
  const cloud = await startCloud({ region: options.region, endpoint: options.endpoint });
  let project: string;
  try {
    project = await makeProjectSkeleton(options.projectPrefix);
  } catch (error) {
    await cloud.stop();
    throw error;
  }
  return {
    cloud,
    project,
    eksbox: (args, extraEnv = {}) =>
      runEksbox(cli, project, cloud.cliEnv({ GITHUB_TOKEN: options.githubToken, CI: "1", ...extraEnv }), args),
    envFile: (name) => join(project, "config", "environments", `${name}.yaml`),
    leftoverContainers: (envName) => leftoverContainers(project, envName),
    async stop() {
      await cloud.stop();
      await rm(project, { recursive: true, force: true });
    },
  };
}

interface InspectedContainer {
  Id: string;
  Mounts?: { Source?: string; Destination?: string }[];
  Config?: { Cmd?: string[] | null };
}

/**
 * The containers eksbox made for `envName` working on `project` that are still there: their short
 * ids, one a line ("" when there are none). Judged by the project as well as the environment label,
 * since another checkout running the same suite at the same time has containers of the same
 * environment name. A toolbox container names its project in its mounts (bind mode: the project is
 * mounted at its own path) or in its command (archive mode: where the project is copied to).
 */
export async function leftoverContainers(project: string, envName: string): Promise<string> {
  const listed = await execa("docker", [
    "ps",
    "-aq",
    "--no-trunc",
    "--filter",
    `label=${LABEL_TOOL}=${TOOL_NAME}`,
    "--filter",
    `label=${LABEL_ENV}=${envName}`,
  ]);
  const ids = listed.stdout.split("\n").filter(Boolean);
  if (ids.length === 0) return "";
  // A container removed between the two calls makes inspect exit 1; the others are still printed.
  const inspected = await execa("docker", ["inspect", ...ids], { reject: false });
  if (inspected.stdout.trim() === "") {
    if (inspected.exitCode !== 0 && !/no such (object|container)/i.test(inspected.stderr))
      throw new Error(`docker inspect: ${inspected.stderr}`);
    return "";
  }
  const paths = new Set([project, realpathSync(project)]);
  return (JSON.parse(inspected.stdout) as InspectedContainer[])
    .filter(
      (c) =>
        (c.Mounts ?? []).some((m) => paths.has(m.Source ?? "") || paths.has(m.Destination ?? "")) ||
        (c.Config?.Cmd ?? []).some((arg) => paths.has(arg)),
    )
    .map((c) => c.Id.slice(0, 12))
    .join("\n");
}
