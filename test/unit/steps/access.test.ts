// born's access step on a live cluster, against the fake cloud's EKS access config: the one-way
// authenticationMode change (planned, marked, refused without --yes, guarded on a protected
// environment, let through when born's plan confirmed it up front), the refusal to go back, and the
// access entries converged (missing: created, changed: updated, extra: reported and kept).
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { StepFailedError, UserError } from "../../../src/core/errors.js";
import type { MemorySink } from "../../../src/core/events.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { bornTask } from "../../../src/steps/born.js";
import { describeChange } from "../../../src/steps/converge/diff.js";
import { bornDestructiveChanges, changeKey } from "../../../src/steps/converge/guard.js";
import { planBornWith } from "../../../src/steps/converge/plan-born.js";
import type { ConvergeOptions } from "../../../src/steps/lifecycle.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import type { UpgradeFakeCloud } from "../tasks/fake-cloud-upgrade.js";
import { contextFor, fakeCloud, makeProject, unitEnvYaml } from "../tasks/support.js";

const VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const DEV = "arn:aws:iam::123456789012:role/dev";
const OPS = "arn:aws:iam::123456789012:role/ops";

const accessYaml = (mode: string) => `  access:
    authenticationMode: ${mode}
    entries:
    - principalARN: ${DEV}
      kubernetesGroups: [devs]
      accessPolicies:
      - policyARN: ${VIEW}
        accessScope: { type: namespace, namespaces: [a, b] }
`;

let root: string;
let cloud: UpgradeFakeCloud;

async function setEnv(edit: (text: string) => string) {
  const file = join(root, "config", "environments", "unit.yaml");
  await writeFile(file, edit(await readFile(file, "utf8")));
}

const withAccess = (mode = "API_AND_CONFIG_MAP") => setEnv((text) => text.replace("\ncluster:\n", `\ncluster:\n${accessYaml(mode)}`));
let sink: MemorySink;
const born = async (converge: ConvergeOptions = {}) => {
  const ctx = await contextFor(root, cloud);
  sink = ctx.sink;
  return runTask(bornTask(), Object.assign(ctx, { converge }));
};
/** The messages the last born logged. */
const logged = () => sink.events.flatMap((e) => (e.type === "log" ? [e.message] : []));
const planBorn = async (converge: ConvergeOptions = {}) =>
  planBornWith(async (task) => {
    const base = Object.assign(await contextFor(root, cloud, { planning: true }), { converge });
    return planTask(task, task.extend ? task.extend(base) : base);
  }, converge);
const access = () => cloud.clusters.get("unit")!.access!;
/** The calls that change the cloud's access config. */
const accessWrites = () =>
  cloud.calls.filter(
    (argv) =>
      (argv[0] === "aws" && /^(create|delete|update|associate|disassociate)-/.test(argv[2] ?? "")) ||
      (argv[0] === "eksctl" && argv[2] === "accessentry" && argv[1] !== "get"),
  );
/** An update of the access mode, without the `--output json` the access step adds. */
const modeUpdate = (mode: string) => [
  "aws",
  "eks",
  "update-cluster-config",
  "--name",
  "unit",
  "--region",
  "ap-northeast-1",
  "--access-config",
  `authenticationMode=${mode}`,
];
/** The access step's update of the mode, as it runs it. */
const MODE_UPDATE = [...modeUpdate("API_AND_CONFIG_MAP"), "--output", "json"];
const DESCRIBE_UPDATE = ["aws", "eks", "describe-update", "--name", "unit", "--region", "ap-northeast-1", "--update-id"];
const refusal = (result: Awaited<ReturnType<typeof born>>) => {
  expect(result.status).toBe("failed");
  expect(result.error).toBeInstanceOf(UserError);
  return result.error as UserError;
};

beforeEach(async () => {
  root = await makeProject({ envYaml: unitEnvYaml });
  cloud = fakeCloud(root);
  const first = await runTask(bornTask(), await contextFor(root, cloud));
  expect(first.status, String(first.error)).toBe("done");
  cloud.calls = [];
});

