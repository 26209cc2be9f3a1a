// Drives the eksctl and flux TEST DOUBLES directly in the test toolbox image against moto, and checks
// moto's state with the real aws CLI: the doubles must do what the lifecycle tests rely on.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../../support/aws-cli.js";
import { startKubeApi, type KubeApi } from "../../support/kube-api.js";
import { startMoto, type MotoServer } from "../../support/moto.js";
import { ensureTestToolboxImage, TEST_TOOLBOX_TOOLS } from "../../support/test-toolbox.js";
import { runInToolbox, type ToolboxRunOptions } from "./run-in-toolbox.js";

const region = "ap-northeast-1";
const cluster = "doubles-e2e";
const ng1a = "worker-1a-20261125";
const ng1c = "worker-1c-20261125";
const fixtures = fileURLToPath(new URL("./fixtures/", import.meta.url));
/** How eksbox bootstraps Flux for GitHub (the flux tests run it, then find it in argv.log). */
const fluxBootstrap = [
  "flux",
  "bootstrap",
  "github",
  "--owner",
  "acme",
  "--repository",
  "fleet",
  "--branch",
  "main",
  "--path",
  "clusters/dev",
  "--personal",
  "--token-auth",
];

let moto: MotoServer;
let kubeApi: KubeApi;
let image: string;
let workspace: string;
let base: ToolboxRunOptions;

const run = (argv: string[], env: Record<string, string> = {}) => runInToolbox({ ...base, env: { ...base.env, ...env } }, argv);
const aws = (...args: string[]) => awsCli(image, moto.url, [...args, "--region", region]);

