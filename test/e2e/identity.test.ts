// Today's EKS identity and lifecycle end to end, with one born: pod identity associations, access
// entries and the upgrade policy created, planned clean, changed one of each (plan shows exactly
// that, born converges), the one-way authenticationMode change, the lock-out refusal, migrate
// pod-identity, and the upgrade insights gate (WARNING shown and goes on; ERROR refused; --force
// passes and is recorded). AWS is moto behind the EKS stand-in (test/doubles/eks_standin.py), eksctl
// is the test double; the state is asserted through the real AWS CLI (v1, in the test image).
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedInsights, startMoto, type MotoServer } from "../support/moto.js";
import { startKubeApi, type KubeApi } from "../support/kube-api.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "../support/aws-cli.js";
import { ensureBuilt } from "../support/cli.js";
import { makeProjectSkeleton } from "../support/project-skeleton.js";

const REGION = "us-east-1";
const ACCOUNT = "123456789012";
const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
/** moto's caller for any credentials: the principal running eksbox here. */
const CALLER = `arn:aws:iam::${ACCOUNT}:user/moto`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

let moto: MotoServer;
let kube: KubeApi;
let image: string;
let project: string;
let cli: string;

const envFile = () => join(project, "config", "environments", "idp.yaml");

function environment(opts: {
  readerRole: string;
  devNamespaces: string[];
  supportType: string;
  mode: string;
  callerEntry?: string;
}): string {
  return `aws:
  region: ${REGION}
  accountId: "${ACCOUNT}"
  endpointUrl: ${moto.url}
cluster:
  version: "1.33"
  serviceAccounts:
  - name: legacy
    namespace: apps
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"]
  podIdentityAssociations:
  - namespace: apps
    serviceAccountName: s3-reader
    roleARN: ${opts.readerRole}
  - namespace: apps
    serviceAccountName: dns
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]
  access:
    authenticationMode: ${opts.mode}
    entries:
    - principalARN: ${role("developers")}
      kubernetesGroups: [devs]
      accessPolicies:
      - policyARN: ${VIEW}
        accessScope: { type: namespace, namespaces: [${opts.devNamespaces.join(", ")}] }
    - principalARN: ${role("ops")}
      accessPolicies:
      - policyARN: ${ADMIN}
        accessScope: { type: cluster }
${opts.callerEntry ?? ""}  upgradePolicy:
    supportType: ${opts.supportType}
worker:
  zones: [${REGION}a]
  instanceTypes: [m5.large]
  spot: { enabled: false }
  minSize: 1
  maxSize: 2
  desiredCapacity: 1
  volume: { size: 20 }
`;
}

const initial = () => ({ readerRole: role("reader-a"), devNamespaces: ["dev"], supportType: "STANDARD", mode: "API_AND_CONFIG_MAP" });

function eksbox(args: string[]) {
  return execa("node", [cli, ...args, "--no-tty"], {
    cwd: project,
    reject: false,
    env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API", EKSBOX_TEST_KUBE_API: kube.url, CI: "1" },
  });
}

const aws = (args: string[]) => awsCli(image, moto.url, ["--region", REGION, ...args], { cli: "v1" });

interface PlanJson {
  steps: { id: string; action: string; reason: string; commands: string[][] }[];
}

async function planBorn(): Promise<PlanJson> {
  const result = await eksbox(["plan", "born", "--env", "idp", "--output", "json"]);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as PlanJson;
}

const step = (plan: PlanJson, id: string) => plan.steps.find((s) => s.id === id)!;

async function associations(): Promise<Record<string, string>> {
  const list = await aws(["eks", "list-pod-identity-associations", "--cluster-name", "idp"]);
  const out: Record<string, string> = {};
  for (const a of list.associations) {
    const { association } = await aws([
      "eks",
      "describe-pod-identity-association",
      "--cluster-name",
      "idp",
      "--association-id",
      a.associationId,
    ]);
    out[`${a.namespace}/${a.serviceAccount}`] = association.roleArn;
  }
  return out;
}

async function entryPolicies(principal: string): Promise<unknown[]> {
  const out = await aws(["eks", "list-associated-access-policies", "--cluster-name", "idp", "--principal-arn", principal]);
  return out.associatedAccessPolicies.map((p: { policyArn: string; accessScope: unknown }) => ({
    policyArn: p.policyArn,
    accessScope: p.accessScope,
  }));
}

