import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.js";
import { acquireEnvLock, currentLockHolder, lockPath } from "../../../src/steps/lock.js";

const project = () => mkdtemp(join(tmpdir(), "eksbox-lock-"));

describe("acquireEnvLock", () => {
  it("refuses a second run on the same env and names the holder", async () => {
    const root = await project();
    const first = await acquireEnvLock(root, "prod", { runId: "r1", task: "born" });
    const second = acquireEnvLock(root, "prod", { runId: "r2", task: "born" });
    await expect(second).rejects.toThrow(UserError);
    await expect(acquireEnvLock(root, "prod", { runId: "r2", task: "born" })).rejects.toThrow(
      new RegExp(`locked by another run: born \\(run r1\\), pid ${process.pid} on ${hostname()}`),
    );
    await first.release();
    const third = await acquireEnvLock(root, "prod", { runId: "r3", task: "destroy" });
    expect((await currentLockHolder(root, "prod"))?.runId).toBe("r3");
    await third.release();
    expect(await currentLockHolder(root, "prod")).toBeUndefined();
  });

  it("lets different envs run at once", async () => {
    const root = await project();
    const a = await acquireEnvLock(root, "prod", { runId: "r1", task: "born" });
    const b = await acquireEnvLock(root, "stg", { runId: "r2", task: "born" });
    await a.release();
    await b.release();
  });

  it("takes over a lock whose process is gone", async () => {
    const root = await project();
    const dead = spawnSync("true").pid!; // a pid that has exited
    await mkdir(join(root, ".eksbox", "locks"), { recursive: true });
    await writeFile(
      lockPath(root, "prod"),
      JSON.stringify({ pid: dead, host: hostname(), startedAt: "2026-01-01T00:00:00Z", runId: "old", task: "born" }),
    );
    const lock = await acquireEnvLock(root, "prod", { runId: "new", task: "born" });
    expect(lock.tookOverFrom?.runId).toBe("old");
    expect(JSON.parse(await readFile(lockPath(root, "prod"), "utf8")).runId).toBe("new");
    await lock.release();
  });

  it("does not take over a live lock from another host, and says what to do", async () => {
    const root = await project();
    await mkdir(join(root, ".eksbox", "locks"), { recursive: true });
    await writeFile(
      lockPath(root, "prod"),
      JSON.stringify({ pid: 1, host: "elsewhere", startedAt: "2026-01-01T00:00:00Z", runId: "old", task: "born" }),
    );
    await expect(acquireEnvLock(root, "prod", { runId: "new", task: "born" })).rejects.toMatchObject({
      hint: expect.stringContaining("runs on another host"),
    });
  });

  it("release does not remove a lock someone else took since", async () => {
    const root = await project();
    const lock = await acquireEnvLock(root, "prod", { runId: "mine", task: "born" });
    await writeFile(lockPath(root, "prod"), JSON.stringify({ pid: 1, host: "x", startedAt: "", runId: "theirs", task: "born" }));
    await lock.release();
    expect((await currentLockHolder(root, "prod"))?.runId).toBe("theirs");
  });
});
