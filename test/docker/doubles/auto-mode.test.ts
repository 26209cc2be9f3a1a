// EKS Auto Mode in the doubles, run on the host (python3 with botocore, as the doubles themselves run)
// for speed: the EKS stand-in keeps computeConfig, storageConfig and elasticLoadBalancing per cluster;
// the eksctl double's `update auto-mode-config` turns them on and off as eksctl v0.215.0 does (and
// refuses what its loader refuses); the kube-apiserver stand-in lists Auto Mode's instances as Ready
// nodes. Each check reads moto and the stand-in with one botocore call (the API the real AWS CLI
// calls), not through the doubles' own read-back code.
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
let kubeApi: KubeApi;
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

async function call(service: string, operation: string, params: Record<string, unknown> = {}): Promise<any> {
  const script = `import botocore.session, json, os, sys
c = botocore.session.get_session().create_client(sys.argv[1], region_name="${region}", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
print(json.dumps(getattr(c, sys.argv[2])(**json.loads(sys.argv[3])), default=str))`;
  const result = await execa("python3", ["-c", script, service, operation, JSON.stringify(params)], { env: env(), reject: false });
  if (result.exitCode !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout);
}

const describeCluster = async (name: string) => (await call("eks", "describe_cluster", { name })).cluster;

const clusterYaml = (name: string, autoMode: string) => `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: ${name}, region: ${region}, version: "1.34"}
${autoMode}`;

beforeAll(async () => {
  moto = await startMoto();
  kubeApi = await startKubeApi(moto.url, { regions: [region] });
  workspace = mkdtempSync(join(tmpdir(), "eksbox-doubles-automode-"));
  writeFileSync(join(workspace, "off.yaml"), clusterYaml("am", "autoModeConfig: {enabled: false}\n"));
  writeFileSync(join(workspace, "on.yaml"), clusterYaml("am", "autoModeConfig: {enabled: true, nodePools: [general-purpose, system]}\n"));
  writeFileSync(join(workspace, "gp.yaml"), clusterYaml("am", "autoModeConfig: {enabled: true, nodePools: [general-purpose]}\n"));
  const created = await eksctl(["create", "cluster", "-f", "off.yaml", "--kubeconfig", "kubeconfig"]);
  if (created.exitCode !== 0) throw new Error(created.stderr);
}, 600_000);

