// Two project directories standing for two machines (a laptop and a CI runner) acting on one
// cluster: what one must know about the other comes from the environment's AWS account (moto here,
// asked with the real aws CLI), never from the other's .eksbox/. The built CLI, the real runtime,
// the test toolbox image (real aws and kubectl, eksctl/flux doubles) as everywhere in test/e2e.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../support/aws-cli.js";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { filesUnder, makeTestProject, removeOurContainers, type CliResult, type TestProject } from "../reliability/support/project.js";
import { actWhen, slowDown } from "../chaos/support.js";

const ENV = "shared";
let cloud: Cloud;
let a: TestProject;
let b: TestProject;
const projects: TestProject[] = [];

async function machine(name: string): Promise<TestProject> {
  const project = await makeTestProject(`eksbox-machine-${name}-`);
  await project.writeEnv(ENV, { endpointUrl: cloud.moto.url });
  projects.push(project);
  return project;
}

const run = (project: TestProject, args: string[], extra: Record<string, string> = {}) =>
  project.run([...args, "--env", ENV], { env: cloud.cliEnv(extra), timeoutMs: 300_000 });

const runIdOf = (result: CliResult) => /run (\S+): /.exec(result.stderr)?.[1];

async function nodegroupStacks(): Promise<string[]> {
  const out = await awsCli(cloud.image, cloud.moto.url, [
    "--region",
    "us-east-1",
    "cloudformation",
    "list-stacks",
    "--stack-status-filter",
    "CREATE_COMPLETE",
  ]);
  return (out?.StackSummaries ?? [])
    .map((s: { StackName: string }) => s.StackName)
    .filter((s: string) => s.startsWith(`eksctl-${ENV}-nodegroup-`))
    .sort();
}