describe("authenticationMode CONFIG_MAP -> API_AND_CONFIG_MAP on a live cluster", () => {
  // A cluster from before access entries: CONFIG_MAP, none.
  beforeEach(async () => {
    cloud.clusters.get("unit")!.access = {
      authenticationMode: "CONFIG_MAP",
      bootstrapClusterCreatorAdminPermissions: true,
      entries: new Map(),
    };
    await withAccess();
  });

  it("is planned as a one-way, destructive change, marked so, and born's plan asks for it", async () => {
    const { entries, result } = await planBorn();
    const oneWay = result!.changes.filter((c) => c.step === "access" && c.kind === "oneWay");
    expect(oneWay.map(describeChange)).toEqual([
      "! cluster/unit authenticationMode: CONFIG_MAP → API_AND_CONFIG_MAP (oneWay, destructive)",
    ]);
    expect(bornDestructiveChanges(result!.changes, {})).toEqual(oneWay);
    const step = entries.find((e) => e.id === "access")!.decision!;
    expect(step.action).toBe("run");
    expect(step.action === "run" && step.destructive).toBe(
      "ONE-WAY cluster/unit authenticationMode: CONFIG_MAP -> API_AND_CONFIG_MAP (cannot be undone; needs --yes)",
    );
    expect(accessWrites()).toEqual([]);
    expect(access().authenticationMode).toBe("CONFIG_MAP");
  });

  it("is refused without --yes with nothing changed, and made with it: the mode first, then the entries", async () => {
    const error = refusal(await born());
    expect(error.message).toContain("ONE-WAY cluster/unit authenticationMode: CONFIG_MAP -> API_AND_CONFIG_MAP");
    expect(error.hint).toMatch(/--yes$/);
    expect(accessWrites()).toEqual([]);
    expect(access().authenticationMode).toBe("CONFIG_MAP");

    const done = await born({ yes: true });
    expect(done.status, String(done.error)).toBe("done");
    expect(accessWrites()).toEqual([MODE_UPDATE, ["eksctl", "create", "accessentry", "-f", "build/unit/cluster.yaml"]]);
    expect(access().authenticationMode).toBe("API_AND_CONFIG_MAP");
    expect(access().entries.get(DEV)).toMatchObject({
      kubernetesGroups: ["devs"],
      policies: new Map([[VIEW, { type: "namespace", namespaces: ["a", "b"] }]]),
    });
  });

  it("EKS applies the mode asynchronously: the entries are created only once its update is Successful", async () => {
    const done = await born({ yes: true });
    expect(done.status, String(done.error)).toBe("done");
    // Steps run side by side: these calls are the access step's alone (no other step updates the cluster or its entries).
    const ordered = cloud.calls.filter(
      (argv) =>
        /^(update-cluster-config|describe-update)$/.test(argv[2] ?? "") || argv.slice(0, 3).join(" ") === "eksctl create accessentry",
    );
    expect(ordered.map((argv) => argv.slice(0, 3).join(" "))).toEqual([
      "aws eks update-cluster-config",
      "aws eks describe-update",
      "aws eks describe-update",
      "eksctl create accessentry",
    ]);
    const [update] = [...cloud.updates.values()];
    expect(ordered[1]).toEqual([...DESCRIBE_UPDATE, update!.id, "--output", "json"]);
    expect(update!.status).toBe("Successful");
    // The wait is shown as it goes, as the capacity step's wait for Ready nodes is.
    const progress = logged().filter((m) => m.startsWith("waiting for EKS update"));
    expect(progress).toEqual([`waiting for EKS update ${update!.id} (AccessConfigUpdate) of cluster unit: InProgress`]);
  });

  it("a Failed update stops the step with EKS's error, no entry created; the rerun makes the change", async () => {
    cloud.failUpdate = [{ errorCode: "AccessDenied", errorMessage: "the cluster role may not change the authentication mode" }];
    const failed = await born({ yes: true });
    expect(failed.status).toBe("failed");
    expect(failed.error).toBeInstanceOf(StepFailedError);
    const error = failed.error as StepFailedError;
    expect(error.step).toBe("access");
    expect(error.message).toMatch(
      /^step access waited for EKS update \S+ \(AccessConfigUpdate\) of cluster unit: Failed: AccessDenied: the cluster role may not change the authentication mode$/,
    );
    expect(error.argv.slice(0, 3)).toEqual(["aws", "eks", "describe-update"]);
    expect(accessWrites()).toEqual([MODE_UPDATE]);
    expect(access().authenticationMode).toBe("CONFIG_MAP");
    expect(access().entries.size).toBe(0);

    cloud.calls = [];
    const again = await born({ yes: true });
    expect(again.status, String(again.error)).toBe("done");
    expect(accessWrites()).toEqual([MODE_UPDATE, ["eksctl", "create", "accessentry", "-f", "build/unit/cluster.yaml"]]);
    expect(access().authenticationMode).toBe("API_AND_CONFIG_MAP");
  });

  it("a cluster found UPDATING is refused with a hint, nothing changed; once the update is done a rerun finds the mode made", async () => {
    // The mode's update from an earlier, interrupted run, still in progress: describe-cluster shows the old mode.
    const started = await cloud.run({ step: "by-hand", argv: MODE_UPDATE });
    const { id } = JSON.parse(started.stdout).update as { id: string };
    cloud.calls = [];
    const error = refusal(await born({ yes: true }));
    expect(error.message).toBe("cluster unit is UPDATING: EKS takes no other configuration change until the update in progress is done");
    expect(error.hint).toBe(
      "wait until it is ACTIVE (aws eks wait cluster-active --name unit --region ap-northeast-1), then rerun: the rerun decides from the finished update",
    );
    expect(accessWrites()).toEqual([]);
    expect(access().entries.size).toBe(0);

    for (let i = 0; i < 2; i++) await cloud.run({ step: "by-hand", argv: [...DESCRIBE_UPDATE, id] });
    expect(cloud.updates.get(id)!.status).toBe("Successful");
    cloud.calls = [];
    const done = await born({ yes: true });
    expect(done.status, String(done.error)).toBe("done");
    expect(accessWrites()).toEqual([["eksctl", "create", "accessentry", "-f", "build/unit/cluster.yaml"]]);
    expect(access().authenticationMode).toBe("API_AND_CONFIG_MAP");
  });

  it("born called from a user task names the task's command line in the hint, as born's other guards do", async () => {
    const error = refusal(await born({ command: "eksbox task run rotate-access --env unit" }));
    expect(error.message).toContain("ONE-WAY cluster/unit authenticationMode");
    expect(error.hint).toBe("read the plan, then pass --yes: eksbox task run rotate-access --env unit --yes");
    expect(accessWrites()).toEqual([]);
  });

  it("on a protected environment needs --allow-protected besides --yes", async () => {
    await setEnv((text) => `protected: true\n${text}`);
    const error = refusal(await born({ yes: true }));
    expect(error.message).toMatch(/^environment unit is protected \(protected: true\); refusing to:\n {2}- ONE-WAY cluster\/unit/);
    expect(error.hint).toMatch(/--allow-protected$/);
    expect(accessWrites()).toEqual([]);
    expect(access().authenticationMode).toBe("CONFIG_MAP");

    const done = await born({ yes: true, allowProtected: true });
    expect(done.status, String(done.error)).toBe("done");
    expect(access().authenticationMode).toBe("API_AND_CONFIG_MAP");
  });

  it("a rerun after it is a no-op: nothing to plan, no call that changes anything", async () => {
    expect((await born({ yes: true })).status).toBe("done");
    cloud.calls = [];
    const again = await born();
    expect(again.status, String(again.error)).toBe("done");
    expect(again.outcomes.find((o) => o.id === "access")!.status).toBe("skipped");
    expect(accessWrites()).toEqual([]);
    const { result } = await planBorn();
    expect(result!.changes.filter((c) => c.step === "access")).toEqual([]);
  });

  it("confirmed up front by born's plan (its changeKey), the step's guard lets it through without --yes", async () => {
    const { result } = await planBorn();
    const confirmed = bornDestructiveChanges(result!.changes, {}).map(changeKey);
    expect(confirmed).toEqual([JSON.stringify(["cluster/unit", "authenticationMode", "API_AND_CONFIG_MAP"])]);
    const done = await born({ confirmed });
    expect(done.status, String(done.error)).toBe("done");
    expect(access().authenticationMode).toBe("API_AND_CONFIG_MAP");
  });

  it("a one-way change other than the one confirmed is refused, nothing changed", async () => {
    const { result } = await planBorn();
    const confirmed = bornDestructiveChanges(result!.changes, {}).map(changeKey);
    // Between plan and run the config moved on to API: a change no one confirmed.
    await setEnv((text) => text.replace("authenticationMode: API_AND_CONFIG_MAP", "authenticationMode: API"));
    await setEnv((text) =>
      text.replace(
        "    entries:\n",
        `    entries:\n    - principalARN: ${cloud.callerArn}\n      accessPolicies:\n      - policyARN: arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy\n`,
      ),
    );
    const error = refusal(await born({ confirmed }));
    expect(error.message).toContain("ONE-WAY cluster/unit authenticationMode: CONFIG_MAP -> API");
    expect(accessWrites()).toEqual([]);
    expect(access().authenticationMode).toBe("CONFIG_MAP");
  });
});

