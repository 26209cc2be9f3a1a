import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateCommand } from "../../../src/commands/generate.js";
import { validateCommand } from "../../../src/commands/validate.js";
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
  afterEach(() => project.cleanup());

  it("--all checks every environment and writes nothing", async () => {
    const { ctx, output } = commandContext(project.root);
    await validateCommand(ctx, { all: true });
    expect(output()).toBe("local: ok\nprod: ok\nstg: ok\ntest: ok\n");
    await expect(project.read(".eksbox/state/prod.json")).rejects.toThrow(/ENOENT/);
    await expect(project.read("build/prod/cluster.yaml")).rejects.toThrow(/ENOENT/);
  });

  it("reports the problems of every environment at once", async () => {
    await project.edit("config/environments/stg.yaml", (t) => t.replace("desiredCapacity: 2", "desiredCapacty: 2"));
    await project.edit("config/environments/test.yaml", (t) => t.replace('accountId: "333333333333"', "accountId: 333333333333"));
    await project.write("config/environments/qa.yaml", "aws: [\n");
    const { ctx, output } = commandContext(project.root);
    const error = (await validateCommand(ctx, { all: true }).catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(output()).toBe("local: ok\nprod: ok\nqa: 1 problem\nstg: 1 problem\ntest: 1 problem\n");
    expect(error.issues.map((i) => [i.file, i.path])).toEqual([
      ["config/environments/qa.yaml", undefined],
      ["config/environments/stg.yaml", "worker.desiredCapacty"],
      ["config/environments/test.yaml", "aws.accountId"],
    ]);
    expect(error.message).toContain("[stg] unknown key");
    expect(error.message).toContain("did you mean `desiredCapacity`?");
  });

  it("JSON output lists issues per environment; --all with --env is refused", async () => {
    const { ctx, output } = commandContext(project.root, { output: "json" });
    await validateCommand(ctx, { env: "prod", set: ["worker.desiredCapacity=99"] }).catch(() => undefined);
    const result = JSON.parse(output()) as { ok: boolean; environments: { name: string; issues: { path: string }[] }[] };
    expect(result.ok).toBe(false);
    expect(result.environments[0]!.issues.map((i) => i.path)).toEqual(["worker.desiredCapacity"]);
    await expect(validateCommand(commandContext(project.root).ctx, { env: "prod", all: true })).rejects.toThrow(/either --all or --env/);
  });
});
