// `eksbox upgrade` end to end through the command function: the plan printed first, the env lock,
// the run record, a real toolbox container and files rendered on the host and read inside it. The
// cloud is a small sh stand-in in the image (test/fixtures/tasks/upgrade-image/fakecloud), since the
// local emulator (moto) has neither UpdateClusterVersion nor addons.
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../../src/core/context.js";
import { UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { upgradeCommand } from "../../../src/commands/upgrade.js";
import { docker } from "../runtime/support.js";
import { makeProject, repoRoot, unitEnvYaml } from "../../unit/tasks/support.js";
import { rollCommand } from "../../../src/commands/roll.js";
import { execa } from "execa";
import { ensureBuilt } from "../../support/cli.js";

const IMAGE_DIR = join(repoRoot, "test/fixtures/tasks/upgrade-image");
const IMAGE_FILES = ["Dockerfile", "fakecloud"];

async function ensureImage(): Promise<string> {
  const hash = createHash("sha256");
  for (const file of IMAGE_FILES)
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(join(IMAGE_DIR, file)));
  const ref = `eksbox-test/tasks-upgrade:${hash.digest("hex").slice(0, 12)}`;
  const present = await docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (present) return ref;
  const stream = await docker.buildImage({ context: IMAGE_DIR, src: IMAGE_FILES }, { t: ref, rm: true, forcerm: true });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (error, results) => {
      const failed = (results as { error?: string }[] | undefined)?.find((r) => r.error);
      if (error || failed) reject(new Error(`building ${ref}: ${error?.message ?? failed?.error}`));
      else resolve();
    }),
  );
  return ref;
}

let image: string;
beforeAll(async () => {
  image = await ensureImage();
}, 600_000);

async function project(version: string, nodegroups: string[]): Promise<string> {
  const root = await makeProject({ envYaml: unitEnvYaml });
  await mkdir(join(root, ".fakecloud"));
  await writeFile(join(root, ".fakecloud/version"), `${version}\n`);
  await writeFile(join(root, ".fakecloud/nodegroups"), nodegroups.map((n) => `${n}\n`).join(""));
  await writeFile(join(root, ".fakecloud/log"), "");
  return root;
}

async function context(root: string): Promise<CommandContext & { sink: MemorySink; out: () => string }> {
  let out = "";
  const sink = new MemorySink();
  return {
    projectRoot: root,
    events: sink,
    sink,
    out: () => out,
    interrupter: new Interrupter(),
    stdout: new Writable({ write: (chunk, _e, done) => ((out += String(chunk)), done()) }),
    output: "text",
    processEnv: { HOME: await mkdtemp(join(tmpdir(), "eksbox-home-")), PATH: process.env.PATH },
  };
}

const cloudLog = async (root: string) => (await readFile(join(root, ".fakecloud/log"), "utf8")).split("\n").filter(Boolean);

