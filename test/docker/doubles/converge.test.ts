// The eksctl double's in-place update commands and the Auto Scaling group it makes per self-managed
// nodegroup, run on the host for speed. Each check reads moto directly with one botocore call (the
// API the real AWS CLI calls), not through the double's own read-back code.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMoto, type MotoServer } from "../../support/moto.js";

const region = "eu-west-1";
const doubles = fileURLToPath(new URL("../../doubles/", import.meta.url));
let moto: MotoServer;
let workspace: string;

const env = () => ({
  PATH: process.env.PATH ?? "",
  AWS_ENDPOINT_URL: moto.url,
  AWS_ACCESS_KEY_ID: "AKIAEKSBOXTESTFAKE00",
  AWS_SECRET_ACCESS_KEY: "eksbox-test-fake-secret",
  AWS_REGION: region,
  KUBECONFIG: join(workspace, "kubeconfig"),
});

const eksctl = (args: string[]) => execa("python3", [join(doubles, "eksctl"), ...args], { cwd: workspace, reject: false, env: env() });

/** One botocore call against moto, as the AWS CLI would make it. */
async function motoCall(service: string, operation: string, params: Record<string, unknown> = {}): Promise<any> {
  const script = `import botocore.session, json, os, sys
c = botocore.session.get_session().create_client(sys.argv[1], region_name="${region}", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(json.dumps(getattr(c, sys.argv[2])(**json.loads(sys.argv[3])), default=str))`;
  const result = await execa("python3", ["-c", script, service, operation, JSON.stringify(params)], { env: env(), reject: false });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

const files = {
  "cluster.yaml": `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: cv, region: ${region}, version: "1.34"}
cloudWatch: {clusterLogging: {enableTypes: [api, audit], logRetentionInDays: 7}}
vpc: {clusterEndpoints: {privateAccess: true, publicAccess: true}}
`,
  "nodegroups.yaml": `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: cv, region: ${region}}
nodeGroups:
  - name: ng-a
    minSize: 1
    maxSize: 3
    desiredCapacity: 1
    availabilityZones: [${region}a]
    tags: {eksbox.io/spec-hash: abc123}
    instancesDistribution: {instanceTypes: [m5.large, c5.large], onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: lowest-price}
managedNodeGroups:
  - name: mng-a
    minSize: 1
    maxSize: 3
    desiredCapacity: 1
    availabilityZones: [${region}a]
    labels: {role: worker}
`,
};

async function asg() {
  const out = await motoCall("autoscaling", "describe_auto_scaling_groups", {
    Filters: [{ Name: "tag:alpha.eksctl.io/cluster-name", Values: ["cv"] }],
  });
  return out.AutoScalingGroups;
}

beforeAll(async () => {
  moto = await startMoto();
  workspace = mkdtempSync(join(tmpdir(), "eksbox-doubles-converge-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(workspace, name), text);
  for (const args of [
    ["create", "cluster", "-f", "cluster.yaml", "--kubeconfig", "kubeconfig"],
    ["create", "nodegroup", "-f", "nodegroups.yaml"],
  ]) {
    const result = await eksctl(args);
    if (result.exitCode !== 0) throw new Error(result.stderr);
  }
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("eksctl double: what converge changes in place", () => {
  it("a self-managed nodegroup is a launch template and an ASG with eksctl's tags and the nodegroup's own", async () => {
    const groups = await asg();
    expect(groups).toHaveLength(1);
    const tags = Object.fromEntries(groups[0].Tags.map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
    expect(tags).toMatchObject({
      "alpha.eksctl.io/cluster-name": "cv",
      "alpha.eksctl.io/nodegroup-name": "ng-a",
      "eksbox.io/spec-hash": "abc123",
    });
    expect(groups[0]).toMatchObject({ MinSize: 1, MaxSize: 3, DesiredCapacity: 1 });
    expect(groups[0].MixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType)).toEqual([
      "m5.large",
      "c5.large",
    ]);
    const templates = await motoCall("ec2", "describe_launch_templates", { LaunchTemplateNames: ["eksctl-cv-nodegroup-ng-a"] });
    expect(templates.LaunchTemplates).toHaveLength(1);
  });

  it("scale nodegroup changes the ASG, or EKS's scaling config for a managed one; get nodegroup reads them back", async () => {
    expect(
      (await eksctl(["scale", "nodegroup", "--cluster", "cv", "--region", region, "--name", "ng-a", "--nodes-min=2", "--nodes-max=5"]))
        .exitCode,
    ).toBe(0);
    expect((await asg())[0]).toMatchObject({ MinSize: 2, MaxSize: 5, DesiredCapacity: 2 });
    expect((await eksctl(["scale", "nodegroup", "--cluster", "cv", "--name", "mng-a", "-M", "4"])).exitCode).toBe(0);
    expect(
      (await motoCall("eks", "describe_nodegroup", { clusterName: "cv", nodegroupName: "mng-a" })).nodegroup.scalingConfig,
    ).toMatchObject({ maxSize: 4 });
    const rows = JSON.parse((await eksctl(["get", "nodegroup", "--cluster", "cv", "--region", region, "-o", "json"])).stdout);
    expect(rows.map((r: { Name: string; MaxSize: number }) => [r.Name, r.MaxSize])).toEqual([
      ["ng-a", 5],
      ["mng-a", 4],
    ]);
    const bad = await eksctl(["scale", "nodegroup", "--cluster", "cv", "--name", "ng-a", "--nodes-min=6"]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/cannot be greater than maximum/);
  });

  it("update-cluster-logging sets exactly the types; without --approve it only plans", async () => {
    const planned = await eksctl(["utils", "update-cluster-logging", "--cluster", "cv", "--enable-types=api", "--disable-types=audit"]);
    expect(planned.exitCode).toBe(0);
    expect(planned.stderr).toContain("no changes were applied");
    const enabled = async () =>
      (await motoCall("eks", "describe_cluster", { name: "cv" })).cluster.logging.clusterLogging
        .filter((l: { enabled: boolean }) => l.enabled)
        .flatMap((l: { types: string[] }) => l.types);
    expect(await enabled()).toEqual(["api", "audit"]);
    expect(
      (await eksctl(["utils", "update-cluster-logging", "--cluster", "cv", "--enable-types=api", "--disable-types=audit", "--approve"]))
        .exitCode,
    ).toBe(0);
    expect(await enabled()).toEqual(["api"]);
    const both = await eksctl([
      "utils",
      "update-cluster-logging",
      "--cluster",
      "cv",
      "--enable-types=api",
      "--disable-types=api",
      "--approve",
    ]);
    expect(both.stderr).toMatch(/cannot be part of --enable-types and --disable-types/);
    const groups = (await motoCall("logs", "describe_log_groups", { logGroupNamePrefix: "/aws/eks/cv/cluster" })).logGroups;
    expect(groups[0].retentionInDays).toBe(7);
  });

  it("update-cluster-vpc-config changes the CIDRs and keeps the subnets", async () => {
    const before = (await motoCall("eks", "describe_cluster", { name: "cv" })).cluster.resourcesVpcConfig;
    const result = await eksctl([
      "utils",
      "update-cluster-vpc-config",
      "--cluster",
      "cv",
      "--region",
      region,
      "--private-access=false",
      "--public-access=true",
      "--public-access-cidrs=203.0.113.0/24",
      "--approve",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    const after = (await motoCall("eks", "describe_cluster", { name: "cv" })).cluster.resourcesVpcConfig;
    expect(after).toMatchObject({
      endpointPrivateAccess: false,
      endpointPublicAccess: true,
      publicAccessCidrs: ["203.0.113.0/24"],
      subnetIds: before.subnetIds,
    });
    const off = await eksctl([
      "utils",
      "update-cluster-vpc-config",
      "--cluster",
      "cv",
      "--private-access=false",
      "--public-access=false",
      "--approve",
    ]);
    expect(off.stderr).toMatch(/at least one of private and public access must be enabled/);
  });

  it("addons: --name with -f is refused as eksctl refuses it; by flags they are created and deleted", async () => {
    const refused = await eksctl(["update", "addon", "-f", "cluster.yaml", "--name", "vpc-cni"]);
    expect(refused.stderr).toContain("cannot use --name when --config-file/-f is set");
    const created = await eksctl([
      "create",
      "addon",
      "--cluster",
      "cv",
      "--region",
      region,
      "--name",
      "coredns",
      "--version=v1.11.4-eksbuild.2",
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const rows = JSON.parse((await eksctl(["get", "addon", "--cluster", "cv", "--region", region, "-o", "json"])).stdout);
    expect(rows.map((r: { Name: string; Version: string }) => [r.Name, r.Version])).toEqual([["coredns", "v1.11.4-eksbuild.2"]]);
    const deleted = await eksctl(["delete", "addon", "--cluster", "cv", "--region", region, "--name", "coredns"]);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(JSON.parse((await eksctl(["get", "addon", "--cluster", "cv", "--region", region, "-o", "json"])).stdout)).toEqual([]);
  });

  it("delete nodegroup removes its ASG and launch template", async () => {
    expect(
      (await eksctl(["delete", "nodegroup", "--cluster", "cv", "--region", region, "--name", "ng-a", "--drain", "--approve", "--wait"]))
        .exitCode,
    ).toBe(0);
    expect(await asg()).toEqual([]);
    await expect(motoCall("ec2", "describe_launch_templates", { LaunchTemplateNames: ["eksctl-cv-nodegroup-ng-a"] })).rejects.toThrow();
  });
});
