import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadEnvironment } from "../../../src/config/load.js";
import { resolveWorkerVersion } from "../../../src/config/worker-version.js";
import { recordWorkerVersion } from "../../../src/core/state.js";
import { makeProject, type Project } from "./project-fixture.js";

describe("the worker version", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject({ templates: false });
  });
  afterEach(() => project.cleanup());

  it("is today's UTC date the first time, recorded so the next run gives the same", async () => {
    const env = await loadEnvironment(project.root, "prod");
    const first = await resolveWorkerVersion(project.root, env, { now: new Date("2026-11-25T23:30:00-05:00") });
    expect(first).toEqual({ version: "20261126", source: "new" });
    expect(JSON.parse(await project.read(".eksbox/state/prod.json"))).toEqual({ workerVersion: "20261126" });
    const later = await resolveWorkerVersion(project.root, env, { now: new Date("2027-01-01T00:00:00Z") });
    expect(later).toEqual({ version: "20261126", source: "state" });
  });

  it("comes from config (or --set) before the recorded one", async () => {
    await recordWorkerVersion(project.root, "prod", "20260101");
    const env = await loadEnvironment(project.root, "prod", { sets: ["worker.version=v2"] });
    expect(await resolveWorkerVersion(project.root, env)).toEqual({ version: "v2", source: "config" });
  });

  it("recording keeps the other keys of the state file", async () => {
    await project.write(".eksbox/state/prod.json", JSON.stringify({ rollTarget: "x", workerVersion: "1" }));
    await recordWorkerVersion(project.root, "prod", "20261125");
    expect(JSON.parse(await project.read(".eksbox/state/prod.json"))).toEqual({ rollTarget: "x", workerVersion: "20261125" });
  });

  it("record: false leaves no state behind", async () => {
    const env = await loadEnvironment(project.root, "stg");
    expect((await resolveWorkerVersion(project.root, env, { record: false, now: new Date("2026-11-25T00:00:00Z") })).version).toBe(
      "20261125",
    );
    await expect(project.read(".eksbox/state/stg.json")).rejects.toThrow(/ENOENT/);
  });

  it("refuses a corrupt state file and a bad version", async () => {
    await project.write(".eksbox/state/prod.json", "{not json");
    const env = await loadEnvironment(project.root, "prod");
    await expect(resolveWorkerVersion(project.root, env)).rejects.toThrow(/prod.json is not a JSON object/);
    await expect(recordWorkerVersion(project.root, "stg", "Bad Version")).rejects.toThrow(/invalid worker version/);
  });
});
