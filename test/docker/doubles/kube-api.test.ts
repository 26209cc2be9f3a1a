// The kube-apiserver stand-in's API and the eksctl double's managed-nodegroup path, run on the host
// (python3 with botocore, as the stand-in itself runs) for speed: no containers needed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeApi, type KubeApi } from "../../support/kube-api.js";
import { startMoto, type MotoServer } from "../../support/moto.js";

const region = "us-west-2";
const eksctl = fileURLToPath(new URL("../../doubles/eksctl", import.meta.url));

let moto: MotoServer;
let kubeApi: KubeApi;
let workspace: string;

const clusterYaml = `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: kapi, region: ${region}, version: "1.33"}
availabilityZones: [${region}a, ${region}b]
`;
const nodegroupsYaml = `apiVersion: eksctl.io/v1alpha5
kind: ClusterConfig
metadata: {name: kapi, region: ${region}, version: "1.33"}
managedNodeGroups:
  - name: managed-spot
    instanceTypes: [m5.large, m5a.large]
    spot: true
    minSize: 1
    maxSize: 5
    desiredCapacity: 3
    labels: {pool: spot}
    taints: [{key: dedicated, value: batch, effect: NoSchedule}]
nodeGroups:
  - name: self-1a
    availabilityZones: [${region}a]
    desiredCapacity: 1
  - name: old-al2
    amiFamily: AmazonLinux2
`;

async function double(args: string[]) {
  return execa("python3", [eksctl, ...args], {
    cwd: workspace,
    reject: false,
    env: {
      AWS_ENDPOINT_URL: moto.url,
      AWS_ACCESS_KEY_ID: "AKIAEKSBOXTESTFAKE00",
      AWS_SECRET_ACCESS_KEY: "eksbox-test-fake-secret",
      AWS_REGION: region,
      KUBECONFIG: join(workspace, "kubeconfig"),
      EKSBOX_TEST_KUBE_API: kubeApi.url,
      PATH: process.env.PATH ?? "",
    },
  });
}

async function nodes(selector?: string, accept = "application/json") {
  const query = selector === undefined ? "" : `?labelSelector=${encodeURIComponent(selector)}`;
  const response = await fetch(`${kubeApi.url}/api/v1/nodes${query}`, { headers: { Accept: accept } });
  return { status: response.status, body: (await response.json()) as any };
}

const names = (list: any) => list.items.map((n: any) => n.metadata.labels["alpha.eksctl.io/nodegroup-name"]).sort();

beforeAll(async () => {
  moto = await startMoto();
  kubeApi = await startKubeApi(moto.url, { regions: [region] });
  workspace = mkdtempSync(join(tmpdir(), "eksbox-kube-api-"));
  mkdirSync(join(workspace, "build"));
  writeFileSync(join(workspace, "build/cluster.yaml"), clusterYaml);
  writeFileSync(join(workspace, "build/nodegroups.yaml"), nodegroupsYaml);
  const created = await double(["create", "cluster", "-f", "build/cluster.yaml"]);
  if (created.exitCode !== 0) throw new Error(created.stderr);
});

afterAll(async () => {
  await kubeApi?.stop();
  await moto?.stop();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe("eksctl double: nodegroup checks", () => {
  it("refuses Amazon Linux 2 on 1.33 and creates none of the set", async () => {
    const result = await double(["create", "nodegroup", "-f", "build/nodegroups.yaml"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("nodeGroups[1].amiFamily: AmazonLinux2 is not supported for Kubernetes version 1.33");
    expect((await nodes()).body.items).toEqual([]);
  });

  it("refuses a zone the cluster has no subnet in", async () => {
    writeFileSync(
      join(workspace, "build/zone.yaml"),
      `apiVersion: eksctl.io/v1alpha5\nkind: ClusterConfig\nmetadata: {name: kapi, region: ${region}}\nnodeGroups:\n  - name: z\n    availabilityZones: [${region}d]\n`,
    );
    const result = await double(["create", "nodegroup", "-f", "build/zone.yaml"]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`nodeGroups[0].availabilityZones: ${region}d has no subnet in the cluster's VPC`);
  });

  it("creates a managed nodegroup in moto's EKS", async () => {
    const result = await double(["create", "nodegroup", "-f", "build/nodegroups.yaml", "--include=managed-*,self-*"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const list = JSON.parse((await double(["get", "nodegroup", "--cluster", "kapi", "-o", "json"])).stdout);
    expect(list.find((ng: any) => ng.Name === "managed-spot")).toMatchObject({
      NodeGroupType: "managed",
      Status: "ACTIVE",
      DesiredCapacity: 3,
      InstanceType: "m5.large,m5a.large",
    });
  });
});

describe("kube-apiserver stand-in", () => {
  it("lists DesiredCapacity Ready nodes per nodegroup, with labels and taints", async () => {
    const all = await nodes();
    expect(all.status).toBe(200);
    expect(names(all.body)).toEqual(["managed-spot", "managed-spot", "managed-spot", "self-1a"]);
    const managed = all.body.items.find((n: any) => n.metadata.labels["alpha.eksctl.io/nodegroup-name"] === "managed-spot");
    expect(managed.metadata.labels).toMatchObject({ pool: "spot", "eks.amazonaws.com/nodegroup": "managed-spot" });
    expect(managed.spec.taints).toEqual([{ key: "dedicated", value: "batch", effect: "NoSchedule" }]);
  });

  it("filters by label selector: =, !=, in, notin, exists, !exists", async () => {
    expect(names((await nodes("alpha.eksctl.io/nodegroup-name=self-1a")).body)).toEqual(["self-1a"]);
    expect(names((await nodes("alpha.eksctl.io/nodegroup-name!=self-1a")).body)).toEqual(["managed-spot", "managed-spot", "managed-spot"]);
    expect(names((await nodes("alpha.eksctl.io/nodegroup-name in (self-1a, nope)")).body)).toEqual(["self-1a"]);
    expect(names((await nodes("alpha.eksctl.io/nodegroup-name notin (self-1a)")).body)).toHaveLength(3);
    expect(names((await nodes("pool,alpha.eksctl.io/cluster-name=kapi")).body)).toHaveLength(3);
    expect(names((await nodes("!pool")).body)).toEqual(["self-1a"]);
    // An equality on a label some nodes lack (as Auto Mode's eks.amazonaws.com/compute-type=auto): those simply do not match.
    expect(names((await nodes("pool=spot")).body)).toEqual(["managed-spot", "managed-spot", "managed-spot"]);
    expect((await nodes("a in (b")).status).toBe(400);
  });

  it("answers kubectl's Table requests and single-node GETs", async () => {
    const table = await nodes(undefined, "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
    expect(table.body.kind).toBe("Table");
    expect(table.body.rows).toHaveLength(4);
    expect(table.body.rows[0].cells[1]).toBe("Ready");
    const name = table.body.rows[0].cells[0];
    const one = await fetch(`${kubeApi.url}/api/v1/nodes/${name}`);
    expect(((await one.json()) as any).metadata.name).toBe(name);
    expect((await fetch(`${kubeApi.url}/api/v1/nodes/ip-0-0-0-0.nowhere`)).status).toBe(404);
    expect((await fetch(`${kubeApi.url}/api/v1/pods`)).status).toBe(404);
  });

  it("drops the nodes of a deleted nodegroup", async () => {
    const deleted = await double(["delete", "nodegroup", "--cluster", "kapi", "--name", "managed-spot", "--approve", "--wait"]);
    expect(deleted.exitCode, deleted.stderr).toBe(0);
    expect(names((await nodes()).body)).toEqual(["self-1a"]);
  });
});
