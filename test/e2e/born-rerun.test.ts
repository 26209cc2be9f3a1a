// A rerun of born on an environment nothing changed is a no-op: the plan changes nothing. In particular
// the kubeconfig born wrote points at the endpoint describe-cluster gives (as eksctl writes it from
// EKS), so the kubeconfig step does not plan to write it again. Through the built CLI, the real
// Docker runtime, AWS CLI and kubectl, moto behind the EKS stand-in, and the eksctl/flux doubles.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, expect, it } from "vitest";
import { awsCli, FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { startMoto, type MotoServer } from "../support/moto.js";
import { bornEnvironmentYaml, makeProjectSkeleton } from "../support/project-skeleton.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";

const REGION = "eu-central-1";
const ENV = "rerun";

let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: {
      ...FAKE_AWS_ENV,
      EKSBOX_IMAGE: image,
      EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API",
      EKSBOX_TEST_KUBE_API: kube.url,
      GITHUB_TOKEN: "ghp_rerunFAKEtoken1234567890abcdefABCDEF",
      CI: "1",
    },
  });
}

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-rerun-");
  await writeFile(join(project, "config", "environments", `${ENV}.yaml`), bornEnvironmentYaml(moto.url, REGION));
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

it("born, then plan born: the kubeconfig points at the cluster's endpoint and no step would change anything", async () => {
  const born = await eksbox(["born", "--env", ENV]);
  expect(born.exitCode, born.stderr).toBe(0);

  const { cluster } = await awsCli(image, moto.url, ["--region", REGION, "eks", "describe-cluster", "--name", ENV]);
  const kubeconfig = parseYaml(await readFile(join(project, "build", ENV, "kubeconfig"), "utf8"));
  expect(kubeconfig.clusters.map((c: { cluster: { server: string } }) => c.cluster.server)).toEqual([cluster.endpoint]);

  const plan = await eksbox(["plan", "born", "--env", ENV, "--output", "json"]);
  expect(plan.exitCode, plan.stderr).toBe(0);
  const steps = (JSON.parse(plan.stdout) as { steps: { id: string; action: string; reason?: string }[] }).steps;
  expect(steps.find((step) => step.id === "kubeconfig")).toMatchObject({
    action: "skip",
    reason: `build/${ENV}/kubeconfig points at ${cluster.endpoint}`,
  });
  // Only what every run does: read-only checks of the account, and rendering build/<env>/ again.
  expect(steps.filter((step) => step.action !== "skip").map((step) => step.id)).toEqual(["preflight", "generate"]);
}, 900_000);
