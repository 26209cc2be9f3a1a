// Steps in a real toolbox container: exit codes, the stdout/stderr split, streaming without
// buffering, secrets, file ownership and concurrent steps.
import { chown, mkdtemp, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StepFailedError } from "../../../src/core/errors.js";
import { MemorySink, type EksboxEvent } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { openToolbox, type DockerToolbox } from "../../../src/runtime/toolbox.js";
import { containersOfRun, docker, ensureTestImage, newRunId, engineEnv } from "./support.js";

const HOST_USER = { uid: 4321, gid: 4322 };
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue";

let imageRef: string;
let workspace: string;
let home: string;
let toolbox: DockerToolbox;
let runId: string;
const sink = new MemorySink();

function outputLines(step: string, stream?: "stdout" | "stderr"): string[] {
  return sink.events
    .filter(
      (e): e is Extract<EksboxEvent, { type: "step-output" }> =>
        e.type === "step-output" && e.step === step && (!stream || e.stream === stream),
    )
    .map((e) => e.line);
}

beforeAll(async () => {
  imageRef = await ensureTestImage();
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-ws-"));
  home = await mkdtemp(path.join(tmpdir(), "eksbox-home-"));
  await mkdir(path.join(workspace, "build", "prod"), { recursive: true });
  await writeFile(path.join(workspace, "build", "prod", "cluster.yaml"), "kind: ClusterConfig\n");
  await mkdir(path.join(home, ".aws", "sso", "cache"), { recursive: true });
  await writeFile(path.join(home, ".aws", "config"), "[profile stg]\nregion = ap-northeast-1\n");
  await writeFile(path.join(home, ".aws", "sso", "cache", "token.json"), "{}");
  await chown(path.join(home, ".aws", "sso", "cache"), HOST_USER.uid, HOST_USER.gid);
  await chown(path.join(home, ".aws", "sso", "cache", "token.json"), HOST_USER.uid, HOST_USER.gid);
  for (const dir of [workspace, path.join(workspace, "build"), path.join(workspace, "build", "prod")])
    await chown(dir, HOST_USER.uid, HOST_USER.gid);
  runId = newRunId("run");
  toolbox = await openToolbox({
    projectRoot: workspace,
    envName: "prod",
    aws: { profile: "prod-admin", region: "eu-west-1" },
    imageRef,
    runId,
    events: sink,
    interrupter: new Interrupter(),
    processEnv: {
      ...engineEnv,
      HOME: home,
      AWS_PROFILE: "from-shell",
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_SESSION_TOKEN: TOKEN,
      GITHUB_TOKEN: "ghp_examplegithubtoken1234",
      UNLISTED_VARIABLE: "must-not-pass",
      EKSBOX_PASS_ENV: "EKSBOX_TEST_MODE",
      EKSBOX_TEST_MODE: "double",
    },
    user: HOST_USER,
    mode: "bind",
  });
});

