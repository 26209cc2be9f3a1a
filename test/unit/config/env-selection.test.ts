import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.js";
import { getStoredEnv, resolveEnvName, resolveEnvSelection, setStoredEnv } from "../../../src/config/env-selection.js";
import { makeProject, type Project } from "./project-fixture.js";

describe("choosing the environment", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject({ templates: false });
  });
  afterEach(() => project.cleanup());

  it("--env beats EKSBOX_ENV, which beats the stored one", async () => {
    await setStoredEnv(project.root, "stg");
    expect(await getStoredEnv(project.root)).toBe("stg");
    expect(await project.read(".eksbox/env")).toBe("stg\n");
    const processEnv = { EKSBOX_ENV: "test" };
    expect(await resolveEnvSelection(project.root, { flag: "prod", processEnv })).toEqual({ name: "prod", source: "flag" });
    expect(await resolveEnvSelection(project.root, { processEnv })).toEqual({ name: "test", source: "EKSBOX_ENV" });
    expect(await resolveEnvSelection(project.root, { processEnv: {} })).toEqual({ name: "stg", source: "stored" });
  });

  it("never reads the bare ENV variable", async () => {
    const error = await resolveEnvName(project.root, { processEnv: { ENV: "prod" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
  });

  it("with nothing chosen, lists the environments and how to choose", async () => {
    const error = (await resolveEnvName(project.root, { processEnv: {} }).catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.message).toBe("no environment chosen. Environments: local, prod, stg, test.");
    expect(error.hint).toMatch(/eksbox env set <name>.*--env <name>.*EKSBOX_ENV=<name>/);
  });

  it("refuses to store an environment that does not exist, listing those that do", async () => {
    await expect(setStoredEnv(project.root, "qa")).rejects.toThrow(/unknown environment "qa": environments: local, prod, stg, test/);
    await expect(setStoredEnv(project.root, "../prod")).rejects.toThrow(/invalid environment name/);
    expect(await getStoredEnv(project.root)).toBeUndefined();
  });

  it("refuses a path-like name from EKSBOX_ENV, saying where it came from", async () => {
    await expect(resolveEnvName(project.root, { processEnv: { EKSBOX_ENV: "a/b" } })).rejects.toThrow(
      /invalid environment name "a\/b".*\(from EKSBOX_ENV\)/,
    );
  });
});