afterAll(async () => {
  await kubeApi?.stop();
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("EKS Auto Mode in the doubles", { timeout: 300_000 }, () => {
  it("a cluster created with autoModeConfig.enabled false shows no computeConfig (EKS's off)", async () => {
    expect((await describeCluster("am")).computeConfig?.enabled ?? false).toBe(false);
  });

  it("update auto-mode-config refuses what eksctl's loader refuses, with eksctl's flags only", async () => {
    writeFileSync(join(workspace, "none.yaml"), clusterYaml("am", ""));
    writeFileSync(join(workspace, "unset.yaml"), clusterYaml("am", "autoModeConfig: {nodePools: [system]}\n"));
    writeFileSync(join(workspace, "bad.yaml"), clusterYaml("am", "autoModeConfig: {enabled: false, nodePools: [system]}\n"));
    const cases: [string[], RegExp][] = [
      [["-f", "none.yaml"], /autoModeConfig must be set/],
      [["-f", "unset.yaml"], /autoModeConfig\.enabled must be set to either true or false when updating Auto Mode config/],
      [["-f", "bad.yaml"], /cannot set .*autoModeConfig\.nodePools when Auto Mode is disabled/],
      [
        ["-f", "off.yaml", "--drain-all-nodegroups"],
        /cannot specify --drain-parallel or --drain-all-nodegroups when autoModeConfig\.enabled is false/,
      ],
      [["-f", "off.yaml", "--region", region], /unknown flag: --region/],
    ];
    for (const [args, message] of cases) {
      const result = await eksctl(["update", "auto-mode-config", ...args]);
      expect(result.exitCode, args.join(" ")).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    expect((await describeCluster("am")).computeConfig?.enabled ?? false).toBe(false);
  });

  it("turns Auto Mode on: the node role's stack, computeConfig with the node pools, block storage and load balancing", async () => {
    const result = await eksctl(["update", "auto-mode-config", "--config-file", "on.yaml", "--timeout", "40m", "--ignore-missing-subnets"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Auto Mode enabled successfully/);
    const cluster = await describeCluster("am");
    const role = await call("iam", "get_role", { RoleName: "eksctl-am-auto-mode-role-AutoModeNodeRole" });
    expect(cluster.computeConfig).toEqual({ enabled: true, nodePools: ["general-purpose", "system"], nodeRoleArn: role.Role.Arn });
    expect(cluster.storageConfig).toEqual({ blockStorage: { enabled: true } });
    expect(cluster.kubernetesNetworkConfig.elasticLoadBalancing).toEqual({ enabled: true });
    const stacks = await call("cloudformation", "describe_stacks", { StackName: "eksctl-am-auto-mode-role" });
    expect(stacks.Stacks).toHaveLength(1);

    const again = await eksctl(["update", "auto-mode-config", "-f", "on.yaml"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/Auto Mode is already enabled and up-to-date/);
  });

  it("changes the node pools in place, keeping the node role", async () => {
    const result = await eksctl(["update", "auto-mode-config", "-f", "gp.yaml"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const compute = (await describeCluster("am")).computeConfig;
    expect(compute.nodePools).toEqual(["general-purpose"]);
    expect(compute.nodeRoleArn).toMatch(/eksctl-am-auto-mode-role-AutoModeNodeRole$/);
  });

  it("the kube-apiserver stand-in lists a Ready node per running instance tagged as Auto Mode's", async () => {
    const image = (await call("ec2", "describe_images", { Owners: ["amazon"] })).Images[0].ImageId;
    const tags = [
      { Key: "eks:eks-cluster-name", Value: "am" },
      { Key: "eks:kubernetes-node-pool-name", Value: "general-purpose" },
    ];
    const run = await call("ec2", "run_instances", {
      ImageId: image,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "m5.large",
      TagSpecifications: [{ ResourceType: "instance", Tags: tags }],
    });
    const id = run.Instances[0].InstanceId as string;
    const response = await fetch(`${kubeApi.url}/api/v1/nodes?labelSelector=${encodeURIComponent("eks.amazonaws.com/compute-type=auto")}`);
    const list = (await response.json()) as any;
    expect(list.items).toHaveLength(1);
    expect(list.items[0].metadata.labels).toMatchObject({
      "eks.amazonaws.com/compute-type": "auto",
      "karpenter.sh/nodepool": "general-purpose",
      "alpha.eksctl.io/cluster-name": "am",
    });
    expect(list.items[0].spec.providerID).toBe(`aws:///${region}/${id}`);
    expect(list.items[0].status.conditions).toContainEqual(expect.objectContaining({ type: "Ready", status: "True" }));
  });

  it("turns Auto Mode off: computeConfig and the rest off, Auto Mode's instances terminated, the node role's stack gone", async () => {
    const result = await eksctl(["update", "auto-mode-config", "-f", "off.yaml"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Auto Mode disabled successfully/);
    const cluster = await describeCluster("am");
    expect(cluster.computeConfig).toEqual({ enabled: false });
    expect(cluster.storageConfig).toEqual({ blockStorage: { enabled: false } });
    const running = await call("ec2", "describe_instances", {
      Filters: [
        { Name: "tag:eks:eks-cluster-name", Values: ["am"] },
        { Name: "instance-state-name", Values: ["pending", "running"] },
      ],
    });
    expect(running.Reservations.flatMap((r: any) => r.Instances)).toEqual([]);
    await expect(call("cloudformation", "describe_stacks", { StackName: "eksctl-am-auto-mode-role" })).rejects.toThrow(/does not exist/);
    const again = await eksctl(["update", "auto-mode-config", "-f", "off.yaml"]);
    expect(again.stderr).toMatch(/Auto Mode is already disabled/);
  });

  it("create cluster with Auto Mode on passes computeConfig to EKS; the stand-in refuses the three switched apart", async () => {
    writeFileSync(join(workspace, "born.yaml"), clusterYaml("am2", "autoModeConfig: {enabled: true, nodePools: [system]}\n"));
    const created = await eksctl(["create", "cluster", "-f", "born.yaml", "--kubeconfig", "kubeconfig2"]);
    expect(created.exitCode, created.stderr).toBe(0);
    const cluster = await describeCluster("am2");
    expect(cluster.computeConfig).toMatchObject({ enabled: true, nodePools: ["system"] });
    expect(cluster.storageConfig).toEqual({ blockStorage: { enabled: true } });
    await expect(
      call("eks", "update_cluster_config", {
        name: "am2",
        computeConfig: { enabled: false },
        storageConfig: { blockStorage: { enabled: true } },
        kubernetesNetworkConfig: { elasticLoadBalancing: { enabled: true } },
      }),
    ).rejects.toThrow(/InvalidParameterException/);
  });
});