describe("going back", () => {
  it("API -> API_AND_CONFIG_MAP is refused with EKS's reason, and nothing changed", async () => {
    const live = cloud.clusters.get("unit")!.access!;
    live.authenticationMode = "API";
    await withAccess("API_AND_CONFIG_MAP");
    const error = refusal(await born({ yes: true, allowProtected: true }));
    expect(error.message).toBe(
      "cluster unit is in authenticationMode API; EKS cannot go back to API_AND_CONFIG_MAP (CONFIG_MAP -> API_AND_CONFIG_MAP -> API is one-way)",
    );
    expect(error.hint).toBe("set cluster.access.authenticationMode: API in the config");
    expect(accessWrites()).toEqual([]);
    expect(access().authenticationMode).toBe("API");
  });

  it("CONFIG_MAP is no mode the config can ask for", async () => {
    await withAccess("CONFIG_MAP");
    await expect(loadEnvironment(root, "unit")).rejects.toThrow(/cluster\.access\.authenticationMode/);
  });
});

describe("access entries on a live cluster", () => {
  beforeEach(async () => {
    // born made the cluster in API_AND_CONFIG_MAP: EKS gave its creator cluster admin; the config adds dev.
    await withAccess();
    expect((await born()).status).toBe("done");
    expect([...access().entries.keys()].sort()).toEqual([DEV, cloud.callerArn]);
    cloud.calls = [];
  });

  it("creates the missing, updates a changed group and policy association, and keeps the extra", async () => {
    await setEnv((text) =>
      text
        .replace("kubernetesGroups: [devs]", "kubernetesGroups: [devs, qa]")
        .replace(
          "namespaces: [a, b] }\n",
          `namespaces: [a, b, c] }\n    - principalARN: ${OPS}\n      accessPolicies:\n      - policyARN: ${EDIT}\n        accessScope: { type: cluster }\n`,
        ),
    );
    const { entries, result } = await planBorn();
    expect(
      result!.changes.filter((c) => c.step === "access").map((c) => `${c.kind} ${c.resource} ${c.field}${c.reportOnly ? " reported" : ""}`),
    ).toEqual([
      `create accessentry/${OPS} entry`,
      `inPlace accessentry/${DEV} kubernetesGroups`,
      `inPlace accessentry/${DEV} accessPolicies[AmazonEKSViewPolicy]`,
      `extra accessentry/${cloud.callerArn} entry reported`,
    ]);
    const step = entries.find((e) => e.id === "access")!.decision!;
    expect(step.action === "run" && step.destructive).toBe(undefined);

    const done = await born({ prune: true });
    expect(done.status, String(done.error)).toBe("done");
    const onDev = ["--cluster-name", "unit", "--region", "ap-northeast-1", "--principal-arn", DEV];
    expect(accessWrites()).toEqual([
      ["eksctl", "create", "accessentry", "-f", "build/unit/cluster.yaml"],
      ["aws", "eks", "update-access-entry", ...onDev, "--kubernetes-groups", "devs", "qa"],
      ["aws", "eks", "associate-access-policy", ...onDev, "--policy-arn", VIEW, "--access-scope", "type=namespace,namespaces=a,b,c"],
    ]);
    expect(access().entries.get(OPS)!.policies).toEqual(new Map([[EDIT, { type: "cluster", namespaces: [] }]]));
    expect(access().entries.get(DEV)).toMatchObject({
      kubernetesGroups: ["devs", "qa"],
      policies: new Map([[VIEW, { type: "namespace", namespaces: ["a", "b", "c"] }]]),
    });
    // Never deleted by eksbox, not even with --prune: the creator's own entry is one such.
    expect(access().entries.has(cloud.callerArn)).toBe(true);
    expect(done.outcomes.find((o) => o.id === "access")!.status).toBe("done");

    cloud.calls = [];
    expect((await born()).status).toBe("done");
    expect(accessWrites()).toEqual([]);
  });

  it("takes away a policy the config no longer names, and an emptied group list", async () => {
    await setEnv((text) => text.replace("kubernetesGroups: [devs]", "kubernetesGroups: []").replace(/ {6}accessPolicies:\n(.*\n){2}/, ""));
    const done = await born();
    expect(done.status, String(done.error)).toBe("done");
    const onDev = ["--cluster-name", "unit", "--region", "ap-northeast-1", "--principal-arn", DEV];
    expect(accessWrites()).toEqual([
      ["aws", "eks", "update-access-entry", ...onDev, "--kubernetes-groups", "[]"],
      ["aws", "eks", "disassociate-access-policy", ...onDev, "--policy-arn", VIEW],
    ]);
    expect(access().entries.get(DEV)).toMatchObject({ kubernetesGroups: [], policies: new Map() });
  });
});

