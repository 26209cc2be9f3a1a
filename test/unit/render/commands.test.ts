import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateCommand } from "../../../src/commands/generate.js";
import { validateCommand, type ValidateReport } from "../../../src/commands/validate.js";
import { ConfigError, UserError } from "../../../src/core/errors.js";
import { setStoredEnv } from "../../../src/config/env-selection.js";
import { commandContext, makeProject, type Project } from "../config/project-fixture.js";

describe("eksbox generate", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(() => project.cleanup());

  it("writes the stored environment's files and prints each written file once", async () => {
    await setStoredEnv(project.root, "stg");
    const { ctx, events, output } = commandContext(project.root);
    await generateCommand(ctx, { set: ["worker.desiredCapacity=3"], offline: true });
    expect(output()).toBe("wrote build/stg/cluster.yaml\nwrote build/stg/nodegroups.yaml\n");
    // The result is on stdout; a progress event for the same files would print each one twice.
    expect(events.events).toEqual([
      { type: "log", level: "warn", message: expect.stringMatching(/^nodegroup version \d{8} assumed: --offline; it is today's date/) },
    ]);
    const nodegroups = parse(await project.read("build/stg/nodegroups.yaml")) as { nodeGroups: { desiredCapacity: number }[] };
    expect(nodegroups.nodeGroups.map((ng) => ng.desiredCapacity)).toEqual([3, 3, 3]);
  });

  it("--env beats EKSBOX_ENV and the stored one; --out changes the directory; JSON output", async () => {
    await setStoredEnv(project.root, "stg");
    const { ctx, output } = commandContext(project.root, { output: "json", processEnv: { EKSBOX_ENV: "test" } });
    await generateCommand(ctx, { env: "prod", out: "elsewhere", offline: true });
    const result = JSON.parse(output()) as { env: string; written: string[]; nodegroups: string[]; workerVersion: string };
    expect(result.env).toBe("prod");
    expect(result.written).toEqual([
      path.join(project.root, "elsewhere/cluster.yaml"),
      path.join(project.root, "elsewhere/nodegroups.yaml"),
    ]);
    expect(result.nodegroups).toEqual(["1b", "1c", "1d"].map((z) => `worker-${z}-${result.workerVersion}`));
  });

  it("offline, says which version it assumed and why: the recorded one on the second run", async () => {
    const first = commandContext(project.root, { output: "json" });
    await generateCommand(first.ctx, { env: "stg", offline: true });
    const version = (JSON.parse(first.output()) as { workerVersion: string; workerVersionFrom: string }).workerVersion;
    expect(JSON.parse(first.output())).toMatchObject({ workerVersionFrom: "new" });
    const second = commandContext(project.root, { output: "json" });
    await generateCommand(second.ctx, { env: "stg", offline: true });
    expect(JSON.parse(second.output())).toMatchObject({ workerVersion: version, workerVersionFrom: "state" });
    expect(second.events.events).toContainEqual({
      type: "log",
      level: "warn",
      message: `nodegroup version ${version} assumed: --offline; it is the version recorded in .eksbox/state/stg.json. Set worker.version in the config to pin it`,
    });
  });

  it("with node pools, says per pool which version it assumed: the recorded one for a known pool, today's for a new one", async () => {
    await project.edit("config/environments/stg.yaml", (text) => `${text}\nnodePools:\n  system: { perZone: false }\n  workers: {}\n`);
    await project.write(".eksbox/state/stg.json", `${JSON.stringify({ poolVersions: { system: "20260101" } })}\n`);
    const { ctx, events, output } = commandContext(project.root, { output: "json" });
    await generateCommand(ctx, { env: "stg", offline: true });
    const result = JSON.parse(output()) as { versions: Record<string, string>; versionsFrom: Record<string, string> };
    expect(result).toMatchObject({ workerVersionFrom: "mixed", versionsFrom: { system: "state", workers: "new" } });
    expect(result.versions.system).toBe("20260101");
    expect(result.versions.workers).toMatch(/^\d{8}$/);
    expect(result).toMatchObject({ nodegroups: expect.arrayContaining(["system-20260101", `workers-1b-${result.versions.workers}`]) });
    const warnings = events.events.filter((e) => e.type === "log").map((e) => (e as { message: string }).message);
    expect(warnings).toEqual([
      "pool system: nodegroup version 20260101 assumed: --offline; it is the version recorded in .eksbox/state/stg.json. Set nodePools.system.version in the config to pin it",
      expect.stringMatching(/^pool workers: nodegroup version \d{8} assumed: --offline; it is today's date.*nodePools\.workers\.version/),
    ]);
  });

  it("asks nothing when the config pins the version", async () => {
    const { ctx, events, output } = commandContext(project.root, { output: "json" });
    await generateCommand(ctx, { env: "stg", set: ["worker.version=v7"] });
    expect(JSON.parse(output())).toMatchObject({ workerVersion: "v7", workerVersionFrom: "config" });
    expect(events.events.filter((e) => e.type === "log")).toEqual([]);
  });

  it("with no environment chosen it says how to choose", async () => {
    await expect(generateCommand(commandContext(project.root).ctx, {})).rejects.toThrow(UserError);
  });
});

describe("eksbox validate", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(async () => {
    // Over a fleet validate sets the process's exit code, as the CLI needs; the test runner must not inherit it.
    process.exitCode = undefined;
    await project.cleanup();
  });

  const breakThree = async () => {
    await project.edit("config/environments/stg.yaml", (t) => t.replace("desiredCapacity: 2", "desiredCapacty: 2"));
    await project.edit("config/environments/test.yaml", (t) =>
      t.replace('accountId: "333333333333"', "accountId: 333333333333").replace("desiredCapacity: 1", "desiredCapacty: 1"),
    );
    await project.write("config/environments/qa.yaml", "aws: [\n");
  };

  it("--all checks every environment, prints the fleet's table, and writes nothing", async () => {
    const { ctx, output } = commandContext(project.root);
    await validateCommand(ctx, { all: true });
    expect(output().trimEnd().split("\n")).toEqual([
      "ENV    RESULT  PROBLEMS",
      "local  ok      0",
      "prod   ok      0",
      "stg    ok      0",
      "test   ok      0",
      "validate: 4 environment(s), all ok",
    ]);
    expect(process.exitCode).toBeUndefined();
    await expect(project.read(".eksbox/state/prod.json")).rejects.toThrow(/ENOENT/);
    await expect(project.read("build/prod/cluster.yaml")).rejects.toThrow(/ENOENT/);
  });

  it("over a fleet: one table with each environment's count, every problem in full (file, line, key, fix), exit 2", async () => {
    await breakThree();
    const { ctx, events, output } = commandContext(project.root);
    await validateCommand(ctx, { all: true });
    expect(process.exitCode).toBe(2);
    const lines = output().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ENV\s+RESULT\s+PROBLEMS$/);
    expect(lines.slice(1, -1).map((line) => line.split(/\s{2,}/))).toEqual([
      ["local", "ok", "0"],
      ["prod", "ok", "0"],
      ["qa", "failed (2)", "1"],
      ["stg", "failed (2)", "1"],
      ["test", "failed (2)", "2"],
    ]);
    expect(lines.at(-1)).toBe("validate: 5 environment(s), 3 not ok");
    const warnings = events.events.flatMap((e) => (e.type === "log" && e.level === "warn" ? [e.message] : []));
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/^\[qa\] error: invalid configuration:\n {2}config\/environments\/qa\.yaml:\d+:\d+: YAML syntax/);
    expect(warnings[1]).toMatch(
      /^\[stg\] error: invalid configuration:\n {2}config\/environments\/stg\.yaml:\d+:3: worker\.desiredCapacty: unknown key/,
    );
    expect(warnings[1]).toContain("did you mean `desiredCapacity`?");
    expect(warnings[2]).toMatch(/^\[test\] error: 2 problems in the configuration:/);
    expect(warnings[2]).toMatch(/config\/environments\/test\.yaml:\d+:3: aws\.accountId: must be a string/);
    expect(warnings[2]).toMatch(/config\/environments\/test\.yaml:\d+:3: worker\.desiredCapacty: unknown key/);
  });

  it("over a fleet, --output json is the fleet's shape with each environment's issues as its result", async () => {
    await breakThree();
    const { ctx, events, output } = commandContext(project.root, { output: "json" });
    await validateCommand(ctx, { env: "prod,stg" });
    expect(process.exitCode).toBe(2);
    const json = JSON.parse(output()) as {
      command: string;
      exitCode: number;
      environments: { env: string; exitCode: number; result: ValidateReport; error?: { kind: string; message: string } }[];
    };
    expect(json.command).toBe("validate");
    expect(json.exitCode).toBe(2);
    expect(json.environments.map((e) => [e.env, e.exitCode, e.result.env, e.error?.kind])).toEqual([
      ["prod", 0, "prod", undefined],
      ["stg", 2, "stg", "user"],
    ]);
    expect(json.environments[0]!.result.issues).toEqual([]);
    expect(json.environments[1]!.result.issues).toEqual([
      expect.objectContaining({ file: "config/environments/stg.yaml", line: expect.any(Number), path: "worker.desiredCapacty" }),
    ]);
    // The problems are in the JSON, not repeated as log lines.
    expect(events.events.filter((e) => e.type === "log")).toEqual([]);
  });

  it("one environment: its line on stdout and every problem in the error, as before", async () => {
    await breakThree();
    const { ctx, output } = commandContext(project.root);
    const error = (await validateCommand(ctx, { env: "test" }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.exitCode).toBe(2);
    expect(output()).toBe("test: 2 problems\n");
    expect(error.message).toMatch(/^test: 2 problems:/);
    expect(error.issues.map((i) => i.path)).toEqual(["aws.accountId", "worker.desiredCapacty"]);
    const ok = commandContext(project.root);
    await validateCommand(ok.ctx, { env: "prod" });
    expect(ok.output()).toBe("prod: ok\n");
  });

  it("one environment's JSON lists its issues; --all with --env is refused", async () => {
    const { ctx, output } = commandContext(project.root, { output: "json" });
    await validateCommand(ctx, { env: "prod", set: ["worker.desiredCapacity=99"] }).catch(() => undefined);
    const result = JSON.parse(output()) as { ok: boolean; environments: { name: string; issues: { path: string }[] }[] };
    expect(result.ok).toBe(false);
    expect(result.environments[0]!.issues.map((i) => i.path)).toEqual(["worker.desiredCapacity"]);
    await expect(validateCommand(commandContext(project.root).ctx, { env: "prod", all: true })).rejects.toThrow(/either --all or --env/);
  });
});