async function describeCluster() {
  return (await aws(["eks", "describe-cluster", "--name", "idp"])).cluster;
}

async function doubleCalls(): Promise<string[]> {
  const path = join(project, ".eksbox-test", "argv.log");
  if (!existsSync(path)) return [];
  return (await readFile(path, "utf8"))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l).argv as string[]).join(" "));
}

beforeAll(async () => {
  cli = await ensureBuilt();
  moto = await startMoto();
  image = await ensureTestToolboxImage();
  kube = await startKubeApi(moto.url, { regions: [REGION] });
  project = await makeProjectSkeleton("eksbox-identity-");
  await writeFile(envFile(), environment(initial()));
}, 900_000);

afterAll(async () => {
  await kube?.stop();
  await moto?.stop();
  if (project) await rm(project, { recursive: true, force: true });
});

// Each born, plan or upgrade here is several toolbox runs on a shared 2-core machine.
describe("identity and lifecycle against the local emulator", { timeout: 900_000 }, () => {
  it("born creates the pod identity associations, the agent addon, the access entries and the upgrade policy", async () => {
    const result = await eksbox(["born", "--env", "idp"]);
    expect(result.exitCode, result.stderr).toBe(0);
    // 1.33 left standard support on 2026-07-29: the calendar says so (from describe-cluster-versions).
    expect(result.stderr).toMatch(/Kubernetes 1\.33 is in extended support since 2026-07-29/);

    const live = await associations();
    expect(Object.keys(live).sort()).toEqual(["apps/dns", "apps/s3-reader"]);
    expect(live["apps/s3-reader"]).toBe(role("reader-a"));
    const dnsRole = live["apps/dns"]!.split("/").pop()!;
    const attached = await aws(["iam", "list-attached-role-policies", "--role-name", dnsRole]);
    expect(attached.AttachedPolicies.map((p: { PolicyArn: string }) => p.PolicyArn)).toEqual([
      "arn:aws:iam::aws:policy/AmazonRoute53FullAccess",
    ]);

    const cluster = await describeCluster();
    expect(cluster.accessConfig.authenticationMode).toBe("API_AND_CONFIG_MAP");
    expect(cluster.upgradePolicy.supportType).toBe("STANDARD");
    expect(Object.keys(cluster.tags)).toContain("alpha.eksctl.io/test-double.addon.eks-pod-identity-agent");

    const entries = (await aws(["eks", "list-access-entries", "--cluster-name", "idp"])).accessEntries;
    expect(entries.sort()).toEqual([CALLER, role("developers"), role("ops")].sort());
    expect(await entryPolicies(role("developers"))).toEqual([{ policyArn: VIEW, accessScope: { type: "namespace", namespaces: ["dev"] } }]);
    expect(
      (await aws(["eks", "describe-access-entry", "--cluster-name", "idp", "--principal-arn", role("developers")])).accessEntry
        .kubernetesGroups,
    ).toEqual(["devs"]);
    // IRSA keeps working beside pod identity.
    const roles = (await aws(["iam", "list-roles"])).Roles.map((r: { RoleName: string }) => r.RoleName);
    expect(roles.some((r: string) => r.includes("apps-legacy"))).toBe(true);
  });

  it("plan born is clean afterwards; the creator's own entry is reported as extra", async () => {
    const plan = await planBorn();
    for (const id of ["cluster", "nodegroups", "serviceaccounts", "podidentity", "access", "support"])
      expect(step(plan, id).action, id).toBe("skip");
    expect(step(plan, "access").reason).toContain(`extra accessentry/${CALLER}`);
    // The drift check agrees: the creator's entry is only reported (eksbox never deletes it).
    const drift = await eksbox(["diff", "--env", "idp", "--exit-code"]);
    expect(drift.exitCode, drift.stdout + drift.stderr).toBe(0);
  });

  it("a change of one of each shows as exactly that in plan, and born converges", async () => {
    await writeFile(
      envFile(),
      environment({ ...initial(), readerRole: role("reader-b"), devNamespaces: ["dev", "qa"], supportType: "EXTENDED" }),
    );
    const plan = await planBorn();
    const running = plan.steps.filter((s) => s.action === "run" && !["preflight", "generate"].includes(s.id));
    expect(running.map((s) => s.id)).toEqual(["podidentity", "access", "support"]);
    expect(step(plan, "podidentity").commands).toEqual([
      [
        "eksctl",
        "update",
        "podidentityassociation",
        "--cluster",
        "idp",
        "--region",
        REGION,
        "--namespace",
        "apps",
        "--service-account-name",
        "s3-reader",
        "--role-arn",
        role("reader-b"),
      ],
    ]);
    expect(step(plan, "access").commands).toEqual([
      [
        "aws",
        "eks",
        "associate-access-policy",
        "--cluster-name",
        "idp",
        "--region",
        REGION,
        "--principal-arn",
        role("developers"),
        "--policy-arn",
        VIEW,
        "--access-scope",
        "type=namespace,namespaces=dev,qa",
      ],
    ]);
    expect(step(plan, "support").commands).toEqual([
      [
        "aws",
        "eks",
        "update-cluster-config",
        "--name",
        "idp",
        "--region",
        REGION,
        "--upgrade-policy",
        "supportType=EXTENDED",
        "--output",
        "json",
      ],
    ]);

    // The nightly drift check sees the identity changes too, and applies nothing.
    const drift = await eksbox(["diff", "--env", "idp", "--exit-code"]);
    expect(drift.exitCode, drift.stderr).toBe(2);
    expect(drift.stdout).toContain(`podidentityassociation/apps/s3-reader roleARN: ${role("reader-a")} → ${role("reader-b")}`);
    expect(drift.stdout).toContain(`accessentry/${role("developers")}`);
    expect(drift.stdout).toContain("cluster/idp upgradePolicy.supportType: STANDARD → EXTENDED");
    expect((await associations())["apps/s3-reader"]).toBe(role("reader-a"));

    const result = await eksbox(["born", "--env", "idp"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect((await associations())["apps/s3-reader"]).toBe(role("reader-b"));
    expect(await entryPolicies(role("developers"))).toEqual([
      { policyArn: VIEW, accessScope: { type: "namespace", namespaces: ["dev", "qa"] } },
    ]);
    expect((await describeCluster()).upgradePolicy.supportType).toBe("EXTENDED");
    const after = await planBorn();
    for (const id of ["podidentity", "access", "support"]) expect(step(after, id).action, id).toBe("skip");
    const clean = await eksbox(["diff", "--env", "idp", "--exit-code"]);
    expect(clean.exitCode, clean.stdout + clean.stderr).toBe(0);
  });

  it("refuses a plan that would lock out the principal running eksbox, and changes nothing", async () => {
    const callerEntry = `    - principalARN: ${CALLER}\n      accessPolicies:\n      - policyARN: ${VIEW}\n        accessScope: { type: cluster }\n`;
    await writeFile(
      envFile(),
      environment({ ...initial(), readerRole: role("reader-b"), devNamespaces: ["dev", "qa"], supportType: "EXTENDED", callerEntry }),
    );
    const plan = await eksbox(["plan", "born", "--env", "idp"]);
    expect(plan.exitCode).not.toBe(0);
    expect(plan.stdout + plan.stderr).toMatch(
      /refusing a plan that locks out the principal running eksbox from cluster idp: the plan takes cluster admin away from arn:aws:iam::123456789012:user\/moto/,
    );
    const born = await eksbox(["born", "--env", "idp", "--yes"]);
    expect(born.exitCode).not.toBe(0);
    expect(born.stderr).toContain("locks out the principal running eksbox");
    expect(await entryPolicies(CALLER)).toEqual([{ policyArn: ADMIN, accessScope: { type: "cluster", namespaces: [] } }]);
  });

  it("the one-way authenticationMode change is marked in plan and needs --yes", async () => {
    await writeFile(
      envFile(),
      environment({ ...initial(), readerRole: role("reader-b"), devNamespaces: ["dev", "qa"], supportType: "EXTENDED", mode: "API" }),
    );
    const plan = await planBorn();
    expect(step(plan, "access").reason).toContain(
      "ONE-WAY cluster/idp authenticationMode: API_AND_CONFIG_MAP -> API (cannot be undone; needs --yes)",
    );
    const refused = await eksbox(["born", "--env", "idp"]);
    expect(refused.exitCode).not.toBe(0);
    // The project's guard (steps/guard.ts): no terminal to confirm on, so it needs --yes.
    expect(refused.stderr).toMatch(
      /no terminal to ask on.*ONE-WAY cluster\/idp authenticationMode.*pass --yes: eksbox born --env idp --yes/s,
    );
    expect((await describeCluster()).accessConfig.authenticationMode).toBe("API_AND_CONFIG_MAP");
    const confirmed = await eksbox(["born", "--env", "idp", "--yes"]);
    expect(confirmed.exitCode, confirmed.stderr).toBe(0);
    expect((await describeCluster()).accessConfig.authenticationMode).toBe("API");
  });

  it("migrate pod-identity moves the IRSA service account, and a rerun is a no-op", async () => {
    const result = await eksbox(["migrate", "pod-identity", "--env", "idp"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/migrate +run +to migrate: apps\/legacy/);
    expect(result.stderr).toContain("move apps/legacy from cluster.serviceAccounts to cluster.podIdentityAssociations");
    const live = await associations();
    expect(live["apps/legacy"]).toMatch(/apps-legacy/);
    const again = await eksbox(["migrate", "pod-identity", "--env", "idp"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/migrate +skip +all 1 IRSA service account\(s\) have pod identity associations/);
    expect((await doubleCalls()).filter((c) => c.includes("migrate-to-pod-identity"))).toHaveLength(1);
    // --output json gives the command's result, as for born and upgrade (it printed nothing before).
    const json = await eksbox(["migrate", "pod-identity", "--env", "idp", "--output", "json"]);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: "run", task: "migrate pod-identity", env: "idp", outcome: "unchanged" });
  });

  describe("the upgrade insights gate", () => {
    const insight = (id: string, version: string, status: string, lastRefreshTime: number) => ({
      id,
      name: `${status} check ${id}`,
      category: "UPGRADE_READINESS",
      kubernetesVersion: version,
      lastRefreshTime,
      lastTransitionTime: lastRefreshTime,
      description: "checks something before the upgrade",
      insightStatus: { status, reason: `${id} found something` },
      recommendation: `fix ${id}`,
      resources: [{ insightStatus: { status }, kubernetesResourceUri: `/apis/batch/v1beta1/namespaces/apps/cronjobs/${id}` }],
    });
    const now = () => Date.now() / 1000;

    it("a WARNING is shown and the hop goes on; insights older than a day are refreshed first", async () => {
      await seedInsights(moto, REGION, "idp", [
        insight("warn-1", "1.34", "WARNING", now() - 2 * 86_400),
        insight("pass-1", "1.34", "PASSING", now() - 2 * 86_400),
      ]);
      const result = await eksbox(["upgrade", "--env", "idp", "--to", "1.34", "--yes"]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stderr).toMatch(
        /upgrade insight for 1\.34: WARNING WARNING check warn-1 \(warn-1\); warn-1 found something; resources: \/apis\/batch\/v1beta1\/namespaces\/apps\/cronjobs\/warn-1; recommendation: fix warn-1/,
      );
      expect((await doubleCalls()).some((c) => c.startsWith("aws eks start-insights-refresh --cluster-name idp"))).toBe(true);
      expect((await describeCluster()).version).toBe("1.34");
    });

    it("an ERROR refuses the hop, plan upgrade shows the same; --force passes and is recorded in the run", async () => {
      await seedInsights(moto, REGION, "idp", [insight("err-1", "1.35", "ERROR", now())]);
      const plan = await eksbox(["plan", "upgrade", "--to", "1.35", "--env", "idp"]);
      expect(plan.exitCode).not.toBe(0);
      expect(plan.stdout).toMatch(
        /control-plane +ERROR +upgrade to Kubernetes 1\.35 refused: 1 upgrade insight\(s\) in ERROR: ERROR check err-1/,
      );

      const refused = await eksbox(["upgrade", "--env", "idp", "--to", "1.35", "--yes"]);
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain("upgrade to Kubernetes 1.35 refused");
      expect((await describeCluster()).version).toBe("1.34");

      const forced = await eksbox(["upgrade", "--env", "idp", "--to", "1.35", "--yes", "--force"]);
      expect(forced.exitCode, forced.stderr).toBe(0);
      expect((await describeCluster()).version).toBe("1.35");
      const runs = join(project, ".eksbox", "runs");
      const records = await Promise.all(
        (await readdir(runs)).map((id) => readFile(join(runs, id, "events.jsonl"), "utf8").catch(() => "")),
      );
      expect(
        records.some((r) => r.includes("--force: going on to Kubernetes 1.35 despite 1 upgrade insight(s) in ERROR: ERROR check err-1")),
      ).toBe(true);
      // The stand-in kept the cluster's identity state across the version update.
      expect(Object.keys(await associations()).sort()).toEqual(["apps/dns", "apps/legacy", "apps/s3-reader"]);
    });
  });
});
