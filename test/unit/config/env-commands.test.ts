import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envGetCommand, envListCommand, envSetCommand } from "../../../src/commands/env.js";
import { commandContext, makeProject, type Project } from "./project-fixture.js";

describe("eksbox env list|set|get", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject({ templates: false });
  });
  afterEach(() => project.cleanup());

  it("set stores the choice, list marks it, get says where it came from", async () => {
    const set = commandContext(project.root);
    await envSetCommand(set.ctx, { name: "stg" });
    expect(set.output()).toBe("environment set to stg (in .eksbox/env)\n");

    const list = commandContext(project.root);
    await envListCommand(list.ctx);
    expect(list.output()).toBe("  local\n  prod\n* stg\n  test\n");

    const get = commandContext(project.root);
    await envGetCommand(get.ctx, {});
    expect(get.output()).toBe("stg (from .eksbox/env)\n");

    const flag = commandContext(project.root, { processEnv: { EKSBOX_ENV: "test" } });
    await envGetCommand(flag.ctx, { env: "prod" });
    expect(flag.output()).toBe("prod (from --env)\n");
  });

  it("get refuses an environment that does not exist, listing those that do", async () => {
    const get = commandContext(project.root, { processEnv: { EKSBOX_ENV: "nope" } });
    await expect(envGetCommand(get.ctx, {})).rejects.toMatchObject({
      message: "environment nope (from EKSBOX_ENV) does not exist",
      hint: expect.stringContaining("local, prod, stg, test"),
    });
  });

  it("JSON output", async () => {
    const list = commandContext(project.root, { output: "json", processEnv: { EKSBOX_ENV: "prod" } });
    await envListCommand(list.ctx);
    const listed = JSON.parse(list.output()) as { environments: string[]; current: string; details: unknown[] };
    expect(listed).toMatchObject({ environments: ["local", "prod", "stg", "test"], current: "prod" });
    // What a CI matrix needs (eksbox ci github), per environment.
    expect(listed.details[1]).toEqual({
      name: "prod",
      region: "ap-northeast-1",
      accountId: "111111111111",
      protected: true,
      assumeRole: null,
    });
    expect(listed.details.map((d) => (d as { name: string }).name)).toEqual(listed.environments);
    const get = commandContext(project.root, { output: "json", processEnv: { EKSBOX_ENV: "prod" } });
    await envGetCommand(get.ctx, {});
    expect(JSON.parse(get.output())).toEqual({ env: "prod", source: "EKSBOX_ENV" });
  });

  it("set warns when EKSBOX_ENV will win over the stored choice, and refuses unknown names", async () => {
    const set = commandContext(project.root, { processEnv: { EKSBOX_ENV: "prod" } });
    await envSetCommand(set.ctx, { name: "test" });
    expect(set.output()).toContain("note: EKSBOX_ENV=prod is set in this shell and wins over it");
    await expect(envSetCommand(commandContext(project.root).ctx, { name: "nope" })).rejects.toThrow(/unknown environment "nope"/);
  });
});