afterAll(async () => {
  await toolbox?.dispose();
  if (runId) expect(await containersOfRun(runId)).toEqual([]);
  await rm(workspace, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

describe("a step in the toolbox", () => {
  it("propagates exit codes and keeps stdout and stderr apart", async () => {
    const result = await toolbox.run({ step: "split", argv: ["sh", "-c", "echo to-out; echo to-err >&2; exit 7"] });
    expect(result.exitCode).toBe(7);
    expect(outputLines("split", "stdout")).toEqual(["to-out"]);
    expect(outputLines("split", "stderr")).toEqual(["to-err"]);
    expect(result.outputTail).toEqual(["to-err"]);
  });

  it("reports a failed step with its argv, exit code meaning and last lines", async () => {
    const failing = toolbox.runOrFail({ step: "killed", argv: ["sh", "-c", "echo about to die >&2; kill -KILL $$"] });
    await expect(failing).rejects.toBeInstanceOf(StepFailedError);
    const error = (await failing.catch((e: unknown) => e)) as StepFailedError;
    expect(error.commandExitCode).toBe(137);
    expect(error.message).toContain("killed");
    expect(error.argv).toEqual(["sh", "-c", "echo about to die >&2; kill -KILL $$"]);
    expect(error.outputTail).toEqual(["about to die"]);
  });

  it("says when the command is not in the image", async () => {
    const result = await toolbox.run({ step: "missing", argv: ["no-such-tool", "--version"] });
    expect(result.exitCode).toBe(127);
  });

  it("captures stdout exactly for parsing without emitting it", async () => {
    const result = await toolbox.run({
      step: "json",
      argv: ["sh", "-c", `printf '{"Account":"123456789012"}'; echo note >&2`],
      captureStdout: true,
    });
    expect(JSON.parse(result.stdout)).toEqual({ Account: "123456789012" });
    expect(outputLines("json", "stdout")).toEqual([]);
    expect(outputLines("json", "stderr")).toEqual(["note"]);
  });

  it("streams 100 MB of output line by line with flat memory", async () => {
    let lines = 0;
    let bytes = 0;
    const counting = new MemorySink();
    const counter = {
      emit: (e: EksboxEvent) => (e.type === "step-output" ? ((lines += 1), (bytes += e.line.length + 1)) : counting.emit(e)),
    };
    const streaming = await openToolbox({
      projectRoot: workspace,
      imageRef,
      runId: newRunId("big"),
      events: counter,
      interrupter: new Interrupter(),
      processEnv: { ...engineEnv, HOME: home },
      user: HOST_USER,
      mode: "bind",
    });
    try {
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      // 1,048,576 lines of 99 characters + newline = 100 MiB.
      const result = await streaming.run({
        step: "big",
        argv: [
          "sh",
          "-c",
          "yes 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' | head -n 1048576",
        ],
      });
      clearInterval(sampler);
      expect(result.exitCode).toBe(0);
      expect(lines).toBe(1_048_576);
      expect(bytes).toBe(100 * 1024 * 1024);
      // Holding the output would take > 100 MB (twice that as JS strings); streaming stays far below.
      expect(peak - before).toBeLessThan(60 * 1024 * 1024);
    } finally {
      await streaming.dispose();
    }
  });

  it("a slow reader of the output slows the command instead of filling memory", async () => {
    let received = 0;
    // A reader that stalls for a while (a pager, a full pipe), then keeps up: all output produced
    // meanwhile must wait in the command, not in our memory.
    let stalled: (() => void) | undefined;
    let stalling = true;
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        if (stalling) stalled = done;
        else setImmediate(done);
      },
    });
    setTimeout(() => {
      stalling = false;
      stalled?.();
    }, 3000);
    const stderr = new Writable({ write: (_c, _e, done) => done() });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    // 64 MiB in lines of 1 KiB.
    const line = "y".repeat(1023);
    const result = await toolbox.run({
      step: "slow-reader",
      argv: ["sh", "-c", `yes ${line} | head -n 65536`],
      output: { stdout: slow, stderr },
    });
    clearInterval(sampler);
    // What is still queued in the reader (at most about its high-water mark) arrives after the step.
    await new Promise((resolve) => slow.end(resolve));
    expect(result.exitCode).toBe(0);
    expect(received).toBe(64 * 1024 * 1024);
    expect(peak - before).toBeLessThan(48 * 1024 * 1024);
  });

  it("masks secret values in output and tails, and keeps them off the container's argv", async () => {
    const result = await toolbox.run({
      step: "leaky",
      argv: ["sh", "-c", 'echo "key=$AWS_SECRET_ACCESS_KEY"; echo "token $AWS_SESSION_TOKEN" >&2; echo "$GITHUB_TOKEN"'],
    });
    expect(result.exitCode).toBe(0);
    const all = JSON.stringify(sink.events);
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(TOKEN);
    expect(outputLines("leaky", "stdout")[0]).toBe("key=***");
    expect(result.outputTail).toEqual(["token ***"]);
    const inspected = await toolbox.container.inspect();
    const argvText = JSON.stringify([inspected.Path, inspected.Args, inspected.Config.Cmd, inspected.Config.Entrypoint]);
    expect(argvText).not.toContain(SECRET);
    expect(inspected.Config.Env).toContain(`AWS_SECRET_ACCESS_KEY=${SECRET}`);
  });

  it("passes only the allowlist, EKSBOX_PASS_ENV names and the environment's AWS settings", async () => {
    const result = await toolbox.run({ step: "env", argv: ["env"], captureStdout: true });
    const env = Object.fromEntries(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    expect(env.AWS_PROFILE).toBe("prod-admin");
    expect(env.AWS_REGION).toBe("eu-west-1");
    expect(env.AWS_DEFAULT_REGION).toBe("eu-west-1");
    expect(env.EKSBOX_TEST_MODE).toBe("double");
    expect(env.KUBECONFIG).toBe(path.join(workspace, "build", "prod", "kubeconfig"));
    expect(env.UNLISTED_VARIABLE).toBeUndefined();
    expect(env.GITHUB_TOKEN).toBeUndefined();
  });

  it("runs as the host user with a passwd entry and a writable HOME; files written are the user's", async () => {
    const result = await toolbox.run({
      step: "files",
      argv: ["sh", "-c", 'id -u; id -g; id -un; touch "$HOME/ok"; cat build/prod/cluster.yaml; echo made > build/prod/out.txt'],
      captureStdout: true,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split("\n").slice(0, 4)).toEqual([String(HOST_USER.uid), String(HOST_USER.gid), "eksbox", "kind: ClusterConfig"]);
    const written = await stat(path.join(workspace, "build", "prod", "out.txt"));
    expect([written.uid, written.gid]).toEqual([HOST_USER.uid, HOST_USER.gid]);
  });

  it("resolves cwd against the workspace and accepts absolute paths", async () => {
    const result = await toolbox.run({
      step: "cwd",
      argv: ["sh", "-c", `pwd; cat ${path.join(workspace, "build/prod/cluster.yaml")}`],
      cwd: "build/prod",
      captureStdout: true,
    });
    expect(result.stdout).toBe(`${path.join(workspace, "build", "prod")}\nkind: ClusterConfig\n`);
  });

  it("mounts ~/.aws read-only, with the SSO token cache usable (readable and refreshable)", async () => {
    const result = await toolbox.run({
      step: "aws-dir",
      argv: [
        "sh",
        "-c",
        "cat ~/.aws/sso/cache/token.json; echo; touch ~/.aws/new 2>/dev/null && echo config-writable || echo config-read-only; echo refreshed > ~/.aws/sso/cache/token.json && echo cache-writable",
      ],
      captureStdout: true,
    });
    expect(result.stdout).toBe("{}\nconfig-read-only\ncache-writable\n");
    expect(await readFile(path.join(home, ".aws", "sso", "cache", "token.json"), "utf8")).toBe("refreshed\n");
  });

  it("runs steps side by side, each output under its own step", async () => {
    const steps = ["az-a", "az-b", "az-c"];
    const results = await Promise.all(
      steps.map((step, i) => toolbox.run({ step, argv: ["sh", "-c", `for n in 1 2 3; do echo ${step}-$n; sleep 0.1; done; exit ${i}`] })),
    );
    expect(results.map((r) => r.exitCode)).toEqual([0, 1, 2]);
    for (const step of steps) expect(outputLines(step)).toEqual([`${step}-1`, `${step}-2`, `${step}-3`]);
  });

  it("logs the image and its tools at the start", () => {
    const image = sink.events.find((e) => e.type === "image");
    expect(image).toMatchObject({ type: "image", ref: imageRef, tools: { "slow-step": "1" } });
    expect(toolbox.image.id).toMatch(/^sha256:/);
  });

  it("labels its container with tool, run and env", async () => {
    const [container] = await containersOfRun(runId);
    expect(container?.Labels).toMatchObject({ "io.eksbox.tool": "eksbox", "io.eksbox.run-id": runId, "io.eksbox.env": "prod" });
    expect((await docker.getContainer(container!.Id).inspect()).HostConfig.Init).toBe(true);
  });
});
