// User tasks compiled onto the lifecycle's step model (src/steps/) and run by its scheduler against the fake cloud.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { ConfigError, StepFailedError, UserError } from "../../../src/core/errors.js";
import { planAsText } from "../../../src/output/plan.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import { findTask, taskNames } from "../../../src/tasks/find.js";
import { parseTaskTokens } from "../../../src/tasks/token-parse.js";
import { argumentSpecs } from "../../../src/tasks/args.js";
import { loadTasksFile } from "../../../src/tasks/load.js";
import { contextFor, fakeCloud, makeProject, repoRoot } from "./support.js";
import type { UpgradeFakeCloud } from "./fake-cloud-upgrade.js";

const fixture = await readFile(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), "utf8");
const statusOf = (result: Awaited<ReturnType<typeof runTask>>) => Object.fromEntries(result.outcomes.map((o) => [o.id, o.status]));

let root: string;
let cloud: UpgradeFakeCloud;

async function build(name: string, args: string[] = [], planning = false) {
  const ctx = await contextFor(root, cloud, { planning });
  const found = await findTask(root, name, { env: ctx.env, args });
  if (!found) throw new Error(`no task ${name}`);
  return { ctx: found.task.extend ? found.task.extend(ctx) : ctx, task: found.task };
}

beforeEach(async () => {
  root = await makeProject({ tasksYaml: fixture });
  cloud = fakeCloud(root);
});