describe("the fake cloud's EKS access, as honest as these tests need", () => {
  const run = (...argv: string[]) => cloud.run({ step: "access", argv });
  const eks = (verb: string, ...rest: string[]) => run("aws", "eks", verb, "--cluster-name", "unit", "--region", "ap-northeast-1", ...rest);

  it("refuses what EKS refuses: access entries on CONFIG_MAP, going back, the same mode again", async () => {
    cloud.clusters.get("unit")!.access = {
      authenticationMode: "CONFIG_MAP",
      bootstrapClusterCreatorAdminPermissions: true,
      entries: new Map(),
    };
    expect((await eks("list-access-entries")).outputTail.join("")).toMatch(/authentication mode must be set to one of/);
    expect((await run("eksctl", "get", "accessentry", "--cluster", "unit", "--region", "ap-northeast-1", "-o", "json")).exitCode).toBe(1);
    const mode = (m: string) => run(...modeUpdate(m));
    const { id } = JSON.parse((await mode("API")).stdout).update as { id: string };
    expect(cloud.updates.get(id)).toMatchObject({ type: "AccessConfigUpdate", status: "InProgress" });
    // In progress: the cluster UPDATING in the old mode, another update refused as EKS does.
    expect((await mode("API")).outputTail.join("")).toMatch(/ResourceInUseException.*currently has update .* in progress/);
    const describeCluster = async () =>
      JSON.parse((await run("aws", "eks", "describe-cluster", "--name", "unit", "--region", "ap-northeast-1")).stdout).cluster;
    expect(await describeCluster()).toMatchObject({ status: "UPDATING", accessConfig: { authenticationMode: "CONFIG_MAP" } });
    const describeUpdate = async () =>
      JSON.parse((await run("aws", "eks", "describe-update", "--name", "unit", "--region", "ap-northeast-1", "--update-id", id)).stdout)
        .update.status;
    expect([await describeUpdate(), await describeUpdate(), await describeUpdate()]).toEqual(["InProgress", "Successful", "Successful"]);
    expect(await describeCluster()).toMatchObject({ status: "ACTIVE", accessConfig: { authenticationMode: "API" } });
    expect((await mode("API_AND_CONFIG_MAP")).outputTail.join("")).toMatch(/Unsupported authentication mode update from API/);
    expect((await mode("API")).outputTail.join("")).toMatch(/already at desired authentication mode API/);
  });

  it("answers the AWS CLI's shapes and fails loudly on an option it does not know", async () => {
    await eks("create-access-entry", "--principal-arn", DEV, "--kubernetes-groups", "devs");
    await eks("associate-access-policy", "--principal-arn", DEV, "--policy-arn", VIEW, "--access-scope", "type=namespace,namespaces=a,b");
    expect(JSON.parse((await eks("list-access-entries")).stdout)).toEqual({ accessEntries: [DEV, cloud.callerArn].sort() });
    expect(JSON.parse((await eks("describe-access-entry", "--principal-arn", DEV)).stdout).accessEntry).toMatchObject({
      principalArn: DEV,
      kubernetesGroups: ["devs"],
      type: "STANDARD",
    });
    expect(JSON.parse((await eks("list-associated-access-policies", "--principal-arn", DEV)).stdout).associatedAccessPolicies).toEqual([
      { policyArn: VIEW, accessScope: { type: "namespace", namespaces: ["a", "b"] } },
    ]);
    expect((await eks("create-access-entry", "--principal-arn", DEV)).outputTail.join("")).toMatch(/ResourceInUseException/);
    expect(
      (await eks("associate-access-policy", "--principal-arn", DEV, "--policy-arn", VIEW, "--scope", "x")).outputTail.join(""),
    ).toMatch(/Unknown options: --scope/);
    expect((await eks("delete-access-entry", "--principal-arn", DEV)).exitCode).toBe(0);
    expect((await eks("describe-access-entry", "--principal-arn", DEV)).outputTail.join("")).toMatch(/ResourceNotFoundException/);
  });
});
