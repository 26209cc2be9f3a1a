// Shared by the runtime's Docker tests: the test image (built once, tagged by the hash of its
// inputs) and a check that a test left no container behind.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Dockerode from "dockerode";
import { LABEL_RUN_ID, LABEL_TOOL, TOOL_NAME } from "../../../src/runtime/labels.js";

export const IMAGE_DIR = fileURLToPath(new URL("../../fixtures/runtime/image/", import.meta.url));
const IMAGE_FILES = ["Dockerfile", "slow-step.sh"];

/** The engine under test: DOCKER_HOST when set (the Podman suite sets it), else Docker's socket. */
export const engineSocket = process.env.DOCKER_HOST?.startsWith("unix://")
  ? process.env.DOCKER_HOST.slice("unix://".length)
  : "/var/run/docker.sock";
export const docker = new Dockerode({ socketPath: engineSocket });
/** The suite runs against Podman's Docker-compatible API (EKSBOX_TEST_ENGINE=podman, see vitest.podman.config.ts). */
export const testingPodman = process.env.EKSBOX_TEST_ENGINE === "podman";
/** Spread into a test's processEnv, so eksbox finds the engine under test rather than the default socket. */
export const engineEnv: NodeJS.ProcessEnv = process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {};

export function testImageRef(): string {
  const hash = createHash("sha256");
  for (const file of IMAGE_FILES)
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(IMAGE_DIR + file));
  return `eksbox-test/runtime:${hash.digest("hex").slice(0, 12)}`;
}

export async function ensureTestImage(): Promise<string> {
  const ref = testImageRef();
  try {
    await docker.getImage(ref).inspect();
    return ref;
  } catch {
    // Not built yet.
  }
  const stream = await docker.buildImage({ context: IMAGE_DIR, src: IMAGE_FILES }, { t: ref, rm: true, forcerm: true });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error, results) => {
        const failed = (results as Array<{ error?: string }> | undefined)?.find((r) => r.error);
        if (error || failed) reject(new Error(`building ${ref}: ${error?.message ?? failed?.error}\n${output.join("")}`));
        else resolve();
      },
      (event: { stream?: string }) => event.stream && output.push(event.stream),
    ),
  );
  return ref;
}

/** Containers of a run, running or not. */
export async function containersOfRun(runId: string): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`, `${LABEL_RUN_ID}=${runId}`] } });
}

let counter = 0;
export function newRunId(name: string): string {
  return `test-${name}-${process.pid}-${++counter}`;
}
