// The eksctl rules eksbox learned from the oracle (test/oracle/): real eksctl refuses these files, and
// eksbox must say so before eksctl runs. Fast, without the real binaries.
import { describe, expect, it } from "vitest";
import { checkRenderedRules, type RuleFinding } from "../../../src/render/eksctl-rules.js";

type Doc = Record<string, unknown>;

const cluster = (version: unknown = "1.34"): Doc => ({
  apiVersion: "eksctl.io/v1alpha5",
  kind: "ClusterConfig",
  metadata: { name: "c", region: "us-east-1", version },
});

function nodegroups(ng: Doc, kind: "nodeGroups" | "managedNodeGroups" = "nodeGroups"): Doc {
  return {
    apiVersion: "eksctl.io/v1alpha5",
    kind: "ClusterConfig",
    metadata: { name: "c", region: "us-east-1" },
    [kind]: [{ name: "worker-1a-v1", amiFamily: "AmazonLinux2023", availabilityZones: ["us-east-1a"], minSize: 1, maxSize: 1, ...ng }],
  };
}

const eksctlFindings = (found: RuleFinding[]) => found.filter((f) => !f.policy).map((f) => `${f.path.join(".")}: ${f.message}`);
const check = (ng: Doc, opts: { version?: unknown; kind?: "nodeGroups" | "managedNodeGroups" } = {}) =>
  eksctlFindings(
    checkRenderedRules(cluster(opts.version), nodegroups(ng, opts.kind), { mode: "clusterAutoscaler", discoverable: () => false }),
  );

