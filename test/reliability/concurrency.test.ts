// Two runs at once: on the same environment exactly one runs (the other is refused by the lock,
// with exit 2 and who holds it); on different environments both run to the end.
import { mkdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { containersOfEnv, halfWrittenFiles, makeTestProject, removeOurContainers, type TestProject } from "./support/project.js";
import { startCloud, type Cloud } from "./support/cloud.js";
import { recordCount } from "./support/counts.js";

const ENVS = ["conc1", "conc2", "conc3"];
let cloud: Cloud;
let project: TestProject;
let runs = 0;

beforeAll(async () => {
  cloud = await startCloud();
  project = await makeTestProject("eksbox-concurrency-");
  for (const name of ENVS) await project.writeEnv(name, { endpointUrl: cloud.moto.url });
}, 900_000);

afterAll(async () => {
  recordCount("concurrent runs", runs);
  await removeOurContainers(ENVS);
  await cloud?.stop();
  await project?.cleanup();
});

const born = (env: string) => project.run(["born", "--env", env], { env: cloud.cliEnv(), timeoutMs: 240_000 });

it("two born on the same environment at once: exactly one runs, the other is refused by the lock", async () => {
  // The cluster step waits a little, so the winner certainly still holds the lock when the loser starts.
  await mkdir(join(project.root, ".eksbox-test"), { recursive: true });
  await writeFile(join(project.root, ".eksbox-test", "slow"), "3 create cluster\n");
  const results = await Promise.all([born("conc1"), born("conc1")]);
  runs += 2;
  const codes = results.map((r) => r.exitCode).sort();
  expect(codes, results.map((r) => r.stderr).join("\n-----\n")).toEqual([0, 2]);
  const loser = results.find((r) => r.exitCode === 2)!;
  expect(loser.stderr).toContain("environment conc1 is locked by another run: born");
  expect(loser.stderr).toMatch(/kill -INT \d+/);
  const winner = results.find((r) => r.exitCode === 0)!;
  expect(winner.stderr).toMatch(/\[cluster\] done/);
  expect(await cloud.clusters()).toContain("conc1");
  expect(existsSync(join(project.root, ".eksbox", "locks", "conc1.lock"))).toBe(false);
  expect(await containersOfEnv("conc1")).toEqual([]);
  expect(await halfWrittenFiles(project.root)).toEqual([]);
});

it("two born on different environments at once: both complete", async () => {
  const results = await Promise.all([born("conc2"), born("conc3")]);
  runs += 2;
  for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
  expect(await cloud.clusters()).toEqual(expect.arrayContaining(["conc2", "conc3"]));
  for (const env of ["conc2", "conc3"]) {
    expect(existsSync(join(project.root, ".eksbox", "locks", `${env}.lock`))).toBe(false);
    expect(await containersOfEnv(env)).toEqual([]);
  }
});