async function doubleMutations(project: TestProject): Promise<string[]> {
  const path = join(project.root, ".eksbox-test", "argv.log");
  if (!existsSync(path)) return [];
  const lines = (await readFile(path, "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l).argv as string[]).join(" "));
  return lines.filter((l) => /eksctl (create|delete|upgrade)|flux bootstrap/.test(l));
}

beforeAll(async () => {
  cloud = await startCloud();
  a = await machine("a");
  b = await machine("b");
}, 900_000);

afterAll(async () => {
  await removeOurContainers([ENV]);
  await cloud?.stop();
  await Promise.all(projects.map((p) => p.cleanup()));
});

// Each case runs several whole CLI runs against the emulator: minutes on a loaded 2-core machine.
describe("two machines, one cluster", { timeout: 900_000 }, () => {
  it("born from both at once: exactly one runs, the other exits 2 naming the holder's host and run id, having created nothing", async () => {
    // Hold the winner in its cluster step, so the loser certainly finds the lock taken.
    for (const project of [a, b]) await slowDown(project, 5, "create cluster");
    const [ra, rb] = await Promise.all([run(a, ["born"]), run(b, ["born"])]);
    expect([ra.exitCode, rb.exitCode].sort(), `${ra.stderr}\n-----\n${rb.stderr}`).toEqual([0, 2]);
    const [winner, loser, loserDir] = ra.exitCode === 0 ? [ra, rb, b] : [rb, ra, a];
    const holder = runIdOf(winner)!;
    expect(loser.stderr).toContain(`environment ${ENV} is locked by another run: born (run ${holder}), pid`);
    expect(loser.stderr).toContain(`on ${hostname()}`);
    expect(await doubleMutations(loserDir)).toEqual([]);
    expect(await filesUnder(join(loserDir.root, "build"))).toEqual([]);
    expect(await cloud.clusters()).toEqual([ENV]);
    expect(await cloud.lockItem(ENV)).toBeNull();

    // The loser's machine knows the last run all the same.
    const status = await run(loserDir, ["status", "--output", "json"]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout).lastRun).toMatchObject({
      runId: holder,
      task: "born",
      status: "done",
      host: hostname(),
      command: `eksbox born --env ${ENV}`,
    });

    // born on the second machine only brings it up to date (its kubeconfig): it creates nothing.
    const caughtUp = await run(loserDir, ["born"]);
    expect(caughtUp.exitCode, caughtUp.stderr).toBe(0);
    expect(await doubleMutations(loserDir)).toEqual([]);
  });

  it("a roll interrupted in A during create-new is finished from B toward the same target", async () => {
    await slowDown(a, 60, "create nodegroup");
    const child = a.spawn(["nodegroup", "roll", "--to-version", "20991231", "--yes", "--env", ENV], {
      env: cloud.cliEnv(),
      timeoutMs: 300_000,
    });
    const stopped = await actWhen(child, /injected delay/, () => void process.kill(child.pid!, "SIGINT"));
    expect(stopped.acted, stopped.stderr).toBe(true);
    expect(stopped.exitCode, stopped.stderr).toBe(130);
    expect(await cloud.lockItem(ENV)).toBeNull();

    // B has no --to-version, no .eksbox/state of the roll, and another "today": the cluster says where the roll goes.
    const finished = await run(b, ["nodegroup", "roll", "--yes"]);
    expect(finished.exitCode, finished.stderr).toBe(0);
    expect(await nodegroupStacks()).toEqual([`eksctl-${ENV}-nodegroup-worker-1a-20991231`]);
  });

  it("a roll interrupted in A during delete-old is finished from B toward the same target, even an older one", async () => {
    // The target sorts before the live version: only the tag, not "the newer of two versions", leads B to it.
    await slowDown(a, 60, "delete nodegroup");
    const child = a.spawn(["nodegroup", "roll", "--to-version", "20300101", "--yes", "--env", ENV], {
      env: cloud.cliEnv(),
      timeoutMs: 300_000,
    });
    const stopped = await actWhen(child, /injected delay/, () => void process.kill(child.pid!, "SIGINT"));
    expect(stopped.acted, stopped.stderr).toBe(true);
    expect(stopped.exitCode, stopped.stderr).toBe(130);
    expect(await nodegroupStacks()).toEqual([`eksctl-${ENV}-nodegroup-worker-1a-20300101`, `eksctl-${ENV}-nodegroup-worker-1a-20991231`]);

    const finished = await run(b, ["nodegroup", "roll", "--yes"]);
    expect(finished.exitCode, finished.stderr).toBe(0);
    expect(await nodegroupStacks()).toEqual([`eksctl-${ENV}-nodegroup-worker-1a-20300101`]);
  });

  it("a fresh directory with no .eksbox/ generates byte-identical files; offline it says what it assumed", async () => {
    const fresh = await machine("fresh");
    const generated = await run(fresh, ["generate"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    for (const file of ["cluster.yaml", "nodegroups.yaml"]) {
      // B wrote its files in the roll it finished.
      expect(await readFile(join(fresh.root, "build", ENV, file), "utf8")).toBe(await readFile(join(b.root, "build", ENV, file), "utf8"));
    }
    expect(await readFile(join(fresh.root, "build", ENV, "nodegroups.yaml"), "utf8")).toContain("worker-1a-20300101");

    const offline = await machine("offline");
    const assumed = await run(offline, ["generate", "--offline"]);
    expect(assumed.exitCode, assumed.stderr).toBe(0);
    expect(assumed.stderr).toMatch(/nodegroup version \d{8} assumed: --offline; it is today's date/);
  });

  it("kill -9 of the holder: refused while its heartbeat is fresh, unlock with a wrong run id refused, taken over once expired", async () => {
    await slowDown(a, 120, "create nodegroup");
    const child = a.spawn(["nodegroup", "roll", "--to-version", "20400101", "--yes", "--env", ENV], {
      env: cloud.cliEnv(),
      timeoutMs: 300_000,
    });
    const killed = await actWhen(child, /injected delay/, () => void process.kill(child.pid!, "SIGKILL"));
    expect(killed.acted, killed.stderr).toBe(true);
    expect(killed.signal).toBe("SIGKILL");
    const holder = runIdOf(killed)!;
    expect((await cloud.lockItem(ENV))?.runId?.S).toBe(holder);

    const refused = await run(b, ["nodegroup", "roll", "--yes"]);
    expect(refused.exitCode, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`locked by another run: nodegroup roll (run ${holder})`);
    expect(refused.stderr).toContain(`eksbox unlock --env ${ENV} ${holder}`);

    const wrong = await run(b, ["unlock", "20260101T000000Z-abcdef"]);
    expect(wrong.exitCode, wrong.stderr).toBe(2);
    expect(wrong.stderr).toContain(`refusing to unlock: run 20260101T000000Z-abcdef does not hold the lock of environment ${ENV}`);
    expect((await cloud.lockItem(ENV))?.runId?.S).toBe(holder);

    const status = await run(b, ["status", "--output", "json"]);
    expect(JSON.parse(status.stdout).lock).toMatchObject({ runId: holder, task: "nodegroup roll", host: hostname() });

    // An expiry shorter than the time since the dead holder's last heartbeat.
    const taken = await run(b, ["nodegroup", "roll", "--yes"], { EKSBOX_LOCK_EXPIRY_SECONDS: "1" });
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(taken.stderr).toContain(`took over the lock of run ${holder} (nodegroup roll`);
    expect(await nodegroupStacks()).toEqual([`eksctl-${ENV}-nodegroup-worker-1a-20400101`]);
    expect(await cloud.lockItem(ENV)).toBeNull();
  });

  it("unlock with the holder's run id releases it", async () => {
    const dead = "20260101T000000Z-dead01";
    const item = {
      LockID: { S: `eks/us-east-1/${ENV}` },
      runId: { S: dead },
      host: { S: "elsewhere" },
      pid: { N: "4242" },
      user: { S: "ci" },
      task: { S: "born" },
      command: { S: `eksbox born --env ${ENV}` },
      startedAt: { S: new Date().toISOString() },
      heartbeatAt: { S: new Date().toISOString() },
      Heartbeat: { N: String(Math.floor(Date.now() / 1000)) },
    };
    await awsCli(cloud.image, cloud.moto.url, [
      "--region",
      "us-east-1",
      "dynamodb",
      "put-item",
      "--table-name",
      "eksbox-state",
      "--item",
      JSON.stringify(item),
    ]);
    const refused = await run(a, ["born"]);
    expect(refused.exitCode, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`(run ${dead}), pid 4242 on elsewhere (user ci)`);

    const unlocked = await run(a, ["unlock", dead]);
    expect(unlocked.exitCode, unlocked.stderr).toBe(0);
    expect(unlocked.stdout).toContain(`released the lock of environment ${ENV} held by born (run ${dead})`);
    expect(await cloud.lockItem(ENV)).toBeNull();
    const born = await run(a, ["born"]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect(born.stderr).not.toContain("took over");
  });
});