async function runOk(argv: string[], env: Record<string, string> = {}) {
  const result = await run(argv, env);
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${result.exitCode}:\n${result.stderr}`);
  return result;
}

async function activeStacks(): Promise<Array<{ StackName: string; Tags: Array<{ Key: string; Value: string }> }>> {
  const stacks = (await aws("cloudformation", "describe-stacks")).Stacks as Array<any>;
  return stacks.filter((s) => s.StackStatus !== "DELETE_COMPLETE");
}

const tag = (stack: { Tags: Array<{ Key: string; Value: string }> }, key: string) => stack.Tags.find((t) => t.Key === key)?.Value;

beforeAll(async () => {
  [image, moto] = await Promise.all([ensureTestToolboxImage(), startMoto()]);
  kubeApi = await startKubeApi(moto.url, { regions: [region] });
  workspace = mkdtempSync(join(tmpdir(), "eksbox-doubles-"));
  mkdirSync(join(workspace, "build/dev"), { recursive: true });
  for (const file of ["cluster.yaml", "nodegroups.yaml", "invalid-version.yaml", "invalid-key.yaml"]) {
    cpSync(join(fixtures, file), join(workspace, "build/dev", file));
  }
  // The container runs as an unprivileged uid that does not own the workspace.
  for (const dir of [workspace, join(workspace, "build"), join(workspace, "build/dev")]) chmodSync(dir, 0o777);
  base = {
    image,
    workspace,
    motoUrl: moto.url,
    region,
    env: { EKSBOX_TEST_KUBE_API: kubeApi.url, EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API" },
  };
});

afterAll(async () => {
  await kubeApi?.stop();
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("test toolbox image", () => {
  it("labels the tool versions it really holds", async () => {
    const inspect = await execa("docker", ["image", "inspect", "--format", '{{index .Config.Labels "io.eksbox.tools"}}', image]);
    expect(JSON.parse(inspect.stdout)).toEqual(TEST_TOOLBOX_TOOLS);
    const versions = await runOk(["sh", "-c", "aws --version; kubectl version --client --short; eksctl version; flux --version"]);
    expect(versions.stdout).toContain(`aws-cli/${TEST_TOOLBOX_TOOLS.aws} `);
    expect(versions.stdout).toContain(`Client Version: v${TEST_TOOLBOX_TOOLS.kubectl}`);
    expect(versions.stdout).toContain("0.230.0 (test double)");
    expect(versions.stdout).toContain("flux version 2.9.6 (test double)");
  });

  it("aws reaches moto through AWS_ENDPOINT_URL (the wrapper adds --endpoint-url)", async () => {
    const identity = JSON.parse((await runOk(["aws", "sts", "get-caller-identity", "--output", "json"])).stdout);
    expect(identity.Account).toBe("123456789012");
  });
});

describe("eksctl and flux doubles against moto", () => {
  it("refuses a schema-invalid file, naming the key", async () => {
    const version = await run([
      "eksctl",
      "create",
      "cluster",
      "-f",
      "build/dev/invalid-version.yaml",
      "--kubeconfig",
      "build/dev/kubeconfig",
    ]);
    expect(version.exitCode).toBe(1);
    expect(version.stderr).toContain("metadata.version: 1.3 is not of type 'string'");
    const key = await run(["eksctl", "create", "nodegroup", "-f", "build/dev/invalid-key.yaml"]);
    expect(key.exitCode).toBe(1);
    expect(key.stderr).toMatch(/nodeGroups\[0\]: .*'instanceTyp' was unexpected/);
    expect((await aws("eks", "list-clusters")).clusters).toEqual([]);
  });

  it("refuses nodegroups for a cluster that does not exist", async () => {
    const result = await run(["eksctl", "create", "nodegroup", "-f", "build/dev/nodegroups.yaml"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`No cluster found for name: ${cluster}`);
    const get = await run(["eksctl", "get", "cluster", "--name", cluster, "--region", region, "-o", "json"]);
    expect(get.exitCode).toBe(1);
    expect(get.stderr).toContain("No cluster found");
  });

  it("creates the cluster: stack, service role, VPC, EKS cluster, OIDC provider, kubeconfig", async () => {
    const created = await runOk(["eksctl", "create", "cluster", "-f", "build/dev/cluster.yaml", "--kubeconfig", "build/dev/kubeconfig"]);
    expect(created.stderr).toContain(`[✔]  EKS cluster "${cluster}" in "${region}" region is ready`);
    const described = (await aws("eks", "describe-cluster", "--name", cluster)).cluster;
    expect(described.status).toBe("ACTIVE");
    expect(described.version).toBe("1.34");
    expect(described.tags).toMatchObject({ "alpha.eksctl.io/cluster-name": cluster, team: "platform" });
    const subnets = (await aws("ec2", "describe-subnets", "--subnet-ids", ...described.resourcesVpcConfig.subnetIds)).Subnets;
    expect(new Set(subnets.map((s: any) => s.AvailabilityZone))).toEqual(new Set([`${region}a`, `${region}c`, `${region}d`]));
    const stack = (await activeStacks()).find((s) => s.StackName === `eksctl-${cluster}-cluster`);
    expect(stack && tag(stack, "alpha.eksctl.io/cluster-name")).toBe(cluster);
    const providers = (await aws("iam", "list-open-id-connect-providers")).OpenIDConnectProviderList;
    expect(providers).toHaveLength(1);
    // As eksctl writes it from EKS: the server is describe-cluster's endpoint, here the kube API stand-in's URL for the cluster.
    expect(described.endpoint).toBe(`${kubeApi.url}/clusters/${region}/${cluster}`);
    expect(readFileSync(join(workspace, "build/dev/kubeconfig"), "utf8")).toContain(`server: ${described.endpoint}\n`);

    const again = await run(["eksctl", "create", "cluster", "-f", "build/dev/cluster.yaml", "--kubeconfig", "build/dev/kubeconfig"]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain("already exists");
  });

  it("gets the cluster as a JSON array", async () => {
    const result = await runOk(["eksctl", "get", "cluster", "--name", cluster, "--region", region, "-o", "json"]);
    const clusters = JSON.parse(result.stdout);
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({ Name: cluster, Status: "ACTIVE", Version: "1.34" });
  });

  it("creates two self-managed nodegroups, and skips them when they exist", async () => {
    await runOk(["eksctl", "create", "nodegroup", "-f", "build/dev/nodegroups.yaml", `--include=${ng1a},${ng1c}`]);
    const stacks = (await activeStacks()).filter((s) => s.StackName.startsWith(`eksctl-${cluster}-nodegroup-`));
    expect(stacks.map((s) => tag(s, "alpha.eksctl.io/nodegroup-name")).sort()).toEqual([ng1a, ng1c]);
    expect(stacks.every((s) => tag(s, "alpha.eksctl.io/nodegroup-type") === "unmanaged")).toBe(true);

    const list = JSON.parse((await runOk(["eksctl", "get", "nodegroup", "--cluster", cluster, "--region", region, "-o", "json"])).stdout);
    const first = list.find((ng: any) => ng.Name === ng1a);
    expect(first).toMatchObject({
      StackName: `eksctl-${cluster}-nodegroup-${ng1a}`,
      Cluster: cluster,
      Status: "CREATE_COMPLETE",
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 2,
      InstanceType: "m5.xlarge,m5a.xlarge",
      Version: "1.34",
      NodeGroupType: "unmanaged",
    });
    for (const field of ["ImageID", "CreationTime", "NodeInstanceRoleARN", "AutoScalingGroupName"]) expect(first[field]).toBeTruthy();
    await aws("iam", "get-role", "--role-name", first.NodeInstanceRoleARN.split("/").pop());

    const again = await runOk(["eksctl", "create", "nodegroup", "-f", "build/dev/nodegroups.yaml", `--include=${ng1a}`]);
    expect(again.stderr).toContain(`1 existing nodegroup(s) (${ng1a}) will be excluded`);
  });

  it("creates the IAM service accounts with the attached policies", async () => {
    await runOk([
      "eksctl",
      "create",
      "iamserviceaccount",
      "-f",
      "build/dev/cluster.yaml",
      "--approve",
      "--override-existing-serviceaccounts",
    ]);
    const accounts = JSON.parse(
      (await runOk(["eksctl", "get", "iamserviceaccount", "--cluster", cluster, "--region", region, "-o", "json"])).stdout,
    );
    expect(accounts).toEqual([
      {
        metadata: { name: "external-dns", namespace: "kube-system" },
        status: { roleARN: expect.stringMatching(/^arn:aws:iam::123456789012:role\//) },
      },
    ]);
    // 65 characters long: shortened to IAM's 64 with a hash, as CloudFormation would.
    const roleName = accounts[0].status.roleARN.split("/").pop();
    expect(roleName).toMatch(new RegExp(`^eksctl-${cluster}-addon-iamserviceaccount-kube-system-.{1,20}$`));
    expect(roleName.length).toBeLessThanOrEqual(64);
    const role = (await aws("iam", "get-role", "--role-name", roleName)).Role;
    expect(role.Tags).toContainEqual({ Key: "alpha.eksctl.io/iamserviceaccount-name", Value: "kube-system/external-dns" });
    const attached = (await aws("iam", "list-attached-role-policies", "--role-name", roleName)).AttachedPolicies;
    expect(attached.map((p: any) => p.PolicyArn)).toEqual(["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]);
  });

  it("serves Ready nodes to the real kubectl through the kube API stand-in", async () => {
    await runOk(["eksctl", "utils", "write-kubeconfig", "--cluster", cluster, "--region", region, "--kubeconfig", "build/dev/kubeconfig"]);
    const byGroup = JSON.parse(
      (await runOk(["kubectl", "get", "nodes", "-l", `alpha.eksctl.io/nodegroup-name=${ng1a}`, "-o", "json"])).stdout,
    );
    expect(byGroup.items).toHaveLength(2);
    for (const node of byGroup.items) {
      expect(node.metadata.labels).toMatchObject({
        "alpha.eksctl.io/nodegroup-name": ng1a,
        "alpha.eksctl.io/cluster-name": cluster,
        role: "worker",
      });
      expect(node.status.conditions).toContainEqual(expect.objectContaining({ type: "Ready", status: "True" }));
    }
    const both = JSON.parse(
      (await runOk(["kubectl", "get", "nodes", "-l", `alpha.eksctl.io/nodegroup-name in (${ng1a},${ng1c})`, "-o", "json"])).stdout,
    );
    expect(both.items).toHaveLength(3);
    const table = await runOk(["kubectl", "get", "nodes"]);
    expect(table.stdout.split("\n").filter((line) => line.includes(" Ready "))).toHaveLength(3);
  });

  it("bootstraps flux: the GitRepository and Kustomization flux-system on the cluster, as real flux leaves them", async () => {
    const before = await run(["flux", "get", "sources", "git", "flux-system", "-n", "flux-system"]);
    expect(before.exitCode).toBe(1);
    expect(before.stderr).toContain("✗ GitRepository object 'flux-system' not found in 'flux-system' namespace");
    const noToken = await run(fluxBootstrap);
    expect(noToken.exitCode).toBe(1);
    expect(noToken.stderr).toContain("GITHUB_TOKEN");
    await runOk(["flux", "check", "--pre"]);
    await runOk(fluxBootstrap, { GITHUB_TOKEN: "ghp_eksboxtestfaketoken" });
    const after = await runOk(["flux", "get", "sources", "git", "flux-system", "-n", "flux-system"]);
    expect(after.stdout).toMatch(/^flux-system\s/m);
    const objects = JSON.parse(
      (
        await runOk([
          "kubectl",
          "get",
          "gitrepositories.source.toolkit.fluxcd.io/flux-system",
          "kustomizations.kustomize.toolkit.fluxcd.io/flux-system",
          "-n",
          "flux-system",
          "-o",
          "json",
        ])
      ).stdout,
    );
    expect(objects.items.map((o: { kind: string; spec: unknown }) => [o.kind, o.spec])).toEqual([
      ["GitRepository", expect.objectContaining({ url: "https://github.com/acme/fleet.git", ref: { branch: "main" } })],
      ["Kustomization", expect.objectContaining({ path: "./clusters/dev", sourceRef: { kind: "GitRepository", name: "flux-system" } })],
    ]);
  });

  it("fails once on an injected failure, then runs; every call is in argv.log", async () => {
    mkdirSync(join(workspace, ".eksbox-test"), { recursive: true });
    writeFileSync(join(workspace, ".eksbox-test/fail"), "no such command\neksctl get nodegroup\n", { mode: 0o666 });
    // eksbox runs the toolbox as the file's owner; here the container's uid differs from the test's.
    chmodSync(join(workspace, ".eksbox-test/fail"), 0o666);
    const failed = await run(["eksctl", "get", "nodegroup", "--cluster", cluster, "--region", region, "-o", "json"]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain("injected failure: eksctl get nodegroup");
    expect(readFileSync(join(workspace, ".eksbox-test/fail"), "utf8")).toBe("no such command\n");
    await runOk(["eksctl", "get", "nodegroup", "--cluster", cluster, "--region", region, "-o", "json"]);
    const logged = readFileSync(join(workspace, ".eksbox-test/argv.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).argv);
    expect(logged).toContainEqual(fluxBootstrap);
    expect(logged.filter((argv) => argv.join(" ").startsWith("eksctl get nodegroup")).length).toBeGreaterThanOrEqual(2);
  });

  it("waits on an injected delay, and stops with 130 on SIGINT", async () => {
    const slow = join(workspace, ".eksbox-test/slow");
    writeFileSync(slow, "300 eksctl get cluster --name slow-one\n");
    chmodSync(slow, 0o666);
    const name = `eksbox-test-doubles-slow-${process.pid}`;
    const running = runInToolbox({ ...base, name }, ["eksctl", "get", "cluster", "--name", "slow-one", "--region", region]);
    const log = join(workspace, ".eksbox-test/argv.log");
    for (let i = 0; i < 100 && !readFileSync(log, "utf8").includes("slow-one"); i++) await new Promise((r) => setTimeout(r, 200));
    expect(readFileSync(slow, "utf8")).toBe("");
    // The double prints its delay notice after consuming the line: give it a moment to reach sleep().
    await new Promise((r) => setTimeout(r, 500));
    await execa("docker", ["kill", "--signal", "SIGINT", name]);
    const result = await running;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("eksctl test double: interrupted");
  });

  it("deletes a nodegroup: its stack and role go, its nodes leave kubectl", async () => {
    const role = `eksctl-${cluster}-nodegroup-${ng1a}-NodeInstanceRole`;
    await runOk([
      "eksctl",
      "delete",
      "nodegroup",
      "--cluster",
      cluster,
      "--region",
      region,
      "--name",
      ng1a,
      "--drain=true",
      "--approve",
      "--wait",
    ]);
    const list = JSON.parse((await runOk(["eksctl", "get", "nodegroup", "--cluster", cluster, "--region", region, "-o", "json"])).stdout);
    expect(list.map((ng: any) => ng.Name)).toEqual([ng1c]);
    expect((await activeStacks()).map((s) => s.StackName)).not.toContain(`eksctl-${cluster}-nodegroup-${ng1a}`);
    await expect(aws("iam", "get-role", "--role-name", role)).rejects.toThrow(/NoSuchEntity/);
    const nodes = JSON.parse((await runOk(["kubectl", "get", "nodes", "-o", "json"])).stdout);
    expect(nodes.items.map((n: any) => n.metadata.labels["alpha.eksctl.io/nodegroup-name"])).toEqual([ng1c]);
  });

  it("deletes the cluster and everything the doubles made for it", async () => {
    await runOk(["eksctl", "delete", "cluster", "--name", cluster, "--region", region, "--wait"]);
    expect((await aws("eks", "list-clusters")).clusters).toEqual([]);
    expect(await activeStacks()).toEqual([]);
    const roles = (await aws("iam", "list-roles")).Roles.map((r: any) => r.RoleName);
    expect(roles.filter((name: string) => name.startsWith(`eksctl-${cluster}`))).toEqual([]);
    expect((await aws("iam", "list-open-id-connect-providers")).OpenIDConnectProviderList).toEqual([]);
    const vpcs = (await aws("ec2", "describe-vpcs")).Vpcs;
    expect(vpcs.filter((v: any) => !v.IsDefault)).toEqual([]);
    const nodes = JSON.parse((await runOk(["kubectl", "get", "nodes", "-o", "json"])).stdout);
    expect(nodes.items).toEqual([]);
    expect(existsSync(join(workspace, "build/dev/kubeconfig"))).toBe(true);
  });
});
