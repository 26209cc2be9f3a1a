// The eksctl double's upgrade and addon commands (moto has neither: the double re-creates the
// cluster and keeps addons as cluster tags), run on the host for speed.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeApi, type KubeApi } from "../../support/kube-api.js";
import { startMoto, type MotoServer } from "../../support/moto.js";

const region = "eu-west-1";
const doubles = fileURLToPath(new URL("../../doubles/", import.meta.url));

let moto: MotoServer;
// Flux keeps its objects in the kube-apiserver stand-in, as real flux does in the cluster.
let kubeApi: KubeApi;
let workspace: string;

const config = (version: string) => `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: up, region: ${region}, version: "${version}"}
addons:
  - {name: vpc-cni, version: latest}
  - {name: coredns, version: v1.11.4-eksbuild.2}
`;

async function run(tool: "eksctl" | "flux", args: string[], env: Record<string, string> = {}) {
  return execa("python3", [join(doubles, tool), ...args], {
    cwd: workspace,
    reject: false,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: "AKIAEKSBOXTESTFAKE00",
      AWS_SECRET_ACCESS_KEY: "eksbox-test-fake-secret",
      AWS_REGION: region,
      KUBECONFIG: join(workspace, "kubeconfig"),
      EKSBOX_TEST_KUBE_API: kubeApi.url,
      ...env,
    },
  });
}

async function addons(): Promise<Record<string, [string, string]>> {
  const rows = JSON.parse((await run("eksctl", ["get", "addon", "--cluster", "up", "--region", region, "-o", "json"])).stdout);
  return Object.fromEntries(rows.map((r: any) => [r.Name, [r.Version, r.NewerVersion]]));
}

async function liveVersion(): Promise<string> {
  return JSON.parse((await run("eksctl", ["get", "cluster", "--name", "up", "--region", region, "-o", "json"])).stdout)[0].Version;
}

beforeAll(async () => {
  moto = await startMoto();
  kubeApi = await startKubeApi(moto.url, { regions: [region] });
  workspace = mkdtempSync(join(tmpdir(), "eksbox-upgrade-"));
  for (const v of ["1.32", "1.33", "1.34"]) writeFileSync(join(workspace, `cluster-${v}.yaml`), config(v));
  const created = await run("eksctl", ["create", "cluster", "-f", "cluster-1.32.yaml"]);
  if (created.exitCode !== 0) throw new Error(created.stderr);
  const flux = await run("flux", ["bootstrap", "github", "--owner", "o", "--repository", "r", "--path", "clusters/up"], {
    GITHUB_TOKEN: "ghp_fake",
  });
  if (flux.exitCode !== 0) throw new Error(flux.stderr);
});

afterAll(async () => {
  await kubeApi?.stop();
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("eksctl double: upgrade cluster and addons", () => {
  it("records the config's addons at creation", async () => {
    expect(await addons()).toEqual({
      "vpc-cni": ["v1.32.0-eksbuild.1", ""],
      coredns: ["v1.11.4-eksbuild.2", "v1.32.0-eksbuild.1"],
    });
  });

  it("refuses to skip a minor version, and changes nothing without --approve", async () => {
    const jump = await run("eksctl", ["upgrade", "cluster", "-f", "cluster-1.34.yaml", "--approve"]);
    expect(jump.exitCode).toBe(1);
    expect(jump.stderr).toContain('Please upgrade to "1.33" instead');
    const plan = await run("eksctl", ["upgrade", "cluster", "-f", "cluster-1.33.yaml"]);
    expect(plan.exitCode).toBe(0);
    expect(await liveVersion()).toBe("1.32");
  });

  it("upgrades one minor version, keeping the addons (cluster tags) and Flux (in the cluster)", async () => {
    const upgraded = await run("eksctl", ["upgrade", "cluster", "-f", "cluster-1.33.yaml", "--approve"]);
    expect(upgraded.exitCode, upgraded.stderr).toBe(0);
    expect(await liveVersion()).toBe("1.33");
    expect((await run("flux", ["get", "sources", "git", "flux-system", "-n", "flux-system"])).exitCode).toBe(0);
    expect((await addons())["vpc-cni"]).toEqual(["v1.32.0-eksbuild.1", "v1.33.0-eksbuild.1"]);
    const again = await run("eksctl", ["upgrade", "cluster", "-f", "cluster-1.33.yaml", "--approve"]);
    expect(again.stderr).toContain("no cluster version update required");
  });

  it("updates the addons to the new version's latest", async () => {
    const updated = await run("eksctl", ["update", "addon", "-f", "cluster-1.33.yaml"]);
    expect(updated.exitCode, updated.stderr).toBe(0);
    expect((await addons())["vpc-cni"]).toEqual(["v1.33.0-eksbuild.1", ""]);
  });
});
