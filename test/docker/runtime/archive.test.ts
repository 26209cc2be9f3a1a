// When the engine cannot see our files: the workspace goes in and the results come back through
// the archive API. Tested directly (mode "archive") and for real, with eksbox running inside a
// container that has only the engine's socket.
import { existsSync, readdirSync, rmdirSync } from "node:fs";
import { mkdtemp, mkdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { LABEL_RUN_ID, LABEL_TOOL } from "../../../src/runtime/labels.js";
import { openToolbox } from "../../../src/runtime/toolbox.js";
import { containersOfRun, docker, engineSocket, testingPodman, ensureTestImage, newRunId, engineEnv } from "./support.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
let imageRef: string;
let workspace: string;
let home: string;

beforeAll(async () => {
  imageRef = await ensureTestImage();
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-ws-"));
  home = await mkdtemp(path.join(tmpdir(), "eksbox-home-"));
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

function openArchiveToolbox(projectRoot: string, runId: string) {
  return openToolbox({
    projectRoot,
    envName: "stg",
    imageRef,
    runId,
    events: new MemorySink(),
    interrupter: new Interrupter(),
    processEnv: { ...engineEnv, HOME: home },
    mode: "archive",
  });
}

describe("archive mode", () => {
  it("copies the workspace in and results back, keeping files changed here meanwhile", async () => {
    await mkdir(path.join(workspace, "build", "stg"), { recursive: true });
    await mkdir(path.join(workspace, ".git"), { recursive: true });
    await writeFile(path.join(workspace, ".git", "HEAD"), "ref: refs/heads/main\n");
    await writeFile(path.join(workspace, "build", "stg", "cluster.yaml"), "rendered\n");
    await writeFile(path.join(workspace, "edited-here.txt"), "old\n");
    await mkdir(path.join(home, ".aws"), { recursive: true });
    await writeFile(path.join(home, ".aws", "config"), "[default]\nregion = us-east-1\n");
    const runId = newRunId("archive");
    const toolbox = await openArchiveToolbox(workspace, runId);
    try {
      expect(toolbox.mode).toBe("archive");
      const inside = await toolbox.run({
        step: "work",
        argv: [
          "sh",
          "-c",
          "cat build/stg/cluster.yaml; test -e .git && echo has-git || echo no-git; cat ~/.aws/config | head -1; echo kube > build/stg/kubeconfig; echo container > edited-here.txt",
        ],
        captureStdout: true,
      });
      expect(inside.stdout).toBe("rendered\nno-git\n[default]\n");
      // Edited on this side while the step ran: must survive the copy back.
      await writeFile(path.join(workspace, "edited-here.txt"), "edited on the host\n");
      const future = new Date(Date.now() + 60_000);
      await utimes(path.join(workspace, "edited-here.txt"), future, future);
      // A bind mount would show this file in the container: archive mode must not.
      await writeFile(path.join(workspace, "late.txt"), "late\n");
      expect((await toolbox.run({ step: "late", argv: ["test", "-e", "late.txt"] })).exitCode).toBe(1);
    } finally {
      await toolbox.dispose();
    }
    expect(await readFile(path.join(workspace, "build", "stg", "kubeconfig"), "utf8")).toBe("kube\n");
    expect(await readFile(path.join(workspace, "edited-here.txt"), "utf8")).toBe("edited on the host\n");
    expect((await stat(path.join(workspace, "build", "stg", "kubeconfig"))).uid).toBe(process.getuid!());
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it("files written here after the toolbox opened reach it once shared, and its commands can write beside them", async () => {
    const ws = await mkdtemp(path.join(tmpdir(), "eksbox-ws-share-"));
    const runId = newRunId("archive-share");
    const toolbox = await openArchiveToolbox(ws, runId);
    try {
      await mkdir(path.join(ws, "build", "stg"), { recursive: true });
      await writeFile(path.join(ws, "build", "stg", "cluster.yaml"), "rendered after open\n");
      await toolbox.shareFiles([path.join(ws, "build", "stg", "cluster.yaml")]);
      const inside = await toolbox.run({
        step: "create",
        argv: ["sh", "-c", "cat build/stg/cluster.yaml && echo kube > build/stg/kubeconfig"],
        captureStdout: true,
      });
      expect(inside.exitCode).toBe(0);
      expect(inside.stdout).toBe("rendered after open\n");
      await expect(toolbox.shareFiles(["/etc/passwd"])).rejects.toThrow(/outside the workspace/);
    } finally {
      await toolbox.dispose();
      await rm(ws, { recursive: true, force: true }).catch(() => undefined);
    }
  });

  it("eksbox running in a container with only the engine socket switches to archive mode by itself", async () => {
    const runId = newRunId("cli-in-container");
    // Exists only inside the CLI's container; the engine's host must not get it either.
    const ws = `/eksbox-test-ws-${runId}`;
    const script = [
      "set -e",
      `mkdir -p ${ws}/build`,
      `echo from-the-cli-container > ${ws}/input.txt`,
      `cd ${REPO}`,
      `node --import tsx test/fixtures/runtime/cli-in-container.mts ${imageRef} sh -c 'cat input.txt; echo result > build/out.txt; exit 3' || echo "exec exited $?"`,
      `echo "copied back: $(cat ${ws}/build/out.txt)"`,
    ].join("\n");
    const cli = await docker.createContainer({
      Image: imageRef,
      Entrypoint: ["/bin/sh", "-c", script],
      Labels: { [LABEL_TOOL]: "eksbox-test", [LABEL_RUN_ID]: runId },
      Env: ["HOME=/root", `EKSBOX_TEST_WORKSPACE=${ws}`],
      HostConfig: {
        Binds: [`${engineSocket}:/var/run/docker.sock`, `${process.execPath}:/usr/local/bin/node:ro`, `${REPO}:${REPO}:ro`],
      },
    });
    try {
      await cli.start();
      const { StatusCode } = await cli.wait();
      const logs = (await cli.logs({ stdout: true, stderr: true })).toString("utf8");
      expect(StatusCode, logs).toBe(0);
      expect(logs).toContain("the engine cannot see this workspace");
      expect(logs).toContain("from-the-cli-container");
      expect(logs).toContain("exec exited 3");
      expect(logs).toContain("copied back: result");
      if (testingPodman) {
        // Podman creates a missing mount source on its host (Docker refuses it): the probe mount left
        // an empty directory there, which eksbox says.
        expect(logs).toContain(`Podman may have created an empty directory ${ws} on its host`);
        expect(readdirSync(ws)).toEqual([]);
        rmdirSync(ws);
      } else {
        expect(existsSync(ws)).toBe(false);
      }
    } finally {
      await cli.remove({ force: true });
    }
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=eksbox`] } });
    expect(leftovers.filter((c) => c.Labels["io.eksbox.owner"]?.startsWith(cli.id.slice(0, 12)))).toEqual([]);
  });

  it("eksbox in a container whose workspace is the host's, at the same path, keeps bind mounts", async () => {
    const shared = await mkdtemp(path.join(tmpdir(), "eksbox-shared-"));
    const runId = newRunId("cli-same-path");
    const script = [
      "set -e",
      `cd ${REPO}`,
      `node --import tsx test/fixtures/runtime/cli-in-container.mts ${imageRef} sh -c 'echo via-bind > made-inside.txt'`,
    ].join("\n");
    const cli = await docker.createContainer({
      Image: imageRef,
      Entrypoint: ["/bin/sh", "-c", script],
      Labels: { [LABEL_TOOL]: "eksbox-test", [LABEL_RUN_ID]: runId },
      Env: ["HOME=/root", `EKSBOX_TEST_WORKSPACE=${shared}`],
      HostConfig: {
        Binds: [
          `${engineSocket}:/var/run/docker.sock`,
          `${process.execPath}:/usr/local/bin/node:ro`,
          `${REPO}:${REPO}:ro`,
          `${shared}:${shared}`,
        ],
      },
    });
    try {
      await cli.start();
      const { StatusCode } = await cli.wait();
      const logs = (await cli.logs({ stdout: true, stderr: true })).toString("utf8");
      expect(StatusCode, logs).toBe(0);
      expect(logs).not.toContain("the engine cannot see this workspace");
      expect(await readFile(path.join(shared, "made-inside.txt"), "utf8")).toBe("via-bind\n");
      // The probe file is gone again.
      const { readdir } = await import("node:fs/promises");
      expect((await readdir(shared)).filter((name) => name.startsWith(".eksbox-probe"))).toEqual([]);
    } finally {
      await cli.remove({ force: true });
      await rm(shared, { recursive: true, force: true });
    }
  });
});
