// Desired vs live for pod identity associations and access entries: each difference is one typed
// change with the exact argv; extras are only reported; the one-way mode change is marked; a plan
// that would lock out the principal running eksbox is refused.
import { describe, expect, it } from "vitest";
import { clusterAdminPolicyARN } from "../../../src/config/schema.js";
import {
  accessChanges,
  checkLockOut,
  podIdentityChanges,
  principalOf,
  type DesiredAccess,
  type DesiredAssociation,
  type LiveAccess,
} from "../../../src/steps/converge/identity-state.js";
import { describeChange } from "../../../src/steps/identity.js";

const t = { cluster: "stg", region: "us-east-1", clusterFile: "build/stg/cluster.yaml" };
const association = (over: Partial<DesiredAssociation>): DesiredAssociation => ({
  namespace: "apps",
  serviceAccountName: "s3",
  attachPolicyARNs: [],
  createServiceAccount: false,
  ...over,
});
const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ME = "arn:aws:iam::123456789012:role/deployer";

describe("pod identity associations: desired vs live", () => {
  it("creates the missing, updates a changed role and target role, reports the extra", () => {
    const desired = [
      association({ serviceAccountName: "new", roleARN: "arn:aws:iam::123456789012:role/new" }),
      association({
        serviceAccountName: "moved",
        roleARN: "arn:aws:iam::123456789012:role/b",
        targetRoleARN: "arn:aws:iam::444455556666:role/x",
      }),
      association({ serviceAccountName: "same", roleARN: "arn:aws:iam::123456789012:role/s" }),
    ];
    const live = [
      { namespace: "apps", serviceAccount: "moved", roleArn: "arn:aws:iam::123456789012:role/a" },
      { namespace: "apps", serviceAccount: "same", roleArn: "arn:aws:iam::123456789012:role/s" },
      { namespace: "old", serviceAccount: "gone", roleArn: "arn:aws:iam::123456789012:role/g" },
    ];
    const changes = podIdentityChanges(desired, live, t);
    expect(changes.map((c) => [c.kind, c.resource, c.field])).toEqual([
      ["create", "podidentityassociation/apps/new", "association"],
      ["update", "podidentityassociation/apps/moved", "roleARN"],
      ["update", "podidentityassociation/apps/moved", "targetRoleARN"],
      ["extra", "podidentityassociation/old/gone", "association"],
    ]);
    expect(changes[0]!.commands).toEqual([
      [
        "eksctl",
        "create",
        "podidentityassociation",
        "--cluster",
        "stg",
        "--region",
        "us-east-1",
        "--namespace",
        "apps",
        "--service-account-name",
        "new",
        "--role-arn",
        "arn:aws:iam::123456789012:role/new",
      ],
    ]);
    expect(changes[1]!.commands[0]!.slice(-2)).toEqual(["--role-arn", "arn:aws:iam::123456789012:role/b"]);
    expect(changes[2]!.commands[0]!.slice(-2)).toEqual(["--target-role-arn", "arn:aws:iam::444455556666:role/x"]);
    expect(changes[3]!.commands).toEqual([]);
    expect(describeChange(changes[3]!)).toMatch(/^extra .*kept/);
  });

  it("creates a policy-based association with eksctl's flags, and compares its role's policies", () => {
    const desired = [association({ attachPolicyARNs: ["arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"], roleName: "r" })];
    expect(podIdentityChanges(desired, [], t)[0]!.commands[0]).toContain(
      "--permission-policy-arns=arn:aws:iam::aws:policy/A,arn:aws:iam::aws:policy/B",
    );
    const live = [
      {
        namespace: "apps",
        serviceAccount: "s3",
        roleArn: "arn:aws:iam::1:role/r",
        attachedPolicyArns: ["arn:aws:iam::aws:policy/B", "arn:aws:iam::aws:policy/A"],
      },
    ];
    expect(podIdentityChanges(desired, live, t)).toEqual([]);
    const changed = podIdentityChanges(desired, [{ ...live[0]!, attachedPolicyArns: ["arn:aws:iam::aws:policy/A"] }], t);
    expect(changed.map((c) => [c.field, c.commands])).toEqual([
      ["attachPolicyARNs", [["eksctl", "update", "podidentityassociation", "-f", "build/stg/cluster.yaml"]]],
    ]);
  });
});

