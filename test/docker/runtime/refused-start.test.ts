// A container start the engine refuses after eksbox attached to the container: eksbox reports the
// refusal, removes the container, and the process ends. The engine is real; a proxy in front of it
// moves the workspace away just before it forwards the start, so the engine refuses to start a
// container whose bind mount has no source any more (it accepted it at create). Docker refuses that
// before it touches the container's streams, so the attach eksbox holds stays open unless eksbox
// closes it: an open socket kept eksbox from exiting after it reported such a failure.
// Refusals this engine cannot be made to give (an OCI runtime that fails, a rootless engine's
// sandbox) come from a second proxy that answers the start itself, with a 500 as the engine would.
import { execa } from "execa";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startEngineProxy, type EngineProxy } from "../../support/engine-proxy.js";
import { describeEngine, detectEngineKind } from "../../../src/runtime/engine-kind.js";
import { containersOfRun, docker, engineSocket, ensureTestImage, newRunId, testingPodman } from "./support.js";

const SCRIPT = new URL("../../fixtures/runtime/open-toolbox.mts", import.meta.url).pathname;

let imageRef: string;
let dir: string;
let workspace: string;
let proxy: EngineProxy;
const startsSeen: string[] = [];
let refusingProxy: EngineProxy;
const refusedStarts: string[] = [];
/** A value the run knows as a secret, and which the engine's refusal quotes. */
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const REFUSAL =
  "failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: " +
  `unable to start container process: error during container init: bad environment AWS_SECRET_ACCESS_KEY=${SECRET}: unknown`;

beforeAll(async () => {
  imageRef = await ensureTestImage();
  dir = await mkdtemp(path.join(tmpdir(), "eksbox-refused-"));
  workspace = path.join(dir, "workspace");
  await mkdir(workspace);
  proxy = await startEngineProxy(engineSocket, path.join(dir, "engine.sock"), async (containerId) => {
    startsSeen.push(containerId);
    await rename(workspace, `${workspace}-moved`);
  });
  refusingProxy = await startEngineProxy(engineSocket, path.join(dir, "refusing.sock"), async (containerId) => {
    refusedStarts.push(containerId);
    return { status: 500, message: `${REFUSAL}\n` };
  });
}, 300_000);
afterAll(async () => {
  await proxy?.close();
  await refusingProxy?.close();
  await rm(dir, { recursive: true, force: true });
});

// Podman creates a missing bind source and starts the container: nothing to refuse there.
it.skipIf(testingPodman)(
  "a start refused after the attach: the error is reported, the process ends, no container is left",
  async () => {
    const runId = newRunId("refused");
    const result = await execa(process.execPath, ["--import", "tsx", SCRIPT, workspace, imageRef, runId], {
      env: { DOCKER_HOST: proxy.dockerHost },
      // Generous, and only so that a process that never ends is killed rather than left behind.
      timeout: 180_000,
      reject: false,
    });
    expect(result.timedOut).toBe(false);
    expect(startsSeen).toHaveLength(1);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(3);
    const engine = describeEngine(await detectEngineKind(docker));
    expect(result.stdout.split("\n")[0]).toBe(
      `failed: UserError: ${engine} cannot mount ${workspace} into the toolbox container: it is not there ` +
        `(invalid mount config for type "bind": bind source path does not exist: ${workspace})`,
    );
    expect(await containersOfRun(runId)).toEqual([]);
  },
  240_000,
);

it("a start the engine refuses for another cause: a user error with the engine's reason, masked, and no container left", async () => {
  const runId = newRunId("refused-other");
  const otherWorkspace = await mkdtemp(path.join(dir, "other-"));
  const result = await execa(process.execPath, ["--import", "tsx", SCRIPT, otherWorkspace, imageRef, runId], {
    env: { DOCKER_HOST: refusingProxy.dockerHost, AWS_SECRET_ACCESS_KEY: SECRET },
    timeout: 180_000,
    reject: false,
  });
  expect(result.timedOut).toBe(false);
  // eksbox created and attached the container, then asked for the start the proxy refused.
  expect(refusedStarts).toHaveLength(1);
  expect(result.stderr).toBe("");
  expect(result.exitCode).toBe(3);
  const kind = await detectEngineKind(docker);
  const log = `the engine's log says more (\`journalctl${kind.rootless ? " --user" : ""} -u ${kind.product}.service\` where systemd runs it)`;
  const [failed, hint, ...rest] = result.stdout.trimEnd().split("\n");
  expect(failed).toBe(
    `failed: UserError: ${describeEngine(kind)} refused to start the toolbox container: ${REFUSAL.replace(SECRET, "***")}`,
  );
  expect(hint).toBe(`hint: ${log}; fix what it reports, then run again`);
  expect(rest).toEqual([]);
  expect(result.stdout).not.toContain(SECRET);
  expect(result.stdout).not.toMatch(/HTTP code|server error -|docker-modem|\n\s+at /);
  // The refused container was removed: nothing of the run is left on the engine.
  await expect(docker.getContainer(refusedStarts[0]!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  expect(await containersOfRun(runId)).toEqual([]);
}, 240_000);
