// The converge comparison, kind by kind: each case changes one thing on one side and expects exactly
// that change (and its command), and nothing else.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  commandsOf,
  describeChange,
  diff,
  gitLocation,
  type DesiredState,
  type DiffContext,
  type LiveState,
} from "../../../src/steps/converge/diff.js";
import { desiredGitops } from "../../../src/steps/converge/converge.js";
import { nodegroupSpecHash, addSpecHashTags, SPEC_HASH_TAG } from "../../../src/render/spec-hash.js";

const V = "20261126";
const ctx: DiffContext = {
  envName: "e2e",
  paths: { cluster: "build/e2e/cluster.yaml", nodegroups: "build/e2e/nodegroups.yaml", kubeconfig: "build/e2e/kubeconfig" },
  versionOf: (name) => /^worker-1[a-z]-([a-z0-9]+)$/.exec(name)?.[1],
};

/** What both sides say of each nodegroup unless a case changes it. */
const SIZES = { managed: false, minSize: 1, maxSize: 3, desiredCapacity: 1 };

/** eksctl's argv on the cases' cluster: `eksctl <command...> --cluster e2e --region us-east-1 <flags...>`. */
const eksctlOnCluster = (command: string[], ...flags: string[]) => [
  "eksctl",
  ...command,
  "--cluster",
  "e2e",
  "--region",
  "us-east-1",
  ...flags,
];
/** Draining and deleting one nodegroup. */
const deleteNodegroup = (name: string) => eksctlOnCluster(["delete", "nodegroup"], "--name", name, "--drain", "--approve", "--wait");
/** `aws <command...> <flags...> --region us-east-1`. */
const awsInRegion = (command: string[], ...flags: string[]) => ["aws", ...command, ...flags, "--region", "us-east-1"];
/** `aws eks <command> <clusterFlag> e2e --region us-east-1 <flags...>`: the EKS calls that name the cluster first. */
const awsEksOnCluster = (command: string, clusterFlag: "--name" | "--cluster-name", ...flags: string[]) => [
  "aws",
  "eks",
  command,
  clusterFlag,
  "e2e",
  "--region",
  "us-east-1",
  ...flags,
];
const CLUSTER_ARN = "arn:aws:eks:us-east-1:1:cluster/e2e";

function desired(): DesiredState {
  return {
    cluster: {
      name: "e2e",
      region: "us-east-1",
      version: "1.34",
      logging: ["api", "audit"],
      logRetentionInDays: 7,
      privateAccess: true,
      publicAccess: true,
      publicAccessCIDRs: [],
      tags: { team: "web" },
      subnetIds: [],
    },
    workerVersion: V,
    nodegroups: ["a", "b"].map((z) => ({
      name: `worker-1${z}-${V}`,
      ...SIZES,
      labels: { role: "worker" },
      taints: [],
      specHash: "h1",
    })),
    serviceAccounts: [{ namespace: "kube-system", name: "external-dns", policies: ["arn:p1"], overrideExisting: false }],
    addons: [{ name: "vpc-cni", version: "latest", configurationValues: "" }],
  };
}

function live(): LiveState {
  return {
    cluster: {
      name: "e2e",
      arn: CLUSTER_ARN,
      version: "1.34",
      logging: ["audit", "api"],
      logRetentionInDays: 7,
      privateAccess: true,
      publicAccess: true,
      publicAccessCIDRs: ["0.0.0.0/0"],
      tags: { team: "web", "alpha.eksctl.io/cluster-name": "e2e" },
      subnetIds: ["subnet-1"],
    },
    nodegroups: ["a", "b"].map((z) => ({
      name: `worker-1${z}-${V}`,
      ...SIZES,
      specHash: "h1",
    })),
    serviceAccounts: [{ namespace: "kube-system", name: "external-dns", policies: ["arn:p1"] }],
    addons: [{ name: "vpc-cni", version: "v1.19.0-eksbuild.1", configurationValues: "" }],
  };
}

const summary = (changes: ReturnType<typeof diff>) => changes.map((c) => `${c.kind} ${c.resource} ${c.field}`);

