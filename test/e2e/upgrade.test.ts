// eksbox upgrade end to end against the local emulator: born on 1.33, then upgrade to 1.35 in two
// hops (control plane, addons, nodegroup roll), asserting moto's state through the real AWS CLI.
// eksctl is the test double (it re-creates the moto cluster at the next minor version, since moto
// has no UpdateClusterVersion); aws and kubectl are real.
import { readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { makeProjectSkeleton } from "../support/project-skeleton.js";

const REGION = "us-east-1";
let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-upgrade-");
  await writeFile(
    join(project, "config", "environments", "up.yaml"),
    `aws:
  region: ${REGION}
  accountId: "123456789012"
  endpointUrl: ${moto.url}
cluster:
  version: "1.33"
worker:
  zones: [us-east-1a, us-east-1b]
  instanceTypes: [m5.large]
  spot: { enabled: false }
  minSize: 1
  maxSize: 2
  desiredCapacity: 1
`,
  );
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API", EKSBOX_TEST_KUBE_API: kube.url, CI: "1" },
  });
}

const aws = (args: string[]) => awsCli(image, moto.url, ["--region", REGION, ...args]);

async function nodegroupStacks(): Promise<string[]> {
  const out = await aws(["cloudformation", "list-stacks", "--stack-status-filter", "CREATE_COMPLETE", "UPDATE_COMPLETE"]);
  return (out?.StackSummaries ?? [])
    .map((s: { StackName: string }) => s.StackName)
    .filter((n: string) => n.startsWith("eksctl-up-nodegroup-"))
    .sort();
}

it("upgrade moves the control plane one minor at a time, updates addons, rolls the nodegroups, and a rerun does nothing", async () => {
  const born = await eksbox(["born", "--env", "up", "--set", "worker.version=old1"]);
  expect(born.exitCode, born.stderr).toBe(0);
  expect((await aws(["eks", "describe-cluster", "--name", "up"])).cluster.version).toBe("1.33");
  expect(await nodegroupStacks()).toEqual(["eksctl-up-nodegroup-worker-1a-old1", "eksctl-up-nodegroup-worker-1b-old1"]);

  const refused = await eksbox(["upgrade", "--env", "up", "--to", "1.35"]);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toContain("pass --yes");
  expect(refused.stdout).toMatch(/control-plane\s+run/);

  const upgraded = await eksbox(["upgrade", "--env", "up", "--to", "1.35", "--yes"]);
  expect(upgraded.exitCode, upgraded.stderr).toBe(0);
  const log = (await readFile(join(project, ".eksbox-test", "argv.log"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).argv.join(" "));
  const hops = log.filter((l) => l.includes("upgrade cluster"));
  expect(hops.map((l) => /cluster-(1\.\d+)\.yaml/.exec(l)?.[1])).toEqual(["1.34", "1.35"]);
  expect((await aws(["eks", "describe-cluster", "--name", "up"])).cluster.version).toBe("1.35");
  const stacks = await nodegroupStacks();
  expect(stacks).toHaveLength(2);
  expect(stacks.some((s) => s.endsWith("-old1"))).toBe(false);
  // The config is not rewritten; eksbox says which line to change.
  expect(await readFile(join(project, "config", "environments", "up.yaml"), "utf8")).toContain('version: "1.33"');
  expect(upgraded.stderr + upgraded.stdout).toMatch(/config\/environments\/up\.yaml:\d+: change cluster\.version from "1\.33" to "1\.35"/);

  const again = await eksbox(["upgrade", "--env", "up", "--to", "1.35", "--yes"]);
  expect(again.exitCode, again.stderr).toBe(0);
  const after = (await readFile(join(project, ".eksbox-test", "argv.log"), "utf8")).split("\n").filter(Boolean).length;
  const mutationsAfter = (await readFile(join(project, ".eksbox-test", "argv.log"), "utf8"))
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).argv.join(" "))
    .filter((l) => /eksctl (upgrade|create|delete|update)/.test(l));
  expect(mutationsAfter.length).toBe(log.filter((l) => /eksctl (upgrade|create|delete|update)/.test(l)).length);
  expect(after).toBeGreaterThan(0);
  expect(existsSync(join(project, ".eksbox", "runs"))).toBe(true);
}, 600_000);