describe("eksbox upgrade in the toolbox", () => {
  it("shows the plan, upgrades hop by hop, rolls the nodegroups; a rerun changes nothing", async () => {
    const root = await project("1.33", ["worker-1b-20261101", "worker-1c-20261101"]);
    const ctx = await context(root);
    await upgradeCommand(ctx, { env: "unit", image, yes: true });
    expect(ctx.out()).toMatch(/^plan: upgrade --env unit \(account 123456789012, ap-northeast-1\); nothing has been changed\n/);
    expect(ctx.out()).toContain(" 2. control-plane          run   Kubernetes 1.33 -> 1.34 -> 1.35; upgrade insights for 1.34: 0 ERROR");
    const log = await cloudLog(root);
    expect(log.slice(0, 3)).toEqual([
      "eksctl upgrade cluster -f build/unit/upgrade/cluster-1.34.yaml --approve",
      "eksctl upgrade cluster -f build/unit/upgrade/cluster-1.35.yaml --approve",
      "eksctl update addon -f build/unit/upgrade/cluster-1.35.yaml",
    ]);
    expect(log[3]).toMatch(/^eksctl create nodegroup -f build\/unit\/nodegroups\.yaml --include=worker-1b-\d{8},worker-1c-\d{8}$/);
    expect(log.slice(4).map((l) => l.replace(/ --cluster.*--name /, " "))).toEqual([
      "eksctl delete nodegroup worker-1b-20261101 --drain --approve --wait",
      "eksctl delete nodegroup worker-1c-20261101 --drain --approve --wait",
    ]);
    expect((await readFile(join(root, ".fakecloud/version"), "utf8")).trim()).toBe("1.35");
    expect(ctx.sink.events.find((e) => e.type === "run-end")).toMatchObject({ status: "done" });
    expect((await readdir(join(root, ".eksbox/runs"))).length).toBeGreaterThan(0);

    const again = await context(root);
    await upgradeCommand(again, { env: "unit", image }); // nothing to do: no question asked
    expect(await cloudLog(root)).toEqual(log);
    expect(again.out()).toMatch(/\n1 step\(s\) would run, 9 would be skipped\.\n$/);
  });

  it("asks before changing anything, and refuses without a terminal unless --yes", async () => {
    const root = await project("1.34", ["worker-1b-20261101", "worker-1c-20261101"]);
    const ctx = await context(root);
    const error = await upgradeCommand(ctx, { env: "unit", image }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toBe("read the plan, then pass --yes: eksbox upgrade --env unit --yes");
    const asked = await context(root);
    const questions: string[] = [];
    asked.ask = async (q) => (questions.push(q), "y");
    await expect(upgradeCommand(asked, { env: "unit", image })).rejects.toThrow('"y" is not "unit"; nothing was changed');
    expect(questions[0]).toMatch(/upgrade the control plane of unit to Kubernetes 1\.34 -> 1\.35 \(one way/);
    expect(questions[0]).toMatch(/Type the cluster's name \(unit\) to go on: $/);
    expect(await cloudLog(root)).toEqual([]);
  });

  it("on a protected environment, upgrade and nodegroup roll need --allow-protected, even with --yes", async () => {
    const root = await project("1.34", ["worker-1b-20261101", "worker-1c-20261101"]);
    await writeFile(join(root, "config/environments/unit.yaml"), `protected: true\n${unitEnvYaml}`);
    const upgrade = await upgradeCommand(await context(root), { env: "unit", image, yes: true }).then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(upgrade!.message).toMatch(/^environment unit is protected \(protected: true\); refusing to:\n {2}- upgrade the control plane/);
    expect(upgrade!.hint).toBe("if you really mean it: eksbox upgrade --env unit --allow-protected");
    const roll = await rollCommand(await context(root), { env: "unit", image, yes: true, toVersion: "20991231" }).then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(roll!.message).toMatch(/refusing to:\n {2}- drain and delete nodegroup\(s\) worker-1b-20261101, worker-1c-20261101$/);
    expect(roll!.hint).toBe("if you really mean it: eksbox nodegroup roll --env unit --to-version 20991231 --allow-protected");
    expect(await cloudLog(root)).toEqual([]);

    await rollCommand(await context(root), { env: "unit", image, yes: true, allowProtected: true, toVersion: "20991231" });
    expect((await readFile(join(root, ".fakecloud/nodegroups"), "utf8")).trim().split("\n").sort()).toEqual([
      "worker-1b-20991231",
      "worker-1c-20991231",
    ]);
  });

  it("nodegroup roll without a terminal needs --yes before it drains anything", async () => {
    const root = await project("1.35", ["worker-1b-20261101", "worker-1c-20261101"]);
    const error = await rollCommand(await context(root), { env: "unit", image, toVersion: "20991231" }).then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error!.hint).toBe("read the plan, then pass --yes: eksbox nodegroup roll --env unit --to-version 20991231 --yes");
    expect(await cloudLog(root)).toEqual([]);
  });
});

describe("--output json: one result object on stdout", () => {
  async function eksboxJson(root: string, args: string[]) {
    const cli = await ensureBuilt();
    const result = await execa("node", [cli, ...args, "--env", "unit", "--output", "json", "--project", root], {
      reject: false,
      env: { HOME: await mkdtemp(join(tmpdir(), "eksbox-home-")), PATH: process.env.PATH, EKSBOX_IMAGE: image },
      extendEnv: false,
    });
    const lines = result.stdout.split("\n").filter(Boolean);
    expect(lines, result.stderr).toHaveLength(1);
    return { exitCode: result.exitCode, report: JSON.parse(lines[0]!) as Record<string, unknown> & { steps: Record<string, unknown>[] } };
  }

  it.each([
    // The fake cloud knows no control-plane logging update: born's converge fails running it in the cluster step.
    ["born", ["born"], "failed", "cluster"],
    ["nodegroup roll", ["nodegroup", "roll", "--to-version", "20991231", "--yes"], "done", undefined],
    ["destroy", ["destroy", "--yes"], "failed", "delete-cluster"],
    ["upgrade", ["upgrade", "--yes"], "done", undefined],
    ["a user task", ["whoami"], "done", undefined],
  ])("%s", async (_name, args, outcome, failedStep) => {
    const root = await project("1.34", ["worker-1b-20261101", "worker-1c-20261101"]);
    await writeFile(
      join(root, "config/tasks.yaml"),
      "tasks:\n  whoami:\n    description: who am I\n    steps:\n    - id: ask\n      run: [aws, sts, get-caller-identity]\n",
    );
    const { exitCode, report } = await eksboxJson(root, args);
    expect(report).toMatchObject({ type: "run", env: "unit", outcome, runId: expect.stringMatching(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/) });
    expect(exitCode).toBe(outcome === "done" ? 0 : 1);
    const preflight = report.steps.find((s) => s.id === "preflight" || s.id === "ask")!;
    expect(preflight).toMatchObject({ status: "done", decision: "run", reason: expect.any(String) });
    for (const step of report.steps) expect(["done", "skipped", "failed", "aborted", "not-run"]).toContain(step.status);
    if (failedStep) {
      expect(report.steps.find((s) => s.id === failedStep)).toMatchObject({ status: "failed", decision: "run" });
      expect(report.resume).toMatch(new RegExp(`^eksbox ${args[0]} --env unit`));
      expect(report.error).toMatchObject({ kind: "step", step: failedStep });
    } else {
      expect(report.resume).toBeUndefined();
    }
    // The run record is the same run.
    expect(await readdir(join(root, ".eksbox/runs"))).toContain(report.runId);
  });
});
