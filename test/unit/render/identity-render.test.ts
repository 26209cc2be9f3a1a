// Pod identity associations, access entries and the upgrade policy: rendered into the shapes of
// eksctl's own examples (39-pod-identity-association, 40-access-entries, 45-upgrade-policy-example),
// accepted by eksctl's schema, and refused with file, key and fix when the config is wrong.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadEnvironment } from "../../../src/config/load.js";
import { ConfigError } from "../../../src/core/errors.js";
import { renderEnvironment, validateRendered } from "../../../src/render/render.js";
import { validateAgainstEksctlSchema } from "../../../src/render/eksctl-validate.js";
import { makeProject, minimalEnv, repoRoot, type Project } from "../config/project-fixture.js";

const example = async (name: string) =>
  parse(await readFile(path.join(repoRoot, "test/fixtures/eksctl-v0.230.0-examples", name), "utf8")) as Record<string, any>;

export const identityEnv = `${minimalEnv}cluster:
  podIdentityAssociations:
  - namespace: default
    serviceAccountName: s3-reader
    roleARN: arn:aws:iam::111111111111:role/role-1
  - namespace: dev
    serviceAccountName: app-cache-access
    roleName: pod-identity-role-app-cache
    attachPolicyARNs: ["arn:aws:iam::111111111111:policy/permission-policy-1"]
  - namespace: default
    serviceAccountName: cross-account-s3-reader
    createServiceAccount: true
    roleARN: arn:aws:iam::111111111111:role/role-a
    targetRoleARN: arn:aws:iam::444455556666:role/role-b
  access:
    authenticationMode: API
    bootstrapClusterCreatorAdminPermissions: false
    entries:
    - principalARN: arn:aws:iam::111111111111:user/my-user-name
      kubernetesGroups: [group1, group2]
    - principalARN: arn:aws:iam::111111111111:role/role-name-1
      accessPolicies:
      - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        accessScope: { type: namespace, namespaces: [default, my-namespace, dev-*] }
    - principalARN: arn:aws:iam::111111111111:role/admin-role
      accessPolicies:
      - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy
        accessScope: { type: cluster }
  upgradePolicy:
    supportType: STANDARD
`;

const keysOf = (items: Record<string, unknown>[]) => [...new Set(items.flatMap((item) => Object.keys(item)))].sort();

