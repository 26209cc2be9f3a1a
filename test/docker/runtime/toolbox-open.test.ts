// What the toolbox container's main process prepares before the first step: the environment's
// build directory, created for the user and only when missing, and a HOME and passwd entry.
import { chown, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { openToolbox } from "../../../src/runtime/toolbox.js";
import { containersOfRun, ensureTestImage, newRunId, engineEnv } from "./support.js";

const USER = { uid: 5432, gid: 5433 };
let imageRef: string;
const dirs: string[] = [];

beforeAll(async () => {
  imageRef = await ensureTestImage();
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function openIn(workspace: string) {
  const runId = newRunId("open");
  const toolbox = await openToolbox({
    projectRoot: workspace,
    envName: "stg",
    imageRef,
    runId,
    events: new MemorySink(),
    interrupter: new Interrupter(),
    processEnv: { ...engineEnv, HOME: workspace },
    user: USER,
    mode: "bind",
  });
  return { toolbox, runId };
}

describe("opening the toolbox", () => {
  it("creates build/<env> for the user when missing, ready for the first step", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), "eksbox-open-"));
    dirs.push(workspace);
    await chown(workspace, USER.uid, USER.gid);
    const { toolbox, runId } = await openIn(workspace);
    try {
      for (const dir of ["build", "build/stg"]) {
        const info = await stat(path.join(workspace, dir));
        expect([info.uid, info.gid]).toEqual([USER.uid, USER.gid]);
      }
      const result = await toolbox.runOrFail({
        step: "who",
        argv: ["sh", "-c", 'id -un; echo "$HOME"; touch "$HOME/x" build/stg/y'],
        captureStdout: true,
      });
      expect(result.stdout).toBe("eksbox\n/home/eksbox\n");
    } finally {
      await toolbox.dispose();
    }
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it("leaves an existing build directory's owner alone", async () => {
    const workspace = await mkdtemp(path.join(tmpdir(), "eksbox-open-"));
    dirs.push(workspace);
    await mkdir(path.join(workspace, "build"));
    const { toolbox } = await openIn(workspace);
    try {
      expect((await stat(path.join(workspace, "build"))).uid).toBe(0);
      expect((await stat(path.join(workspace, "build", "stg"))).uid).toBe(USER.uid);
    } finally {
      await toolbox.dispose();
    }
  });
});