describe("converge diff", () => {
  it("finds nothing when live is as configured (defaults, order and eksctl's own tags aside)", () => {
    expect(diff(desired(), live(), ctx)).toEqual([]);
  });

  it("nodegroup maxSize: one in-place change per nodegroup, with eksctl scale nodegroup", () => {
    const d = desired();
    for (const ng of d.nodegroups) ng.maxSize = 5;
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual([`inPlace nodegroup worker-1a-${V} maxSize`, `inPlace nodegroup worker-1b-${V} maxSize`]);
    expect(changes[0]).toMatchObject({ live: 3, wanted: 5, destructive: false, key: "worker.maxSize" });
    expect(changes[0]!.argv).toEqual(eksctlOnCluster(["scale", "nodegroup"], "--name", `worker-1a-${V}`, "--nodes-min=1", "--nodes-max=5"));
  });

  it("desiredCapacity is reported, not applied, unless asked for", () => {
    const l = live();
    l.nodegroups[0]!.desiredCapacity = 2;
    const [change] = diff(desired(), l, ctx);
    expect(change).toMatchObject({ field: "desiredCapacity", live: 2, wanted: 1, reportOnly: true });
    expect(change!.argv).toBeUndefined();
    const [reset] = diff(desired(), l, { ...ctx, resetDesired: true });
    expect(reset!.reportOnly).toBe(false);
    expect(reset!.argv).toContain("--nodes=1");
  });

  it("control-plane logging: the whole set, enabled and disabled, in one eksctl command", () => {
    const d = desired();
    d.cluster.logging = ["api"];
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual(["inPlace cluster e2e logging"]);
    expect(changes[0]!.argv).toEqual(
      eksctlOnCluster(
        ["utils", "update-cluster-logging"],
        "--enable-types=api",
        "--disable-types=audit,authenticator,controllerManager,scheduler",
        "--approve",
      ),
    );
    d.cluster.logging = [];
    expect(diff(d, live(), ctx)[0]!.argv).toContain("--disable-types=all");
  });

  it("log retention: put-retention-policy on the control plane's log group", () => {
    const l = live();
    l.cluster!.logRetentionInDays = null;
    const changes = diff(desired(), l, ctx);
    expect(summary(changes)).toEqual(["inPlace cluster e2e logRetentionInDays"]);
    expect(changes[0]!.argv).toEqual(
      awsInRegion(["logs", "put-retention-policy"], "--log-group-name", "/aws/eks/e2e/cluster", "--retention-in-days", "7"),
    );
  });

  it("endpoint access and public CIDRs share one update-cluster-vpc-config", () => {
    const d = desired();
    d.cluster.publicAccessCIDRs = ["203.0.113.0/24"];
    d.cluster.privateAccess = false;
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual(["inPlace cluster e2e endpoint.privateAccess", "inPlace cluster e2e endpoint.publicAccessCIDRs"]);
    expect(commandsOf(changes)).toEqual([
      eksctlOnCluster(
        ["utils", "update-cluster-vpc-config"],
        "--private-access=false",
        "--public-access=true",
        "--public-access-cidrs=203.0.113.0/24",
        "--approve",
      ),
    ]);
  });

  it("cluster tags: only the configured keys, set with aws eks tag-resource", () => {
    const d = desired();
    d.cluster.tags = { team: "api", cost: "1" };
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual(["inPlace cluster e2e tags.team", "inPlace cluster e2e tags.cost"]);
    expect(changes[0]!.argv).toEqual(
      awsInRegion(["eks", "tag-resource"], "--resource-arn", CLUSTER_ARN, "--tags", '{"team":"api","cost":"1"}'),
    );
  });

  it("extra cluster tags: the config's unnamed ones, destructive, removed in one untag-resource; AWS's, eksctl's and eksbox's are not", () => {
    const l = live();
    l.cluster!.tags = {
      ...l.cluster!.tags,
      owner: "bob",
      "cost-center": "7",
      "aws:cloudformation:stack-name": "eksctl-e2e-cluster",
      "eksctl.cluster.k8s.io/v1alpha1/cluster-name": "e2e",
      "alpha.eksctl.io/eksctl-version": "0.230.0",
      "eksbox.io/roll-target": V,
      // Left by karpenter mode after a switch back: the Karpenter controller stays, and so does its tag.
      "karpenter.sh/discovery": "e2e",
    };
    const changes = diff(desired(), l, ctx);
    expect(summary(changes)).toEqual(["extra cluster e2e tags.cost-center", "extra cluster e2e tags.owner"]);
    expect(changes.every((c) => c.destructive)).toBe(true);
    expect(commandsOf(changes)).toEqual([
      awsInRegion(["eks", "untag-resource"], "--resource-arn", CLUSTER_ARN, "--tag-keys", "cost-center", "owner"),
    ]);
  });

  it("gitops: the branch and path Flux holds against the config, bootstrapped again with the config's flags", () => {
    const d = desired();
    d.gitops = desiredGitops(
      { provider: "github", owner: "Example", repository: "fleet", branch: "release", path: "clusters/e2e", personal: false },
      "e2e",
    );
    const l = live();
    l.gitops = { url: "ssh://git@github.com/example/fleet", branch: "main", path: "./clusters/e2e" };
    const changes = diff(d, l, ctx);
    expect(summary(changes)).toEqual(["inPlace gitops flux-system branch"]);
    expect(changes[0]).toMatchObject({ live: "main", wanted: "release", key: "gitops.branch" });
    expect(commandsOf(changes)).toEqual([
      ["flux", "bootstrap", "github", "--owner=Example", "--repository=fleet", "--branch=release", "--path=clusters/e2e"],
    ]);
    l.gitops = { url: "https://github.com/example/fleet.git", branch: "release", path: "./clusters/other/" };
    expect(summary(diff(d, l, ctx))).toEqual(["inPlace gitops flux-system path"]);
    l.gitops = { url: "ssh://git@gitlab.com/example/fleet", branch: "release", path: "clusters/e2e" };
    expect(summary(diff(d, l, ctx))).toEqual(["inPlace gitops flux-system repository"]);
    l.gitops = {};
    expect(summary(diff(d, l, ctx))).toEqual(["create gitops flux-system (flux)"]);
    l.gitops = { unread: "build/e2e/kubeconfig is not written yet" };
    expect(diff(d, l, ctx)[0]!.note).toMatch(/not read \(build\/e2e\/kubeconfig is not written yet\)/);
  });

  it("gitops gone from the config: a live Flux is an extra, destructive, uninstalled by flux uninstall --silent; none without a live Flux", () => {
    const l = live();
    l.gitops = { url: "ssh://git@github.com/example/fleet", branch: "main", path: "./clusters/e2e" };
    const changes = diff(desired(), l, ctx);
    expect(summary(changes)).toEqual(["extra gitops flux-system (flux)"]);
    expect(changes[0]).toMatchObject({
      step: "gitops",
      destructive: true,
      live: "ssh://git@github.com/example/fleet main clusters/e2e",
      wanted: null,
      key: "gitops",
    });
    expect(changes[0]!.reportOnly).toBeUndefined();
    expect(commandsOf(changes)).toEqual([["flux", "uninstall", "--silent", "--kubeconfig=build/e2e/kubeconfig"]]);
    expect(describeChange(changes[0]!)).toMatch(
      /^- gitops flux-system \(extra, destructive\): Flux runs but the config has no gitops: --prune uninstalls it/,
    );
    for (const gitops of [{}, { unread: "build/e2e/kubeconfig is not written yet" }, undefined]) {
      l.gitops = gitops;
      expect(diff(desired(), l, ctx)).toEqual([]);
    }
  });

  it("gitops: one repository whatever the URL's form", () => {
    expect(gitLocation("ssh://git@GitHub.com:22/example/fleet.git")).toBe("github.com/example/fleet");
    expect(gitLocation("git@github.com:example/fleet.git")).toBe("github.com/example/fleet");
    expect(gitLocation("https://user@git.example.com/team/fleet/")).toBe("git.example.com/team/fleet");
    const git = desiredGitops({ provider: "git", url: "https://git.example.com/Team/fleet.git", branch: "main", personal: false }, "e2e");
    expect(git).toMatchObject({ repository: "git.example.com/Team/fleet", caseInsensitive: false, path: "clusters/e2e" });
  });

  it("a new zone is a zoneAdd, created with the missing nodegroups only", () => {
    const d = desired();
    d.nodegroups.push({ ...d.nodegroups[0]!, name: `worker-1c-${V}` });
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual([`zoneAdd nodegroup worker-1c-${V} (nodegroup)`]);
    expect(changes[0]!.argv).toEqual(["eksctl", "create", "nodegroup", "-f", "build/e2e/nodegroups.yaml", `--include=worker-1c-${V}`]);
  });

  describe("node pools", () => {
    const W = "20261201";
    const poolCtx: DiffContext = {
      ...ctx,
      versionOf: (name) => /^(?:system|workers-1[a-z])-([a-z0-9]+)$/.exec(name)?.[1],
      poolOf: (name) => /^(system|workers)-/.exec(name)?.[1],
    };
    const group = (name: string, pool: string) => ({ name, ...SIZES, managed: pool === "system", specHash: `h-${pool}` });
    function pools(): { d: DesiredState; l: LiveState } {
      const d = desired();
      const l = live();
      // system: one group across the zones (perZone false) at V; workers: per zone, at their own version W.
      d.nodegroups = [
        { ...group(`system-${V}`, "system"), labels: {}, taints: [], version: V, pool: "system", configKey: "nodePools.system" },
        ...["a", "b"].map((z) => ({
          ...group(`workers-1${z}-${W}`, "workers"),
          labels: {},
          taints: [],
          version: W,
          pool: "workers",
          configKey: "nodePools.workers",
        })),
      ];
      d.workerVersion = `system ${V}, workers ${W}`;
      l.nodegroups = [group(`system-${V}`, "system"), ...["a", "b"].map((z) => group(`workers-1${z}-${W}`, "workers"))];
      l.nodegroups[0]!.labels = {};
      l.nodegroups[0]!.taints = [];
      return { d, l };
    }

    it("an unchanged environment of pools at different versions plans clean", () => {
      const { d, l } = pools();
      expect(diff(d, l, poolCtx)).toEqual([]);
    });

    it("changes name the pool's key (nodePools.<pool>.<field>), not worker's", () => {
      const { d, l } = pools();
      d.nodegroups[0]!.maxSize = 5;
      d.nodegroups[0]!.labels = { role: "system" };
      d.nodegroups[0]!.taints = [{ key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule" }];
      d.nodegroups[1]!.minSize = 2;
      d.nodegroups[1]!.desiredCapacity = 2;
      const keys = diff(d, l, poolCtx).map((c) => `${c.resource} ${c.field} ${c.key}`);
      expect(keys).toEqual([
        `nodegroup system-${V} maxSize nodePools.system.maxSize`,
        `nodegroup system-${V} labels nodePools.system.labels`,
        `nodegroup system-${V} taints nodePools.system.taints`,
        `nodegroup workers-1a-${W} minSize nodePools.workers.minSize`,
        `nodegroup workers-1a-${W} desiredCapacity nodePools.workers.desiredCapacity`,
      ]);
    });

    it("a zone removed from one pool is a zoneRemove; a pool gone from the nodegroups is left to --prune", () => {
      const { d, l } = pools();
      d.nodegroups = d.nodegroups.filter((ng) => ng.name !== `workers-1b-${W}`);
      const removed = diff(d, l, poolCtx);
      expect(summary(removed)).toEqual([`zoneRemove nodegroup workers-1b-${W} (nodegroup)`]);
      expect(removed[0]).toMatchObject({ key: "nodePools.workers.zones", note: expect.stringContaining("nodePools.workers.zones") });
      const gone = pools();
      gone.d.nodegroups = gone.d.nodegroups.filter((ng) => ng.pool !== "system");
      gone.d.workerVersion = W;
      gone.l.nodegroups[0]!.name = `system-${W}`;
      expect(summary(diff(gone.d, gone.l, poolCtx))).toEqual([`extra nodegroup system-${W} (nodegroup)`]);
    });

    it("a switch to karpenter: the old nodegroups of the pool Karpenter provisions now are modeSwitch changes, with the NodePool they wait for", () => {
      const { d, l } = pools();
      // karpenter mode: workers is a NodePool now, so only system renders as a nodegroup, and only its naming is "ours".
      d.nodegroups = d.nodegroups.filter((ng) => ng.pool === "system");
      const karpenterCtx: DiffContext = {
        ...poolCtx,
        versionOf: (name) => /^system-([a-z0-9]+)$/.exec(name)?.[1],
        switchedPoolOf: (name) => /^(workers)-1[a-z]-/.exec(name)?.[1],
      };
      const changes = diff(d, l, karpenterCtx);
      expect(summary(changes)).toEqual([
        "create nodepool workers (nodepool)",
        `modeSwitch nodegroup workers-1a-${W} (nodegroup)`,
        `modeSwitch nodegroup workers-1b-${W} (nodegroup)`,
      ]);
      expect(changes.every((c) => c.step === "capacity" && !c.reportOnly)).toBe(true);
      expect(changes.filter((c) => c.destructive).map((c) => c.key)).toEqual(["autoscaling.mode", "autoscaling.mode"]);
      expect(commandsOf(changes)).toEqual(["a", "b"].map((z) => deleteNodegroup(`workers-1${z}-${W}`)));
      // Once they are gone, nothing is left to switch.
      l.nodegroups = l.nodegroups.filter((ng) => !ng.name.startsWith("workers-"));
      expect(diff(d, l, karpenterCtx)).toEqual([]);
    });

    it("back to clusterAutoscaler: the pool's nodegroups are created, eksbox's NodePool left live is a modeSwitch removal", () => {
      const { d, l } = pools();
      // karpenter ran workers: only system is a live nodegroup; the config (clusterAutoscaler) wants workers' nodegroups again.
      l.nodegroups = l.nodegroups.filter((ng) => ng.name.startsWith("system-"));
      const backCtx: DiffContext = { ...poolCtx, leftoverNodePools: ["workers"] };
      const changes = diff(d, l, backCtx);
      expect(summary(changes)).toEqual([
        `zoneAdd nodegroup workers-1a-${W} (nodegroup)`,
        `zoneAdd nodegroup workers-1b-${W} (nodegroup)`,
        "modeSwitch nodepool workers (nodepool)",
      ]);
      const [removal] = changes.filter((c) => c.step === "capacity");
      expect(removal).toMatchObject({ destructive: true, key: "autoscaling.mode", live: "workers", wanted: null });
      expect(removal!.note).toMatch(/once its nodegroups have Ready nodes; the Karpenter controller \(eksctl's karpenter: block\) stays/);
      expect(commandsOf([removal!])).toEqual([
        [
          "kubectl",
          "--kubeconfig",
          poolCtx.paths.kubeconfig,
          "delete",
          "nodepools.karpenter.sh,ec2nodeclasses.karpenter.k8s.aws",
          "-l",
          "app.kubernetes.io/managed-by=eksbox",
          "--ignore-not-found",
          "--wait=false",
        ],
      ]);
      // Once the NodePool is gone (and the nodegroups are there), nothing is left to switch.
      expect(diff(d, pools().l, { ...poolCtx, leftoverNodePools: [] })).toEqual([]);
    });
  });

  it("a zone removed is destructive: drain and delete its nodegroup", () => {
    const d = desired();
    d.nodegroups.pop();
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual([`zoneRemove nodegroup worker-1b-${V} (nodegroup)`]);
    expect(changes[0]).toMatchObject({ destructive: true, key: "worker.zones" });
    expect(changes[0]!.argv).toEqual(deleteNodegroup(`worker-1b-${V}`));
  });

  it("a changed launch spec is a roll, with no command", () => {
    const d = desired();
    for (const ng of d.nodegroups) ng.specHash = "h2";
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual([`roll nodegroup worker-1a-${V} launch spec`, `roll nodegroup worker-1b-${V} launch spec`]);
    expect(commandsOf(changes)).toEqual([]);
  });

  it("a nodegroup without a recorded spec is not taken for a roll", () => {
    const l = live();
    delete l.nodegroups[0]!.specHash;
    expect(diff(desired(), l, ctx)).toEqual([]);
  });

  it("managed labels and taints change in place with update-nodegroup-config; eksctl's own labels are ignored", () => {
    const d = desired();
    const l = live();
    for (const ng of d.nodegroups) {
      ng.managed = true;
      ng.labels = { role: "worker", tier: "web" };
      ng.taints = [{ key: "dedicated", value: "web", effect: "NoSchedule" }];
    }
    for (const ng of l.nodegroups) {
      ng.managed = true;
      ng.labels = { role: "worker", old: "x", "alpha.eksctl.io/nodegroup-name": ng.name };
      ng.taints = [];
    }
    const changes = diff(d, l, ctx).filter((c) => c.resource.endsWith(`1a-${V}`));
    expect(summary(changes)).toEqual([`inPlace nodegroup worker-1a-${V} labels`, `inPlace nodegroup worker-1a-${V} taints`]);
    const argv = changes[0]!.argv!;
    expect(argv.slice(0, 8)).toEqual([
      "aws",
      "eks",
      "update-nodegroup-config",
      "--cluster-name",
      "e2e",
      "--nodegroup-name",
      `worker-1a-${V}`,
      "--region",
    ]);
    expect(JSON.parse(argv[argv.indexOf("--labels") + 1]!)).toEqual({ addOrUpdateLabels: { tier: "web" }, removeLabels: ["old"] });
    expect(JSON.parse(argv[argv.indexOf("--taints") + 1]!)).toEqual({
      addOrUpdateTaints: [{ key: "dedicated", value: "web", effect: "NO_SCHEDULE" }],
    });
  });

  it("a live nodegroup of an older version is an extra (prune or roll), one not of our naming is left alone", () => {
    const l = live();
    l.nodegroups.push({ name: "worker-1a-20250101", ...SIZES });
    l.nodegroups.push({ name: "someone-elses", ...SIZES });
    const changes = diff(desired(), l, ctx);
    expect(summary(changes)).toEqual(["extra nodegroup worker-1a-20250101 (nodegroup)"]);
    expect(changes[0]!.destructive).toBe(true);
  });

  it("a new worker version creates the new nodegroups beside the old ones (kind create), the old are extras", () => {
    const d = desired();
    d.workerVersion = "20261201";
    d.nodegroups = d.nodegroups.map((ng) => ({ ...ng, name: ng.name.replace(V, "20261201") }));
    const kinds = summary(diff(d, live(), ctx));
    expect(kinds).toEqual([
      "create nodegroup worker-1a-20261201 (nodegroup)",
      "create nodegroup worker-1b-20261201 (nodegroup)",
      `extra nodegroup worker-1a-${V} (nodegroup)`,
      `extra nodegroup worker-1b-${V} (nodegroup)`,
    ]);
  });

  it("service accounts: missing are created, policies differing are updated, unknown ones are extras", () => {
    const d = desired();
    d.serviceAccounts[0]!.policies = ["arn:p1", "arn:p2"];
    d.serviceAccounts.push({ namespace: "apps", name: "s3", policies: ["arn:s3"], overrideExisting: true });
    const l = live();
    l.serviceAccounts.push({ namespace: "old", name: "gone", policies: [] });
    const changes = diff(d, l, ctx);
    expect(summary(changes)).toEqual([
      "create serviceaccount apps/s3 (serviceaccount)",
      "inPlace serviceaccount kube-system/external-dns attachPolicyARNs",
      "extra serviceaccount old/gone (serviceaccount)",
    ]);
    expect(changes[0]!.argv).toEqual([
      "eksctl",
      "create",
      "iamserviceaccount",
      "-f",
      "build/e2e/cluster.yaml",
      "--include=apps/s3",
      "--approve",
      "--override-existing-serviceaccounts",
    ]);
    expect(changes[1]!.argv).toEqual([
      "eksctl",
      "update",
      "iamserviceaccount",
      "-f",
      "build/e2e/cluster.yaml",
      "--include=kube-system/external-dns",
      "--approve",
    ]);
    expect(changes[2]!.argv).toEqual(
      eksctlOnCluster(["delete", "iamserviceaccount"], "--namespace", "old", "--name", "gone", "--approve", "--wait"),
    );
  });

  it("addons: missing created, version and configuration updated from the file, extras reported", () => {
    const d = desired();
    d.addons = [
      { name: "vpc-cni", version: "v1.20.0", configurationValues: '{"env":{"A":"1"}}' },
      { name: "coredns", version: "latest", configurationValues: "" },
    ];
    const l = live();
    l.addons.push({ name: "kube-proxy", version: "v1", configurationValues: "" });
    const changes = diff(d, l, ctx);
    expect(summary(changes)).toEqual([
      "inPlace addon vpc-cni version",
      "inPlace addon vpc-cni configurationValues",
      "create addon coredns (addon)",
      "extra addon kube-proxy (addon)",
    ]);
    expect(commandsOf(changes)).toEqual([
      ["eksctl", "update", "addon", "-f", "build/e2e/cluster.yaml"],
      eksctlOnCluster(["create", "addon"], "--name", "coredns", "--version=latest"),
      eksctlOnCluster(["delete", "addon"], "--name", "kube-proxy"),
    ]);
  });

  it("addon latest: differs only when EKS offers a newer version; configuration compares JSON by value", () => {
    const l = live();
    l.addons[0]!.newerVersion = "v1.20.0-eksbuild.1";
    expect(summary(diff(desired(), l, ctx))).toEqual(["inPlace addon vpc-cni version"]);
    const d = desired();
    d.addons[0]!.configurationValues = '{ "a": 1, "b": 2 }';
    const l2 = live();
    l2.addons[0]!.configurationValues = '{"b":2,"a":1}';
    expect(diff(d, l2, ctx)).toEqual([]);
  });

  it("other subnets are immutable, with the key and the reason; the version points to upgrade", () => {
    const d = desired();
    d.cluster.subnetIds = ["subnet-9"];
    d.cluster.version = "1.35";
    const changes = diff(d, live(), ctx);
    expect(summary(changes)).toEqual(["immutable cluster e2e subnets", "version cluster e2e version"]);
    expect(changes[0]).toMatchObject({ key: "cluster.vpc.subnets", live: ["subnet-1"], wanted: ["subnet-9"] });
    expect(changes[0]!.note).toMatch(/fixed when eksctl creates it/);
    expect(changes[1]!.note).toMatch(/eksbox upgrade --env e2e/);
  });

  it("no cluster: everything is created, the cluster first", () => {
    const changes = diff(desired(), { nodegroups: [], serviceAccounts: [], addons: [] }, ctx);
    expect(summary(changes)).toEqual([
      "create cluster e2e (cluster)",
      `create nodegroup worker-1a-${V} (nodegroup)`,
      `create nodegroup worker-1b-${V} (nodegroup)`,
      "create serviceaccount kube-system/external-dns (serviceaccount)",
    ]);
  });

  it("describes a change on one line", () => {
    const d = desired();
    d.nodegroups[0]!.maxSize = 5;
    expect(describeChange(diff(d, live(), ctx)[0]!)).toBe(`~ nodegroup worker-1a-${V} maxSize: 3 → 5 (inPlace)`);
  });
});

describe("nodegroup spec hash", () => {
  const ng = {
    name: "worker-1a-1",
    minSize: 1,
    maxSize: 3,
    desiredCapacity: 1,
    availabilityZones: ["us-east-1a"],
    instanceType: "m5.large",
    labels: { a: "b" },
    tags: { t: "1" },
  };

  it("ignores what changes in place (name, zone, sizes; labels and taints of managed nodegroups)", () => {
    const base = nodegroupSpecHash(ng, false);
    expect(
      nodegroupSpecHash(
        { ...ng, name: "worker-1b-2", availabilityZones: ["us-east-1b"], minSize: 2, maxSize: 9, desiredCapacity: 4 },
        false,
      ),
    ).toBe(base);
    expect(nodegroupSpecHash({ ...ng, tags: { ...ng.tags, [SPEC_HASH_TAG]: "x" } }, false)).toBe(base);
    expect(nodegroupSpecHash({ ...ng, labels: { a: "c" } }, true)).toBe(nodegroupSpecHash(ng, true));
  });

  it("changes with what a launch template holds", () => {
    const base = nodegroupSpecHash(ng, false);
    expect(nodegroupSpecHash({ ...ng, instanceType: "c5.large" }, false)).not.toBe(base);
    expect(nodegroupSpecHash({ ...ng, labels: { a: "c" } }, false)).not.toBe(base);
    expect(nodegroupSpecHash({ ...ng, volumeSize: 50 }, false)).not.toBe(base);
  });

  it("is written as a tag of each nodegroup, in the document and the text", () => {
    const text = "nodeGroups:\n# keep me\n- name: worker-1a-1\n  instanceType: m5.large\n";
    const document = { nodeGroups: [{ name: "worker-1a-1", instanceType: "m5.large" }] };
    const tagged = addSpecHashTags(text, document);
    const hash = tagged.hashes.get("worker-1a-1")!;
    expect(hash).toMatch(/^[0-9a-f]{16}$/);
    expect(document.nodeGroups[0]).toMatchObject({ tags: { [SPEC_HASH_TAG]: hash } });
    expect(tagged.text).toContain("# keep me");
    expect(parse(tagged.text)).toEqual({
      nodeGroups: [{ name: "worker-1a-1", instanceType: "m5.large", tags: { [SPEC_HASH_TAG]: hash } }],
    });
  });
});

describe("converge diff: identity", () => {
  it("identity: a pod identity association, an access entry and the upgrade policy that differ are changes of their steps; extras only reported", () => {
    const role = (name: string) => `arn:aws:iam::111122223333:role/${name}`;
    const admin = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
    const d = desired();
    d.identity = {
      podIdentityAssociations: [
        { namespace: "apps", serviceAccountName: "dns", roleARN: role("dns-v2"), attachPolicyARNs: [], createServiceAccount: false },
      ],
      access: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: true,
        entries: [
          {
            principalARN: role("ops"),
            kubernetesGroups: ["ops"],
            accessPolicies: [{ policyARN: admin, accessScope: { type: "cluster", namespaces: [] } }],
          },
        ],
      },
      supportType: "STANDARD",
      agentAddon: true,
    };
    const l = live();
    l.cluster!.supportType = "EXTENDED";
    l.identity = {
      podIdentityAssociations: [{ namespace: "apps", serviceAccount: "dns", roleArn: role("dns") }],
      access: {
        authenticationMode: "API_AND_CONFIG_MAP",
        entries: [
          { principalARN: role("ops"), kubernetesGroups: [], accessPolicies: [{ policyARN: admin, accessScope: { type: "cluster" } }] },
          { principalARN: role("creator"), kubernetesGroups: [], accessPolicies: [] },
        ],
      },
    };
    const changes = diff(d, l, ctx);
    expect(changes.map((c) => `${c.step}: ${c.kind} ${c.resource} ${c.field}`)).toEqual([
      "podidentity: inPlace podidentityassociation/apps/dns roleARN",
      "access: oneWay cluster/e2e authenticationMode",
      `access: inPlace accessentry/${role("ops")} kubernetesGroups`,
      `access: extra accessentry/${role("creator")} entry`,
      "support: inPlace cluster/e2e upgradePolicy.supportType",
    ]);
    // The one-way switch stays destructive; the extra entry is kept, so it is no drift to act on.
    expect(changes.filter((c) => c.destructive).map((c) => c.field)).toEqual(["authenticationMode"]);
    expect(changes.filter((c) => c.reportOnly).map((c) => c.kind)).toEqual(["extra"]);
    expect(commandsOf(changes)).toEqual([
      eksctlOnCluster(
        ["update", "podidentityassociation"],
        "--namespace",
        "apps",
        "--service-account-name",
        "dns",
        "--role-arn",
        role("dns-v2"),
      ),
      awsEksOnCluster("update-cluster-config", "--name", "--access-config", "authenticationMode=API", "--output", "json"),
      awsEksOnCluster("update-access-entry", "--cluster-name", "--principal-arn", role("ops"), "--kubernetes-groups", "ops"),
      awsEksOnCluster("update-cluster-config", "--name", "--upgrade-policy", "supportType=STANDARD", "--output", "json"),
    ]);
    // A missing association brings the agent addon when the cluster has none.
    l.identity.podIdentityAssociations = [];
    expect(summary(diff(d, l, ctx).filter((c) => c.step === "podidentity"))).toEqual([
      "create addon/eks-pod-identity-agent addon",
      "create podidentityassociation/apps/dns association",
    ]);
  });
});