describe("identity and lifecycle config rendered for eksctl", () => {
  let project: Project;
  beforeEach(async () => {
    project = await makeProject();
  });
  afterEach(() => project.cleanup());

  it("renders iam.podIdentityAssociations, accessConfig and upgradePolicy as the golden file, valid for eksctl's schema", async () => {
    await project.write("config/environments/idp.yaml", identityEnv);
    const env = await loadEnvironment(project.root, "idp");
    const rendered = await renderEnvironment(project.root, env, { workerVersion: "20261125" });
    expect(validateAgainstEksctlSchema(rendered.cluster.document)).toEqual([]);
    expect(validateRendered(rendered, env)).toEqual([]);
    const doc = rendered.cluster.document as Record<string, any>;
    const golden = parse(await readFile(path.join(repoRoot, "test/golden/identity/cluster.yaml"), "utf8"));
    expect({ iam: doc.iam, accessConfig: doc.accessConfig, upgradePolicy: doc.upgradePolicy, addons: doc.addons }).toEqual(golden);
  });

  it("uses the field names of eksctl's examples 39, 40 and 45", async () => {
    await project.write("config/environments/idp.yaml", identityEnv);
    const doc = (await renderEnvironment(project.root, await loadEnvironment(project.root, "idp"), { workerVersion: "v1" })).cluster
      .document as Record<string, any>;
    const ex39 = await example("39-pod-identity-association.yaml");
    const ex40 = await example("40-access-entries.yaml");
    const ex45 = await example("45-upgrade-policy-example.yaml");
    const exampleAssociationKeys = keysOf(ex39.iam.podIdentityAssociations);
    for (const key of keysOf(doc.iam.podIdentityAssociations)) expect(exampleAssociationKeys).toContain(key);
    expect(Object.keys(doc.accessConfig).sort()).toEqual(Object.keys(ex40.accessConfig).sort());
    const exampleEntryKeys = keysOf(ex40.accessConfig.accessEntries);
    for (const key of keysOf(doc.accessConfig.accessEntries)) expect(exampleEntryKeys).toContain(key);
    expect(doc.accessConfig.accessEntries[1].accessPolicies).toEqual(ex40.accessConfig.accessEntries[1].accessPolicies);
    expect(doc.accessConfig.accessEntries[2].accessPolicies).toEqual(ex40.accessConfig.accessEntries[2].accessPolicies);
    expect(doc.upgradePolicy).toEqual({ supportType: "STANDARD" });
    expect(Object.keys(doc.upgradePolicy)).toEqual(Object.keys(ex45.upgradePolicy));
    // eksctl's own examples pass the same schema check the rendered files do.
    for (const ex of [ex39, ex40, ex45]) expect(validateAgainstEksctlSchema(ex)).toEqual([]);
  });

  it("adds the eks-pod-identity-agent addon only when an association is configured, once", async () => {
    await project.write("config/environments/idp.yaml", identityEnv);
    await project.write("config/environments/plain.yaml", minimalEnv);
    await project.write(
      "config/environments/named.yaml",
      `${identityEnv}  addons:\n  - name: eks-pod-identity-agent\n    version: v1.3.4-eksbuild.1\n`,
    );
    const addons = async (name: string) =>
      (
        (await renderEnvironment(project.root, await loadEnvironment(project.root, name), { workerVersion: "v1" })).cluster.document as any
      ).addons?.map((a: { name: string; version: string }) => `${a.name}@${a.version}`);
    expect(await addons("idp")).toContain("eks-pod-identity-agent@latest");
    expect(await addons("plain")).not.toContain("eks-pod-identity-agent@latest");
    expect(await addons("named")).toEqual(["eks-pod-identity-agent@v1.3.4-eksbuild.1"]);
  });

  it("adds no agent addon in autoMode, where EKS runs the agent itself, and keeps the associations", async () => {
    await project.write(
      "config/environments/auto.yaml",
      identityEnv.replace("worker:\n  zones: [ap-northeast-1b]\n", "autoscaling: { mode: autoMode }\nworker: null\n"),
    );
    const env = await loadEnvironment(project.root, "auto");
    const doc = (await renderEnvironment(project.root, env, { workerVersion: "v1" })).cluster.document as any;
    expect(doc.autoModeConfig).toMatchObject({ enabled: true });
    expect(doc.addons ?? []).toEqual([]);
    expect(doc.iam.podIdentityAssociations).toHaveLength(3);
    expect(validateAgainstEksctlSchema(doc)).toEqual([]);
  });

  it("leaves accessConfig and upgradePolicy out when the config does not set them", async () => {
    await project.write("config/environments/plain.yaml", minimalEnv);
    const doc = (await renderEnvironment(project.root, await loadEnvironment(project.root, "plain"), { workerVersion: "v1" })).cluster
      .document as any;
    expect(doc).not.toHaveProperty("accessConfig");
    expect(doc).not.toHaveProperty("upgradePolicy");
    expect(doc.iam).not.toHaveProperty("podIdentityAssociations");
  });

  it("reports every identity mistake at once, each with its file, line and key", async () => {
    await project.write(
      "config/environments/bad.yaml",
      `${minimalEnv}cluster:
  serviceAccounts:
  - name: both
    namespace: apps
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  podIdentityAssociations:
  - serviceAccountName: no-role
  - namespace: apps
    serviceAccountName: both
    roleARN: arn:aws:iam::111111111111:role/r
  - serviceAccountName: two-ways
    roleARN: arn:aws:iam::111111111111:role/r
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  access:
    authenticationMode: CONFIG_MAP
    entries:
    - principalARN: arn:aws:sts::111111111111:assumed-role/admin/session
      kubernetesGroups: ["system:masters"]
      accessPolicies:
      - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy
        accessScope: { type: namespace }
  upgradePolicy:
    supportType: extended
`,
    );
    const error = await loadEnvironment(project.root, "bad").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const text = (error as ConfigError).message;
    expect(text).toMatch(/bad\.yaml:\d+:\d+: cluster\.access\.authenticationMode: .*API_AND_CONFIG_MAP/);
    expect(text).toMatch(/bad\.yaml:\d+:\d+: cluster\.upgradePolicy\.supportType: .*STANDARD/);
    if (!/podIdentityAssociations\[0\]\.roleARN/.test(text)) {
      // Rule findings may wait for schema errors to be fixed (issue 13 item 13 reports both layers).
      await project.edit("config/environments/bad.yaml", (t) => t.replace("CONFIG_MAP", "API").replace("extended", "EXTENDED"));
      const second = await loadEnvironment(project.root, "bad").then(
        () => undefined,
        (e: unknown) => e,
      );
      const rules = (second as ConfigError).message;
      expect(rules).toMatch(/bad\.yaml:\d+:\d+: cluster\.podIdentityAssociations\[0\]\.roleARN: default\/no-role needs a role/);
      expect(rules).toMatch(/cluster\.podIdentityAssociations\[1\]\.serviceAccountName: apps\/both is also in cluster\.serviceAccounts/);
      expect(rules).toMatch(/cluster\.podIdentityAssociations\[2\]\.attachPolicyARNs: .*cannot be combined with roleARN/);
      expect(rules).toMatch(/cluster\.access\.entries\[0\]\.principalARN: an access entry takes the IAM role's ARN/);
      expect(rules).toMatch(/cluster\.access\.entries\[0\]\.kubernetesGroups: EKS refuses groups that start with system:/);
      expect(rules).toMatch(
        /cluster\.access\.entries\[0\]\.accessPolicies\[0\]\.accessScope\.namespaces: a namespace scope needs at least one namespace/,
      );
    }
  });
});