describe("user tasks", () => {
  it("renders each argv element as one argument and list values as one argument each", async () => {
    const { ctx, task } = await build("greet", ["Ann", "O'Brien; rm -rf /", "--greeting", "hi $(id)"]);
    const result = await runTask(task, ctx);
    expect(result.status).toBe("done");
    expect(cloud.calls[0]).toEqual(["printf", "%s\n", "hi $(id)", "Ann", "O'Brien; rm -rf /"]);
    expect(cloud.calls[1]).toEqual([
      "sh",
      "-c",
      "for name in 'Ann' 'O'\\''Brien; rm -rf /'; do\n  printf '%s, %s%s\\n' 'hi $(id)' \"$name\" '.'\ndone\n",
    ]);
  });

  it("plans exactly: ids, decisions and the quoted commands", async () => {
    const { ctx, task } = await build("greet", ["Ann", "Bo b", "--shout"], true);
    const entries = await planTask(task, ctx);
    const text = planAsText({ task: "greet", env: "unit", account: "123456789012", region: "ap-northeast-1" }, entries);
    expect(text).toBe(
      [
        "plan: greet --env unit (account 123456789012, ap-northeast-1); nothing has been changed",
        " 1. argv    run   runs every time (no skipIf)",
        "      $ printf '%s\n' hello Ann 'Bo b'",
        " 2. script  run   runs every time (no skipIf)",
        "      $ sh -c 'for name in '\\''Ann'\\'' '\\''Bo b'\\''; do\n  printf '\\''%s, %s%s\\n'\\'' '\\''hello'\\'' \"$name\" '\\''!'\\''\ndone\n'",
        "2 step(s) would run, 0 would be skipped.",
        "",
      ].join("\n"),
    );
    expect(cloud.calls).toEqual([]);
  });

  it("skipIf makes a rerun skip what is done, and a failure stops the task until a rerun", async () => {
    cloud.exitCodes.set("test -e", 1);
    cloud.exitCodes.set("cat", 1);
    const first = await build("marker", ["/tmp/m"]);
    const failed = await runTask(first.task, first.ctx);
    expect(statusOf(failed)).toEqual({ write: "done", show: "failed" });
    expect(failed.error).toBeInstanceOf(StepFailedError);
    expect((failed.error as StepFailedError).step).toBe("show");

    cloud.exitCodes.clear(); // the marker now exists and cat works
    const again = await build("marker", ["/tmp/m"]);
    const rerun = await runTask(again.task, again.ctx);
    expect(statusOf(rerun)).toEqual({ write: "skipped", show: "done" });
    expect(rerun.outcomes[0]!.decision).toEqual({ action: "skip", reason: "skipIf passed: test -e /tmp/m" });
    expect(cloud.calls.filter((a) => a[0] === "sh")).toHaveLength(1);
  });

  it("inlines called tasks with prefixed ids, orders them by needs, and runs their commands under those ids", async () => {
    await runTask((await import("../../../src/steps/born.js")).bornTask(), await contextFor(root, cloud));
    cloud.calls = [];
    cloud.steps = [];
    const { ctx, task } = await build("release");
    expect(task.steps.map((s) => `${s.id}<-${s.needs.join(",")}`)).toEqual([
      "preflight<-",
      "smoke.nodes<-preflight",
      "announce<-smoke.nodes",
      "check.nodes<-rollout.record",
      "rollout.preflight<-announce",
      "rollout.generate<-rollout.preflight",
      "rollout.create-new<-rollout.generate",
      "rollout.wait-ready<-rollout.create-new",
      "rollout.delete-old<-rollout.wait-ready",
      "rollout.record<-rollout.delete-old",
    ]);
    const result = await runTask(task, { ...ctx, planning: false });
    expect(result.status).toBe("done");
    expect([...cloud.nodegroups.keys()].sort()).toEqual(["worker-1b-20261201", "worker-1c-20261201"]);
    expect(cloud.calls.find((a) => a[0] === "echo")).toEqual(["echo", "releasing unit in ap-northeast-1"]);
    const kubectl = cloud.calls.filter((a) => a[0] === "kubectl" && a.includes("-o") && a.some((x) => x.startsWith("--request-timeout")));
    expect(kubectl.map((a) => a.at(-1))).toEqual(["--request-timeout=60s", "--request-timeout=60s"]);
    expect(cloud.steps).toContain("rollout.create-new");
    expect(cloud.steps).toContain("check.nodes");
    expect(cloud.steps.indexOf("check.nodes")).toBeGreaterThan(cloud.steps.lastIndexOf("rollout.delete-old"));
  });

  it("plans every task of the sample config/tasks.yaml without an error", async () => {
    root = await makeProject({ tasksYaml: await readFile(join(repoRoot, "config/tasks.yaml"), "utf8") });
    cloud = fakeCloud(root);
    await runTask((await import("../../../src/steps/born.js")).bornTask(), await contextFor(root, cloud));
    const samples: [string, string[]][] = [
      ["smoke-test", []],
      ["install-addon", ["aws-ebs-csi-driver", "--addon-version", "v1.2.0"]],
      ["weekly-roll", []],
    ];
    for (const [name, args] of samples) {
      const { ctx, task } = await build(name, args, true);
      const entries = await planTask(task, ctx);
      expect(entries.filter((e) => e.error !== undefined).map((e) => [name, e.id, String(e.error)])).toEqual([]);
    }
    const { ctx, task } = await build("install-addon", ["aws-ebs-csi-driver"], true);
    const create = (await planTask(task, ctx)).find((e) => e.id === "create")!.decision!;
    expect(create.action === "run" && create.commands[0]!.argv).toEqual([
      "sh",
      "-c",
      "set -eu\naws eks create-addon --cluster-name 'unit' --addon-name 'aws-ebs-csi-driver' --region 'ap-northeast-1' \\\n  \n",
    ]);
  });

  it("parses plan's argument tokens with the task's own declarations", async () => {
    const file = await loadTasksFile(root);
    const specs = argumentSpecs(file.tasks.greet!);
    expect(parseTaskTokens("greet", specs, ["a", "b", "--greeting", "yo", "--no-shout"])).toEqual({
      names: ["a", "b"],
      greeting: "yo",
      shout: false,
    });
    expect(() => parseTaskTokens("greet", specs, ["a", "--colour", "red"])).toThrow(UserError);
    expect(await taskNames(root)).toEqual(["born", "roll", "destroy", "upgrade", "greet", "marker", "smoke", "release"]);
  });

  it("names a missing required argument with its type before anything runs", async () => {
    await expect(build("marker", [])).rejects.toThrow("task marker: missing required parameter <file> (string)");
    await expect(build("nothere")).rejects.toThrow("no task nothere");
  });

  it("checks a call's arguments like the command line's, naming where the call is", async () => {
    root = await makeProject({ tasksYaml: fixture.replace('with: { timeout: "{{ 30 * 2 }}" }', 'with: { timeout: "soon" }') });
    const error = await build("release").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({
      file: "config/tasks.yaml",
      path: "tasks.release.steps[1].with",
      message: 'task smoke: option --timeout: "soon" is not a number',
    });
  });

  it("reports a template error with the task and step", async () => {
    const broken = fixture.replace('"{{ args.file }}"]', '"{{ args.file | nosuchfilter }}"]');
    root = await makeProject({ tasksYaml: broken });
    const error = await build("marker", ["/x"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]).toMatchObject({ file: "config/tasks.yaml", path: "tasks.marker.steps[0]" });
    expect((error as ConfigError).message).toMatch(/filter not found: nosuchfilter/);
  });
});
