// A config that drops gitops while the cluster still runs Flux, end to end (set up as
// converge.test.ts is): born bootstraps Flux, the gitops section goes, diff reports the live Flux as
// extra (exit 2), born keeps it, born --prune refuses without --yes, born --prune --yes runs the flux
// double's `flux uninstall --silent`, and the real kubectl then finds no Flux: diff is clean.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { startMoto, type MotoServer } from "../support/moto.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { bornEnvironmentYaml, makeProjectSkeleton } from "../support/project-skeleton.js";

const REGION = "us-east-1";
const ENV = "gx";

let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;
let config: any;

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: {
      ...FAKE_AWS_ENV,
      EKSBOX_IMAGE: image,
      EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API",
      EKSBOX_TEST_KUBE_API: kube.url,
      GITHUB_TOKEN: "ghp_gitopsExtraFAKEtoken1234567890abcdAB",
      CI: "1",
    },
    extendEnv: true,
  });
}

async function writeConfig(): Promise<void> {
  await writeFile(join(project, "config", "environments", `${ENV}.yaml`), stringify(config));
}

/** The HTTP status of Flux's GitRepository and Kustomization flux-system on the cluster's API server, through the kubeconfig. */
async function fluxObjectStatuses(): Promise<number[]> {
  const kubeconfig = parse(await readFile(join(project, "build", ENV, "kubeconfig"), "utf8"));
  const server = kubeconfig.clusters[0].cluster.server as string;
  expect(server.startsWith(kube.url)).toBe(true);
  const collections = [
    "source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories",
    "kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations",
  ];
  return Promise.all(collections.map(async (c) => (await fetch(`${server}/apis/${c}/flux-system`)).status));
}

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-gitops-extra-");
  config = parse(bornEnvironmentYaml(moto.url, REGION));
  await writeConfig();
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

describe("gitops dropped from the config while Flux runs", { timeout: 900_000 }, () => {
  it("born bootstraps Flux; with gitops gone diff reports it as extra and born keeps it", async () => {
    const born = await eksbox(["born", "--env", ENV]);
    expect(born.exitCode, born.stderr).toBe(0);
    expect(await fluxObjectStatuses()).toEqual([200, 200]);
    delete config.gitops;
    await writeConfig();
    const drift = await eksbox(["diff", "--env", ENV, "--exit-code"]);
    expect(drift.exitCode, drift.stderr + drift.stdout).toBe(2);
    expect(drift.stdout).toContain("gitops: - gitops flux-system (extra, destructive): Flux runs but the config has no gitops");
    expect(drift.stdout).toContain("1 difference(s)");
    const kept = await eksbox(["born", "--env", ENV]);
    expect(kept.exitCode, kept.stderr).toBe(0);
    expect(kept.stderr).toMatch(/\[gitops\] skipped/);
    expect(await fluxObjectStatuses()).toEqual([200, 200]);
  });

  it("born --prune refuses without --yes; with --yes flux uninstall removes it and diff is clean", async () => {
    const unconfirmed = await eksbox(["born", "--env", ENV, "--prune"]);
    expect(unconfirmed.exitCode).not.toBe(0);
    // born plans first and asks before any step runs (no terminal here, so it needs --yes).
    expect(unconfirmed.stderr).toMatch(/no terminal to ask on.*gitops flux-system.*pass --yes: eksbox born --env gx --prune --yes/s);
    expect(await fluxObjectStatuses()).toEqual([200, 200]);
    const plan = await eksbox(["plan", "born", "--env", ENV, "--prune", "--output", "json"]);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const gitops = (JSON.parse(plan.stdout) as { steps: { id: string; commands?: string[][] }[] }).steps.find((s) => s.id === "gitops")!;
    expect(JSON.stringify(gitops)).toContain(JSON.stringify(["flux", "uninstall", "--silent", `--kubeconfig=build/${ENV}/kubeconfig`]));
    const pruned = await eksbox(["born", "--env", ENV, "--prune", "--yes"]);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.stderr).toMatch(/\[gitops\] done/);
    expect(await fluxObjectStatuses()).toEqual([404, 404]);
    const clean = await eksbox(["diff", "--env", ENV, "--exit-code"]);
    expect(clean.exitCode, clean.stderr + clean.stdout).toBe(0);
  });
});
