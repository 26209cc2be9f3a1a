// build/ that cannot be written: read-only, a file instead of a directory, or on a full disk.
// What must hold today: the previous files stay intact, no temp file is left, the lock is released,
// no container is left, and once the disk is fixed the rerun completes. What is still wrong
// (known bug: build-write-errors): the message is an "internal error" with a stack (exit 70)
// instead of a one-line "cannot write build/...: read-only file system" (exit 2).
import { execa } from "execa";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { existsSync, openSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  containersOfEnv,
  halfWrittenFiles,
  makeTestProject,
  removeOurContainers,
  STACK_FRAME,
  type CliResult,
  type TestProject,
} from "../reliability/support/project.js";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { recordCount } from "../reliability/support/counts.js";

const ENV = "chaos-disk";
let project: TestProject;
let cloud: Cloud | undefined;
const mountsAllowed = await canMount();
let cases = 0;
const mounted: string[] = [];

/** Decided before the tests are collected, so the cases that need it can be skipped with the reason. */
async function canMount(): Promise<boolean> {
  const probe = await mkdtemp(join(tmpdir(), "eksbox-mount-probe-"));
  try {
    const ok = (await execa("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { reject: false })).exitCode === 0;
    if (ok) await execa("umount", [probe]);
    return ok;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

async function mount(args: string[]): Promise<void> {
  await execa("mount", args);
  mounted.push(args[args.length - 1]!);
}
async function unmountAll(): Promise<void> {
  while (mounted.length) await execa("umount", [mounted.pop()!], { reject: false });
}

beforeAll(async () => {
  project = await makeTestProject("eksbox-chaos-disk-");
  if (!mountsAllowed)
    console.log("reliability: SKIPPED read-only and disk-full cases: this process may not mount (needs root with CAP_SYS_ADMIN)");
}, 900_000);
afterEach(unmountAll);
afterAll(async () => {
  recordCount("faults: build/ write cases", cases);
  await unmountAll();
  await removeOurContainers([ENV]);
  await cloud?.stop();
  await project?.cleanup();
});

const build = () => join(project.root, "build");
const generate = (extra: string[] = []) => project.run(["generate", "--env", ENV, ...extra], { timeoutMs: 60_000 });

/** Every case: a good generate first, then the fault, then a generate with a change that must not land. */
async function withPreviousFiles(): Promise<string> {
  await rm(build(), { recursive: true, force: true });
  await project.writeEnv(ENV);
  const first = await generate();
  expect(first.exitCode, first.stderr).toBe(0);
  return readFile(join(build(), ENV, "cluster.yaml"), "utf8");
}

const faults: [name: string, needsMount: boolean, apply: () => Promise<void>][] = [
  [
    "build/ is a read-only mount",
    true,
    async () => {
      await mount(["--bind", build(), build()]);
      await execa("mount", ["-o", "remount,bind,ro", build()]);
    },
  ],
  [
    "build/ is on a full disk",
    true,
    async () => {
      const saved = join(project.root, "build-saved");
      await cp(build(), saved, { recursive: true });
      await rm(build(), { recursive: true });
      await mkdir(build());
      await mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs", build()]);
      await cp(saved, build(), { recursive: true });
      await rm(saved, { recursive: true });
      // Fill every last block.
      const fd = openSync(join(build(), "filler"), "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096));
      } catch {
        // ENOSPC: full.
      } finally {
        closeSync(fd);
      }
    },
  ],
  [
    "build is a file, not a directory",
    false,
    async () => {
      await rm(build(), { recursive: true });
      await writeFile(build(), "not a directory\n");
    },
  ],
];

async function undo(name: string): Promise<void> {
  await unmountAll();
  if (name.startsWith("build is a file")) await rm(build(), { force: true });
}

function expectClearWriteError(result: CliResult): void {
  expect(result.stderr).not.toContain("internal error");
  expect(result.stderr).not.toMatch(STACK_FRAME);
  expect(result.exitCode, result.stderr).toBe(2);
  expect(result.stderr).toMatch(/cannot write \S*build\//);
}

describe.each(faults)("%s", (name, needsMount, apply) => {
  it.skipIf(needsMount && !mountsAllowed)(
    "generate keeps the previous files intact, leaves no temp file; after the fix it completes",
    async () => {
      const before = await withPreviousFiles();
      await apply();
      const failed = await generate(["--set", "worker.labels.changed=yes"]);
      expect(failed.exitCode).not.toBe(0);
      expect(failed.timedOut).toBe(false);
      if (existsSync(join(build(), ENV, "cluster.yaml"))) expect(await readFile(join(build(), ENV, "cluster.yaml"), "utf8")).toBe(before);
      expect(await halfWrittenFiles(project.root)).toEqual([]);
      await undo(name);
      const rerun = await generate();
      expect(rerun.exitCode, rerun.stderr).toBe(0);
      cases++;
    },
  );

  it.skipIf(needsMount && !mountsAllowed)("generate says clearly that build/ cannot be written", async () => {
    await withPreviousFiles();
    await apply();
    expectClearWriteError(await generate(["--set", "worker.labels.changed=yes"]));
  });
});

describe("born when build/ cannot be written", () => {
  it("the generate step fails, the lock is released, no container is left; after the fix born completes", async () => {
    cloud = await startCloud();
    await rm(build(), { recursive: true, force: true });
    await project.writeEnv(ENV, { endpointUrl: cloud.moto.url });
    await writeFile(build(), "not a directory\n");
    const env = cloud.cliEnv();
    const failed = await project.run(["born", "--env", ENV], { env, timeoutMs: 300_000 });
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toContain("[generate] failed");
    expect(failed.stderr).toContain(`resume with: eksbox born --env ${ENV}`);
    expect(existsSync(join(project.root, ".eksbox", "locks", `${ENV}.lock`))).toBe(false);
    expect(await containersOfEnv(ENV)).toEqual([]);
    await rm(build(), { force: true });
    const rerun = await project.run(["born", "--env", ENV], { env, timeoutMs: 300_000 });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(await cloud.clusters()).toContain(ENV);
    cases++;
  }, 600_000);
});