describe("eksctl's rules, checked on the rendered files", () => {
  it("accepts a plain nodegroup with labels kubelet may set and a valid taint", () => {
    expect(
      check({
        labels: {
          "node.kubernetes.io/role": "worker",
          "topology.kubernetes.io/zone": "us-east-1a",
          team: "",
          "example.com/a_b.c": "x-y_z.1",
        },
        taints: [{ key: "example.com/gpu", value: "true", effect: "NoSchedule" }],
      }),
    ).toEqual([]);
  });

  it("refuses label values and keys Kubernetes refuses", () => {
    expect(check({ labels: { team: "web\nops" } })).toEqual([
      expect.stringMatching(/^nodeGroups\.0\.labels\.team: "web\\nops" is not a valid label value/),
    ]);
    expect(check({ labels: { team: "x".repeat(64) } })).toHaveLength(1);
    expect(check({ labels: { team: "-x" } })).toHaveLength(1);
    expect(check({ labels: { "a/b/c": "x" } })).toEqual([expect.stringContaining("more than one '/'")]);
    expect(check({ labels: { "Example.com/x": "y" } })).toEqual([expect.stringContaining("lower-case DNS name")]);
  });

  it("refuses labels under the reserved kubernetes.io and k8s.io prefixes, except those kubelet sets", () => {
    expect(check({ labels: { "kubernetes.io/role": "worker" } })).toEqual([expect.stringContaining("reserved for Kubernetes")]);
    expect(check({ labels: { "app.k8s.io/x": "y" } })).toEqual([expect.stringContaining("reserved for Kubernetes")]);
    expect(check({ labels: { "kubernetes.io/arch": "amd64", "kubelet.kubernetes.io/x": "y" } })).toEqual([]);
  });

  it("refuses bad taint keys and values", () => {
    expect(check({ taints: [{ key: "bad key", value: "x", effect: "NoSchedule" }] })).toEqual([
      expect.stringMatching(/^nodeGroups\.0\.taints\.0\.key: taint key/),
    ]);
    expect(check({ taints: [{ key: "k", value: "a b", effect: "NoSchedule" }] })).toEqual([
      expect.stringMatching(/^nodeGroups\.0\.taints\.0\.value:/),
    ]);
  });

  it("refuses a taint effect Kubernetes does not know", () => {
    expect(check({ taints: [{ key: "k", value: "v", effect: "NoWay" }] })).toEqual([
      expect.stringMatching(/^nodeGroups\.0\.taints\.0\.effect: must be one of/),
    ]);
  });

  it("refuses kubeletExtraConfig and overrideBootstrapCommand on Bottlerocket", () => {
    expect(check({ amiFamily: "Bottlerocket", kubeletExtraConfig: { containerLogMaxFiles: 5 } })).toEqual([
      "nodeGroups.0.kubeletExtraConfig: is not supported on Bottlerocket",
    ]);
    expect(check({ amiFamily: "Bottlerocket", overrideBootstrapCommand: "x" }, { kind: "managedNodeGroups" })).toEqual([
      "managedNodeGroups.0.overrideBootstrapCommand: is not supported on Bottlerocket",
    ]);
  });

  it('refuses a version EKS does not offer, such as "1.3" or "1.9"', () => {
    expect(check({}, { version: "1.3" })).toEqual([
      expect.stringMatching(/^metadata\.version: 1\.3 is not a Kubernetes version EKS offers/),
    ]);
    expect(check({}, { version: "1.9" })).toHaveLength(1);
    expect(check({}, { version: "1.35" })).toEqual([]);
  });

  it("a missing version is eksbox policy, not eksctl's rule (eksctl takes its default)", () => {
    const found = checkRenderedRules({ metadata: { name: "c", region: "us-east-1" } }, nodegroups({}), {
      mode: "clusterAutoscaler",
      discoverable: () => false,
    });
    expect(found.filter((f) => f.path.join(".") === "metadata.version")).toEqual([expect.objectContaining({ policy: "eksbox" })]);
  });

  it("autoModeConfig with enabled false is how the other modes say Auto Mode is off; on, it belongs to autoMode", () => {
    const clusterDoc = (autoModeConfig: unknown) => ({ metadata: { name: "c", region: "us-east-1", version: "1.34" }, autoModeConfig });
    const autoModeFindings = (autoModeConfig: unknown, mode: "clusterAutoscaler" | "karpenter" | "autoMode") =>
      checkRenderedRules(clusterDoc(autoModeConfig), nodegroups({}), { mode, discoverable: () => false })
        .filter((f) => f.path[0] === "autoModeConfig")
        .map((f) => `${f.path.join(".")}: ${f.message}`);
    expect(autoModeFindings({ enabled: false }, "clusterAutoscaler")).toEqual([]);
    expect(autoModeFindings({ enabled: false }, "karpenter")).toEqual([]);
    expect(autoModeFindings({ enabled: true, nodePools: ["system"] }, "clusterAutoscaler")).toEqual([
      "autoModeConfig: belongs to autoscaling.mode autoMode, not clusterAutoscaler",
    ]);
    expect(autoModeFindings({ enabled: false }, "autoMode")).toEqual(["autoModeConfig.enabled: must be true in autoMode"]);
  });

  it("refuses nodegroup names eksctl refuses", () => {
    expect(check({ name: "worker_1a" })).toEqual([expect.stringContaining("must be letters, digits and '-'")]);
  });

  it("refuses a custom AMI eksctl cannot bootstrap, and an AMI that is not an id on managed nodegroups", () => {
    expect(check({ amiFamily: "Ubuntu2404", ami: "ami-0123456789abcdef0" })).toEqual([
      expect.stringContaining("needs overrideBootstrapCommand"),
    ]);
    expect(check({ ami: "ami-0123456789abcdef0" })).toEqual([]);
    expect(check({ ami: "auto-ssm" }, { kind: "managedNodeGroups" })).toEqual([expect.stringContaining("is not an AMI id")]);
  });

  it("refuses volumeKmsKeyID without volumeEncrypted", () => {
    expect(check({ volumeKmsKeyID: "arn:aws:kms:us-east-1:123456789012:key/k", volumeEncrypted: false })).toEqual([
      expect.stringContaining("needs volumeEncrypted: true"),
    ]);
  });
});