describe("access entries: desired vs live", () => {
  const desired = (over: Partial<DesiredAccess> = {}): DesiredAccess => ({
    authenticationMode: "API_AND_CONFIG_MAP",
    bootstrapClusterCreatorAdminPermissions: true,
    entries: [
      {
        principalARN: ME,
        kubernetesGroups: [],
        accessPolicies: [{ policyARN: clusterAdminPolicyARN, accessScope: { type: "cluster", namespaces: [] } }],
      },
      {
        principalARN: "arn:aws:iam::123456789012:role/dev",
        kubernetesGroups: ["devs"],
        accessPolicies: [{ policyARN: VIEW, accessScope: { type: "namespace", namespaces: ["a", "b"] } }],
      },
    ],
    ...over,
  });
  const live = (over: Partial<LiveAccess> = {}): LiveAccess => ({
    authenticationMode: "API_AND_CONFIG_MAP",
    entries: [
      { principalARN: ME, accessPolicies: [{ policyARN: clusterAdminPolicyARN, accessScope: { type: "cluster" } }] },
      {
        principalARN: "arn:aws:iam::123456789012:role/dev",
        kubernetesGroups: ["devs"],
        accessPolicies: [{ policyARN: VIEW, accessScope: { type: "namespace", namespaces: ["b", "a"] } }],
      },
    ],
    ...over,
  });

  it("finds nothing when they match", () => {
    expect(accessChanges(desired(), live(), t)).toEqual([]);
  });

  it("gives one change per difference, with its argv", () => {
    const l = live();
    l.entries[1] = {
      principalARN: "arn:aws:iam::123456789012:role/dev",
      kubernetesGroups: ["ops"],
      accessPolicies: [
        { policyARN: VIEW, accessScope: { type: "namespace", namespaces: ["a"] } },
        { policyARN: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", accessScope: { type: "cluster" } },
      ],
    };
    l.entries.push({ principalARN: "arn:aws:iam::123456789012:user/someone" });
    const d = desired();
    d.entries.push({ principalARN: "arn:aws:iam::123456789012:role/new", kubernetesGroups: [], accessPolicies: [] });
    const changes = accessChanges(d, l, t);
    expect(changes.map((c) => `${c.kind} ${c.resource} ${c.field}`)).toEqual([
      "create accessentry/arn:aws:iam::123456789012:role/new entry",
      "update accessentry/arn:aws:iam::123456789012:role/dev kubernetesGroups",
      "update accessentry/arn:aws:iam::123456789012:role/dev accessPolicies[AmazonEKSViewPolicy]",
      "update accessentry/arn:aws:iam::123456789012:role/dev accessPolicies[AmazonEKSEditPolicy]",
      "extra accessentry/arn:aws:iam::123456789012:user/someone entry",
    ]);
    expect(changes[0]!.commands).toEqual([["eksctl", "create", "accessentry", "-f", "build/stg/cluster.yaml"]]);
    expect(changes[1]!.commands[0]).toEqual([
      "aws",
      "eks",
      "update-access-entry",
      "--cluster-name",
      "stg",
      "--region",
      "us-east-1",
      "--principal-arn",
      "arn:aws:iam::123456789012:role/dev",
      "--kubernetes-groups",
      "devs",
    ]);
    expect(changes[2]!.commands[0]!.slice(-4)).toEqual(["--policy-arn", VIEW, "--access-scope", "type=namespace,namespaces=a,b"]);
    expect(changes[3]!.commands[0]!.slice(2, 3)).toEqual(["disassociate-access-policy"]);
  });

  it("marks the authenticationMode change one-way and refuses going back", () => {
    const [change] = accessChanges(desired({ authenticationMode: "API" }), live(), t);
    expect(change!.kind).toBe("one-way");
    expect(change!.commands).toEqual([
      [
        "aws",
        "eks",
        "update-cluster-config",
        "--name",
        "stg",
        "--region",
        "us-east-1",
        "--access-config",
        "authenticationMode=API",
        "--output",
        "json",
      ],
    ]);
    expect(describeChange(change!)).toContain(
      "ONE-WAY cluster/stg authenticationMode: API_AND_CONFIG_MAP -> API (cannot be undone; needs --yes)",
    );
    expect(() => accessChanges(desired(), live({ authenticationMode: "API" }), t)).toThrow(/cannot go back to API_AND_CONFIG_MAP/);
  });
});

describe("the lock-out refusal", () => {
  const session = "arn:aws:sts::123456789012:assumed-role/deployer/ci-run-1";
  const base: DesiredAccess = { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: true, entries: [] };

  it("knows an assumed-role session as its role", () => {
    expect(principalOf(session)).toBe(ME);
    expect(principalOf("arn:aws:sts::123456789012:user/moto")).toBe("arn:aws:iam::123456789012:user/moto");
  });

  it("refuses API mode when the caller would have no cluster-admin entry", () => {
    expect(() => checkLockOut(session, base, { authenticationMode: "API_AND_CONFIG_MAP", entries: [] }, "stg")).toThrow(
      /locks out .* only access entries count/,
    );
  });

  it("refuses taking cluster admin away from the caller, in any mode", () => {
    const liveAdmin: LiveAccess = {
      authenticationMode: "API_AND_CONFIG_MAP",
      entries: [{ principalARN: ME, accessPolicies: [{ policyARN: clusterAdminPolicyARN, accessScope: { type: "cluster" } }] }],
    };
    const viewOnly = {
      principalARN: ME,
      kubernetesGroups: [],
      accessPolicies: [{ policyARN: VIEW, accessScope: { type: "cluster" as const, namespaces: [] } }],
    };
    expect(() =>
      checkLockOut(session, { ...base, authenticationMode: "API_AND_CONFIG_MAP", entries: [viewOnly] }, liveAdmin, "stg"),
    ).toThrow(/takes cluster admin away/);
  });

  it("lets a plan through that keeps the caller admin, by its entry or as an extra", () => {
    const liveAdmin: LiveAccess = {
      authenticationMode: "API_AND_CONFIG_MAP",
      entries: [{ principalARN: ME, accessPolicies: [{ policyARN: clusterAdminPolicyARN, accessScope: { type: "cluster" } }] }],
    };
    expect(() => checkLockOut(session, base, liveAdmin, "stg")).not.toThrow();
    expect(() =>
      checkLockOut(
        session,
        { ...base, authenticationMode: "API_AND_CONFIG_MAP" },
        { authenticationMode: "CONFIG_MAP", entries: [] },
        "stg",
      ),
    ).not.toThrow();
  });
});
