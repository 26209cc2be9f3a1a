// A fake of the Toolbox interface for unit tests of the lifecycle logic: it answers the commands
// the steps run (aws, eksctl, kubectl, flux) from an in-memory world, records every argv, and can
// fail a command once on request. The end-to-end tests use the real runtime, moto and the test
// doubles instead; this is for fast, exhaustive checks of decisions and resumption.
// Access entries and the cluster's authenticationMode are answered as EKS and eksctl do, with their
// refusals (going back a mode, entries on a CONFIG_MAP cluster, an entry that exists). An authenticationMode
// update is asynchronous as in EKS: InProgress (the cluster UPDATING, the old mode still in force, another
// update-cluster-config refused with ResourceInUseException) until it is done. Where it departs: it is done
// at its second describe-update (EKS: minutes later, described or not), Successful or as failUpdate asked;
// and eksctl's per-entry CloudFormation stack is only a mark on the entry.
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import type { ImageInfo, Toolbox, ToolboxRunRequest, ToolboxRunResult } from "../../../src/runtime/types.js";
import { StepFailedError } from "../../../src/core/errors.js";

export interface FakeNodegroup {
  name: string;
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  type: "managed" | "unmanaged";
  tags?: Record<string, string>;
  labels?: Record<string, string>;
}

/** What describe-cluster says beyond status and version, as eksctl create cluster left it. */
export interface FakeClusterSettings {
  logging: string[];
  privateAccess: boolean;
  publicAccess: boolean;
  publicAccessCidrs: string[];
  subnetIds: string[];
  tags: Record<string, string>;
  addons: Map<string, string>;
}

export interface FakeAccessPolicy {
  type: string;
  namespaces: string[];
}

/** An access entry as EKS keeps it: its Kubernetes groups and its associated access policies by ARN. */
export interface FakeAccessEntry {
  kubernetesGroups: string[];
  policies: Map<string, FakeAccessPolicy>;
  /** eksctl made it (it has eksctl's stack): eksctl create accessentry -f passes it over. */
  byEksctl: boolean;
}

/** describe-cluster's accessConfig and the cluster's access entries, by principal ARN. */
export interface FakeAccess {
  authenticationMode: string;
  bootstrapClusterCreatorAdminPermissions: boolean;
  entries: Map<string, FakeAccessEntry>;
}

const AUTHENTICATION_MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];
const CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

interface AccessEntryDoc {
  principalARN: string;
  kubernetesGroups?: string[];
  accessPolicies?: { policyARN: string; accessScope?: { type?: string; namespaces?: string[] } }[];
}

interface ClusterDoc {
  metadata: { name: string; version: string; tags?: Record<string, string> };
  accessConfig?: { authenticationMode?: string; bootstrapClusterCreatorAdminPermissions?: boolean; accessEntries?: AccessEntryDoc[] };
  cloudWatch?: { clusterLogging?: { enableTypes?: string[] } };
  vpc?: {
    clusterEndpoints?: { privateAccess?: boolean; publicAccess?: boolean };
    publicAccessCIDRs?: string[];
    subnets?: Record<string, Record<string, { id: string }>>;
  };
  addons?: { name: string; version?: string }[];
  iam?: { serviceAccounts?: { metadata: { name: string; namespace: string }; attachPolicyARNs?: string[] }[] };
}

function settingsFrom(doc: ClusterDoc): FakeClusterSettings {
  return {
    logging: doc.cloudWatch?.clusterLogging?.enableTypes ?? [],
    privateAccess: doc.vpc?.clusterEndpoints?.privateAccess ?? false,
    publicAccess: doc.vpc?.clusterEndpoints?.publicAccess ?? true,
    publicAccessCidrs: doc.vpc?.publicAccessCIDRs ?? ["0.0.0.0/0"],
    subnetIds: Object.values(doc.vpc?.subnets ?? {}).flatMap((byZone) => Object.values(byZone).map((s) => s.id)),
    tags: doc.metadata.tags ?? {},
    addons: new Map((doc.addons ?? []).map((a) => [a.name, a.version === "latest" || !a.version ? "v1.0.0-eksbuild.1" : a.version])),
  };
}

export class FakeCloud implements Toolbox {
  readonly image: ImageInfo = { ref: "fake-toolbox:test", id: "sha256:fake", tools: { eksctl: "fake" } };
  account = "123456789012";
  zones = ["ap-northeast-1a", "ap-northeast-1b", "ap-northeast-1c", "ap-northeast-1d"];
  subnets = new Map<string, string>(); // id -> zone
  clusters = new Map<
    string,
    { status: string; version: string; tags?: Record<string, string>; settings?: FakeClusterSettings; access?: FakeAccess }
  >();
  nodegroups = new Map<string, FakeNodegroup>();
  serviceAccounts = new Set<string>();
  /** Managed policies of each service account's role, by namespace/name. */
  policies = new Map<string, string[]>();
  fluxBootstrapped = false;
  /** What the last flux bootstrap left in the GitRepository and Kustomization flux-system. */
  fluxSettings = { url: "", branch: "", path: "" };
  /** Nodegroups whose nodes never become Ready. */
  notReady = new Set<string>();
  calls: string[][] = [];
  /** The EKS updates update-cluster-config started, by id. */
  updates = new Map<string, FakeUpdate>();
  /** The next update ends Failed with these errors (as EKS's describe-update lists them), its change not made. */
  failUpdate?: { errorCode: string; errorMessage: string }[];
  private failures: { match: (argv: string) => boolean; once: boolean }[] = [];

  constructor(private readonly projectRoot: string) {}

  /** The next command whose argv (joined by spaces) contains `fragment` exits 1. */
  failOnce(fragment: string): void {
    this.failures.push({ match: (argv) => argv.includes(fragment), once: true });
  }

  /** The commands that change something, in order. */
  mutations(): string[][] {
    return this.calls.filter(
      ([tool, verb]) =>
        (tool === "eksctl" && ["create", "delete", "utils"].includes(verb!)) ||
        (tool === "flux" && ["bootstrap", "uninstall"].includes(verb!)),
    );
  }

  async runOrFail(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    const result = await this.run(request);
    if (result.exitCode !== 0)
      throw new StepFailedError({ step: request.step, argv: request.argv, exitCode: result.exitCode, outputTail: result.outputTail });
    return result;
  }

  /** Files the steps shared with the toolbox (shareFiles), in order. */
  shared: string[] = [];
  async shareFiles(paths: readonly string[]): Promise<void> {
    this.shared.push(...paths);
  }

  async dispose(): Promise<void> {}

  async run(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    const argv = [...request.argv];
    this.calls.push(argv);
    const joined = argv.join(" ");
    const failure = this.failures.find((f) => f.match(joined));
    if (failure) {
      this.failures.splice(this.failures.indexOf(failure), 1);
      return { exitCode: 1, stdout: "", outputTail: [`injected failure: ${joined}`] };
    }
    const ok = (value: unknown = "") => ({
      exitCode: 0,
      stdout: typeof value === "string" ? value : JSON.stringify(value),
      outputTail: [],
    });
    const fail = (message: string) => ({ exitCode: 1, stdout: "", outputTail: [message] });
    const flag = (name: string) => {
      const inline = argv.find((a) => a.startsWith(`${name}=`));
      if (inline) return inline.slice(name.length + 1);
      const i = argv.indexOf(name);
      return i >= 0 ? argv[i + 1] : undefined;
    };
    const clusterName = flag("--cluster") ?? flag("--name");
    const [tool, ...rest] = argv;
    const verb = rest.slice(0, 2).join(" ");

    if (tool === "aws") {
      if (verb === "sts get-caller-identity") return ok({ Account: this.account, Arn: this.callerArn, UserId: "X" });
      if (ACCESS_CALLS.has(verb)) return this.accessCall(verb, argv);
      if (verb === "ec2 describe-availability-zones") return ok({ AvailabilityZones: this.zones.map((ZoneName) => ({ ZoneName })) });
      if (verb === "ec2 describe-subnets") {
        const ids = argv.slice(argv.indexOf("--subnet-ids") + 1).filter((a) => a.startsWith("subnet-"));
        if (ids.some((id) => !this.subnets.has(id))) return fail("An error occurred (InvalidSubnetID.NotFound)");
        return ok({ Subnets: ids.map((SubnetId) => ({ SubnetId, AvailabilityZone: this.subnets.get(SubnetId) })) });
      }
      if (verb === "eks list-clusters") return ok({ clusters: [...this.clusters.keys()] });
      if (verb === "eks list-pod-identity-associations") return ok({ associations: [] });
      if (verb === "eks list-insights") return ok({ insights: [] });
      // As an AWS CLI too old to know the call: the support calendar falls back to eksbox's table.
      if (verb === "eks describe-cluster-versions") return fail("aws: error: argument operation: Invalid choice");
      if (verb === "eks describe-cluster") {
        const c = this.clusters.get(flag("--name")!);
        if (!c) return fail("ResourceNotFoundException");
        // A cluster a test put here by hand is as the rendered config says.
        c.settings ??= await readFile(join(this.projectRoot, "build", "unit", "cluster.yaml"), "utf8").then(
          (text) => settingsFrom(parse(text) as ClusterDoc),
          () => undefined,
        );
        const s = c.settings;
        return ok({
          cluster: {
            name: flag("--name"),
            status: this.updateInProgress(flag("--name")!) ? "UPDATING" : c.status,
            version: c.version,
            endpoint: "https://fake.eks",
            arn: `arn:aws:eks:ap-northeast-1:${this.account}:cluster/${flag("--name")}`,
            tags: { ...c.tags },
            accessConfig: {
              authenticationMode: this.accessOf(c).authenticationMode,
              bootstrapClusterCreatorAdminPermissions: this.accessOf(c).bootstrapClusterCreatorAdminPermissions,
            },
            ...(s
              ? {
                  logging: { clusterLogging: [{ types: s.logging, enabled: true }] },
                  resourcesVpcConfig: {
                    endpointPrivateAccess: s.privateAccess,
                    endpointPublicAccess: s.publicAccess,
                    publicAccessCidrs: s.publicAccessCidrs,
                    subnetIds: s.subnetIds,
                  },
                  tags: { ...s.tags, ...c.tags },
                }
              : {}),
          },
        });
      }
      if (verb === "eks tag-resource" || verb === "eks untag-resource") {
        const c = this.clusters.get(flag("--resource-arn")!.split("/").at(-1)!);
        if (!c) return fail("ResourceNotFoundException");
        c.tags ??= {};
        if (verb === "eks tag-resource") Object.assign(c.tags, JSON.parse(flag("--tags")!) as Record<string, string>);
        else {
          const after = argv.slice(argv.indexOf("--tag-keys") + 1);
          const end = after.findIndex((a) => a.startsWith("--"));
          for (const key of end < 0 ? after : after.slice(0, end)) delete c.tags[key];
        }
        return ok();
      }
      if (verb === "autoscaling describe-auto-scaling-groups") {
        return ok({
          AutoScalingGroups: [...this.nodegroups.values()]
            .filter((ng) => ng.type === "unmanaged")
            .map((ng) => ({
              AutoScalingGroupName: `asg-${ng.name}`,
              MinSize: ng.minSize,
              MaxSize: ng.maxSize,
              DesiredCapacity: ng.desiredCapacity,
              Tags: Object.entries({ ...ng.tags, "alpha.eksctl.io/nodegroup-name": ng.name }).map(([Key, Value]) => ({ Key, Value })),
            })),
        });
      }
      if (verb === "eks describe-nodegroup") {
        const ng = this.nodegroups.get(flag("--nodegroup-name")!);
        if (!ng) return fail("ResourceNotFoundException");
        return ok({
          nodegroup: {
            scalingConfig: { minSize: ng.minSize, maxSize: ng.maxSize, desiredSize: ng.desiredCapacity },
            labels: ng.labels ?? {},
            taints: [],
            tags: ng.tags ?? {},
          },
        });
      }
      if (verb === "iam list-attached-role-policies") {
        const id = flag("--role-name")!.replace(/^sa-/, "").replace("--", "/");
        return ok({ AttachedPolicies: (this.policies.get(id) ?? []).map((PolicyArn) => ({ PolicyArn })) });
      }
    }
    if (tool === "eksctl") {
      if (verb === "create cluster") {
        const doc = parse(await readFile(join(this.projectRoot, flag("-f")!), "utf8")) as ClusterDoc;
        // eksctl's default mode is API_AND_CONFIG_MAP; EKS gives the creator cluster admin unless told not to.
        const authenticationMode = doc.accessConfig?.authenticationMode ?? "API_AND_CONFIG_MAP";
        const bootstrap = doc.accessConfig?.bootstrapClusterCreatorAdminPermissions ?? true;
        const access: FakeAccess = { authenticationMode, bootstrapClusterCreatorAdminPermissions: bootstrap, entries: new Map() };
        if (bootstrap && authenticationMode !== "CONFIG_MAP")
          access.entries.set(this.callerArn, {
            kubernetesGroups: [],
            policies: new Map([[CLUSTER_ADMIN_POLICY, { type: "cluster", namespaces: [] }]]),
            byEksctl: false,
          });
        const entriesFailed = addEntries(access, doc.accessConfig?.accessEntries ?? []);
        if (entriesFailed) return fail(entriesFailed);
        this.clusters.set(doc.metadata.name, { status: "ACTIVE", version: doc.metadata.version, settings: settingsFrom(doc), access });
        for (const sa of doc.iam?.serviceAccounts ?? [])
          this.policies.set(`${sa.metadata.namespace}/${sa.metadata.name}`, sa.attachPolicyARNs ?? []);
        const kubeconfig = flag("--kubeconfig");
        if (kubeconfig) await this.writeKubeconfig(kubeconfig, doc.metadata.name);
        return ok();
      }
      if (verb === "get nodegroup") {
        if (!this.clusters.has(clusterName!)) return fail("No cluster found");
        return ok(
          [...this.nodegroups.values()].map((ng) => ({
            Cluster: clusterName,
            Name: ng.name,
            Status: "CREATE_COMPLETE",
            MinSize: ng.minSize,
            MaxSize: ng.maxSize,
            DesiredCapacity: ng.desiredCapacity,
            InstanceType: "m5.xlarge",
            NodeGroupType: ng.type,
          })),
        );
      }
      if (verb === "create nodegroup") {
        const doc = parse(await readFile(join(this.projectRoot, flag("-f")!), "utf8")) as {
          metadata: { name: string };
          nodeGroups?: {
            name: string;
            desiredCapacity?: number;
            minSize?: number;
            maxSize?: number;
            tags?: Record<string, string>;
            labels?: Record<string, string>;
          }[];
          managedNodeGroups?: {
            name: string;
            desiredCapacity?: number;
            minSize?: number;
            maxSize?: number;
            tags?: Record<string, string>;
            labels?: Record<string, string>;
          }[];
        };
        if (!this.clusters.has(doc.metadata.name)) return fail("cluster does not exist");
        const include = flag("--include")?.split(",");
        const groups = [
          ...(doc.nodeGroups ?? []).map((g) => ({ g, type: "unmanaged" as const })),
          ...(doc.managedNodeGroups ?? []).map((g) => ({ g, type: "managed" as const })),
        ];
        for (const { g, type } of groups) {
          if (include && !include.includes(g.name)) continue;
          this.nodegroups.set(g.name, {
            name: g.name,
            desiredCapacity: g.desiredCapacity ?? 1,
            minSize: g.minSize ?? 1,
            maxSize: g.maxSize ?? 1,
            type,
            tags: g.tags,
            labels: g.labels,
          });
        }
        return ok();
      }
      if (verb === "delete nodegroup") {
        this.nodegroups.delete(flag("--name")!);
        return ok();
      }
      if (verb === "delete cluster") {
        this.clusters.delete(flag("--name")!);
        this.nodegroups.clear();
        this.serviceAccounts.clear();
        this.fluxBootstrapped = false;
        return ok();
      }
      if (verb === "get accessentry") {
        const known = new Set(["--cluster", "--region", "-o", "--output", "--principal-arn"]);
        const unknown = argv.slice(3).filter((a, i, all) => a.startsWith("-") && !known.has(a) && !known.has(all[i - 1] ?? ""));
        if (unknown.length > 0 || (flag("-o") ?? flag("--output")) !== "json") return fail(`fake cloud does not know: ${joined}`);
        const c = this.clusters.get(clusterName!);
        if (!c) return fail(`Error: getting cluster: ResourceNotFoundException: No cluster found for name: ${clusterName}.`);
        const access = this.accessOf(c);
        if (access.authenticationMode === "CONFIG_MAP") return fail(CONFIG_MAP_REFUSAL);
        const principal = flag("--principal-arn");
        const rows = [...access.entries]
          .filter(([arn]) => !principal || arn === principal)
          .map(([principalARN, e]) => ({
            principalARN,
            ...(e.kubernetesGroups.length > 0 ? { kubernetesGroups: e.kubernetesGroups } : {}),
            ...(e.policies.size > 0
              ? {
                  accessPolicies: [...e.policies].map(([policyARN, scope]) => ({
                    policyARN,
                    accessScope: { type: scope.type, ...(scope.namespaces.length > 0 ? { namespaces: scope.namespaces } : {}) },
                  })),
                }
              : {}),
          }));
        return ok(rows);
      }
      if (verb === "create accessentry") {
        if (argv.length !== 5 || argv[3] !== "-f") return fail(`fake cloud does not know: ${joined}`);
        const doc = parse(await readFile(join(this.projectRoot, argv[4]!), "utf8")) as ClusterDoc;
        const c = this.clusters.get(doc.metadata.name);
        if (!c) return fail(`Error: getting cluster: ResourceNotFoundException: No cluster found for name: ${doc.metadata.name}.`);
        const access = this.accessOf(c);
        if (access.authenticationMode === "CONFIG_MAP") return fail(CONFIG_MAP_REFUSAL);
        // eksctl passes over the entries whose stack it made already.
        const todo = (doc.accessConfig?.accessEntries ?? []).filter((e) => !access.entries.get(e.principalARN)?.byEksctl);
        const failed = addEntries(access, todo);
        return failed ? fail(failed) : ok();
      }
      if (verb === "get addon") {
        const settings = this.clusters.get(clusterName!)?.settings;
        return ok(
          [...(settings?.addons ?? new Map<string, string>())].map(([Name, Version]) => ({
            Name,
            Version,
            NewerVersion: "",
            ConfigurationValues: "",
          })),
        );
      }
      if (verb === "scale nodegroup") {
        const ng = this.nodegroups.get(flag("--name")!);
        if (!ng) return fail("nodegroup not found");
        ng.minSize = Number(flag("--nodes-min") ?? ng.minSize);
        ng.maxSize = Number(flag("--nodes-max") ?? ng.maxSize);
        ng.desiredCapacity = Number(flag("--nodes") ?? Math.min(Math.max(ng.desiredCapacity, ng.minSize), ng.maxSize));
        return ok();
      }
      if (verb === "get iamserviceaccount") {
        return ok(
          [...this.serviceAccounts].map((id) => ({
            metadata: { namespace: id.split("/")[0], name: id.split("/")[1] },
            status: { roleARN: `arn:aws:iam::1:role/sa-${id.replace("/", "--")}` },
          })),
        );
      }
      if (verb === "create iamserviceaccount") {
        const doc = parse(await readFile(join(this.projectRoot, flag("-f")!), "utf8")) as ClusterDoc;
        for (const sa of doc.iam?.serviceAccounts ?? [])
          this.policies.set(`${sa.metadata.namespace}/${sa.metadata.name}`, sa.attachPolicyARNs ?? []);
        for (const id of flag("--include")!.split(",")) this.serviceAccounts.add(id);
        return ok();
      }
      if (verb === "utils write-kubeconfig") {
        await this.writeKubeconfig(flag("--kubeconfig")!, clusterName!);
        return ok();
      }
    }
    if (tool === "flux") {
      if (verb === "get sources")
        return this.fluxBootstrapped ? ok("flux-system main True") : fail("✗ GitRepository object 'flux-system' not found");
      if (rest[0] === "bootstrap") {
        const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
        const url =
          rest[1] === "git" ? value("url")! : `ssh://git@${value("hostname") ?? `${rest[1]}.com`}/${value("owner")}/${value("repository")}`;
        this.fluxSettings = { url, branch: value("branch") ?? "main", path: `./${value("path") ?? ""}` };
        this.fluxBootstrapped = true;
        return ok();
      }
      if (rest[0] === "uninstall") {
        this.fluxBootstrapped = false;
        return ok();
      }
    }
    if (tool === "kubectl" && argv.some((a) => a.startsWith("gitrepositories."))) {
      if (!this.fluxBootstrapped) return fail('error: the server doesn\'t have a resource type "gitrepositories"');
      const { url, branch, path } = this.fluxSettings;
      return ok({
        kind: "List",
        items: [
          { kind: "GitRepository", spec: { url, ref: { branch } } },
          { kind: "Kustomization", spec: { path } },
        ],
      });
    }
    if (tool === "kubectl" && argv.includes("nodes")) {
      const items = [...this.nodegroups.values()].flatMap((ng) =>
        Array.from({ length: ng.desiredCapacity }, () => ({
          metadata: { labels: { "alpha.eksctl.io/nodegroup-name": ng.name } },
          status: { conditions: [{ type: "Ready", status: this.notReady.has(ng.name) ? "False" : "True" }] },
        })),
      );
      return ok({ items });
    }
    return fail(`fake cloud does not know: ${joined}`);
  }

  /** Who the fake's sts get-caller-identity says runs eksbox (and so creates the clusters). */
  get callerArn(): string {
    return `arn:aws:iam::${this.account}:user/test`;
  }

  /** A cluster a test put here by hand, without access, predates access entries: CONFIG_MAP. */
  accessOf(cluster: { access?: FakeAccess }): FakeAccess {
    return (cluster.access ??= { authenticationMode: "CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true, entries: new Map() });
  }

  /** The aws eks calls of access: authenticationMode (update-cluster-config --access-config) and access entries. */
  private accessCall(verb: string, argv: string[]): ToolboxRunResult {
    const ok = (value: unknown = {}) => ({ exitCode: 0, stdout: JSON.stringify(value), outputTail: [] });
    const fail = (message: string) => ({ exitCode: 1, stdout: "", outputTail: [message] });
    const flags = awsFlags(argv.slice(3));
    const allowed = ACCESS_CALLS.get(verb)!;
    const unknown = [...flags.keys()].filter((f) => !allowed.includes(f) && f !== "--region" && f !== "--output");
    if (unknown.length > 0) return fail(`\naws: error: Unknown options: ${unknown.join(", ")}`);
    const missing = allowed.filter((f) => !OPTIONAL_ACCESS_FLAGS.has(f) && !flags.has(f));
    if (missing.length > 0) return fail(`\naws: error: the following arguments are required: ${missing.join(", ")}`);
    const one = (f: string) => flags.get(f)?.[0] ?? "";
    const name = one(flags.has("--name") ? "--name" : "--cluster-name");
    const c = this.clusters.get(name);
    if (!c) return fail(`An error occurred (ResourceNotFoundException) when calling the operation: No cluster found for name: ${name}.`);
    const access = this.accessOf(c);

    if (verb === "eks describe-update") return this.describeUpdate(name, one("--update-id"));
    if (verb === "eks update-cluster-config") {
      const busy = this.updateInProgress(name);
      if (busy)
        return fail(
          `An error occurred (ResourceInUseException) when calling the UpdateClusterConfig operation: Cannot UpdateClusterConfig because cluster ${name} currently has update ${busy.id} in progress`,
        );
      const shorthand = parseShorthand(one("--access-config"));
      const wanted = shorthand.authenticationMode?.[0];
      const invalid = (why: string) =>
        fail(`An error occurred (InvalidParameterException) when calling the UpdateClusterConfig operation: ${why}`);
      if (!wanted || !AUTHENTICATION_MODES.includes(wanted)) return invalid(`unknown authenticationMode ${wanted ?? ""}`);
      if (wanted === access.authenticationMode) return invalid(`Cluster already at desired authentication mode ${wanted}`);
      if (AUTHENTICATION_MODES.indexOf(wanted) < AUTHENTICATION_MODES.indexOf(access.authenticationMode))
        return invalid(`Unsupported authentication mode update from ${access.authenticationMode} to ${wanted}`);
      const id = `00000000-0000-0000-0000-${String(this.updates.size + 1).padStart(12, "0")}`;
      const update: FakeUpdate = {
        id,
        cluster: name,
        status: "InProgress",
        type: "AccessConfigUpdate",
        params: [{ type: "AuthenticationMode", value: wanted }],
        errors: [],
        described: 0,
        apply: () => (access.authenticationMode = wanted),
        fails: this.failUpdate,
      };
      this.failUpdate = undefined;
      this.updates.set(id, update);
      return ok({ update: updateView(update) });
    }
    if (access.authenticationMode === "CONFIG_MAP")
      return fail(
        "An error occurred (InvalidRequestException): The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.",
      );
    if (verb === "eks list-access-entries") return ok({ accessEntries: [...access.entries.keys()].sort() });
    const principal = one("--principal-arn");
    if (verb === "eks create-access-entry") {
      const failed = addEntries(access, [{ principalARN: principal, kubernetesGroups: flags.get("--kubernetes-groups") }], false);
      return failed ? fail(failed) : ok({ accessEntry: entryView(name, principal, access.entries.get(principal)!) });
    }
    const entry = access.entries.get(principal);
    if (!entry)
      return fail(
        `An error occurred (ResourceNotFoundException): The specified access entry resource is not found on this cluster: ${principal}`,
      );
    switch (verb) {
      case "eks describe-access-entry":
        return ok({ accessEntry: entryView(name, principal, entry) });
      case "eks delete-access-entry":
        access.entries.delete(principal);
        return ok();
      case "eks update-access-entry": {
        const groups = flags.get("--kubernetes-groups");
        if (groups) {
          const list = groups.length === 1 && groups[0] === "[]" ? [] : groups;
          if (list.some((g) => g.startsWith("system:")))
            return fail("An error occurred (InvalidParameterException): a kubernetesGroup name cannot start with system:");
          entry.kubernetesGroups = list;
        }
        return ok({ accessEntry: entryView(name, principal, entry) });
      }
      case "eks list-associated-access-policies":
        return ok({
          clusterName: name,
          principalArn: principal,
          associatedAccessPolicies: [...entry.policies].map(([policyArn, accessScope]) => ({ policyArn, accessScope })),
        });
      case "eks associate-access-policy": {
        const scope = parseShorthand(one("--access-scope"));
        const type = scope.type?.[0];
        if (type !== "cluster" && type !== "namespace")
          return fail("An error occurred (InvalidParameterException): accessScope.type must be cluster or namespace");
        const policyArn = one("--policy-arn");
        entry.policies.set(policyArn, { type, namespaces: scope.namespaces ?? [] });
        return ok({
          clusterName: name,
          principalArn: principal,
          associatedAccessPolicy: { policyArn, accessScope: entry.policies.get(policyArn) },
        });
      }
      case "eks disassociate-access-policy":
        if (!entry.policies.delete(one("--policy-arn")))
          return fail(
            `An error occurred (ResourceNotFoundException): The access policy ${one("--policy-arn")} is not associated with ${principal}`,
          );
        return ok();
    }
    return fail(`fake cloud does not know: ${argv.join(" ")}`);
  }

  private updateInProgress(cluster: string): FakeUpdate | undefined {
    return [...this.updates.values()].find((u) => u.cluster === cluster && u.status === "InProgress");
  }

  private describeUpdate(cluster: string, id: string): ToolboxRunResult {
    const update = this.updates.get(id);
    if (!update || update.cluster !== cluster)
      return { exitCode: 1, stdout: "", outputTail: [`An error occurred (ResourceNotFoundException): No update found for ID: ${id}`] };
    if (update.status === "InProgress" && ++update.described > 1) {
      if (update.fails) {
        update.status = "Failed";
        update.errors = update.fails.map((e) => ({ ...e, resourceIds: [cluster] }));
      } else {
        update.status = "Successful";
        update.apply();
      }
    }
    return { exitCode: 0, stdout: JSON.stringify({ update: updateView(update) }), outputTail: [] };
  }

  private async writeKubeconfig(path: string, cluster: string): Promise<void> {
    const full = join(this.projectRoot, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, `apiVersion: v1\nclusters:\n- name: ${cluster}\n  cluster:\n    server: https://fake.eks\n`);
  }
}

// ---- access entries ----------------------------------------------------------------------------

/** An EKS update as the fake keeps it: what describe-update shows, and the change it makes once Successful. */
export interface FakeUpdate {
  id: string;
  cluster: string;
  status: "InProgress" | "Successful" | "Failed";
  type: string;
  params: { type: string; value: string }[];
  errors: { errorCode: string; errorMessage: string; resourceIds?: string[] }[];
  described: number;
  apply: () => void;
  fails?: { errorCode: string; errorMessage: string }[];
}

function updateView(u: FakeUpdate) {
  return { id: u.id, status: u.status, type: u.type, params: u.params, createdAt: "2026-11-26T00:00:00+00:00", errors: u.errors };
}

/** The aws eks access calls the fake answers, with the flags each takes (--region and --output always). */
const ACCESS_CALLS = new Map<string, string[]>([
  ["eks update-cluster-config", ["--name", "--access-config"]],
  ["eks describe-update", ["--name", "--update-id"]],
  ["eks list-access-entries", ["--cluster-name"]],
  ["eks describe-access-entry", ["--cluster-name", "--principal-arn"]],
  ["eks create-access-entry", ["--cluster-name", "--principal-arn", "--kubernetes-groups"]],
  ["eks delete-access-entry", ["--cluster-name", "--principal-arn"]],
  ["eks update-access-entry", ["--cluster-name", "--principal-arn", "--kubernetes-groups"]],
  ["eks list-associated-access-policies", ["--cluster-name", "--principal-arn"]],
  ["eks associate-access-policy", ["--cluster-name", "--principal-arn", "--policy-arn", "--access-scope"]],
  ["eks disassociate-access-policy", ["--cluster-name", "--principal-arn", "--policy-arn"]],
]);
const OPTIONAL_ACCESS_FLAGS = new Set(["--kubernetes-groups"]);

const CONFIG_MAP_REFUSAL =
  "Error: InvalidRequestException: The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.";

/** An aws CLI argv's options: each --flag with the values after it (a list option takes several). */
function awsFlags(args: readonly string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const arg of args) {
    if (arg.startsWith("--")) flags.set(arg, (current = []));
    else current?.push(arg);
  }
  return flags;
}

/** The aws CLI's shorthand syntax, `type=namespace,namespaces=a,b`: a value without `=` belongs to the key before it. */
function parseShorthand(text: string): Record<string, string[]> {
  const parsed: Record<string, string[]> = {};
  let key = "";
  for (const part of text.split(",")) {
    const eq = part.indexOf("=");
    if (eq >= 0) {
      key = part.slice(0, eq);
      parsed[key] = [part.slice(eq + 1)];
    } else parsed[key]?.push(part);
  }
  return parsed;
}

/** Creates entries with their policies as EKS would, or says why EKS refuses (the error eksctl/aws prints). */
function addEntries(access: FakeAccess, entries: readonly AccessEntryDoc[], byEksctl = true): string | undefined {
  for (const e of entries) {
    if (access.entries.has(e.principalARN))
      return `An error occurred (ResourceInUseException): The specified access entry resource is already in use on this cluster: ${e.principalARN}`;
    if ((e.kubernetesGroups ?? []).some((g) => g.startsWith("system:")))
      return "An error occurred (InvalidParameterException): a kubernetesGroup name cannot start with system:";
  }
  for (const e of entries)
    access.entries.set(e.principalARN, {
      kubernetesGroups: [...(e.kubernetesGroups ?? [])],
      policies: new Map(
        (e.accessPolicies ?? []).map((p) => [
          p.policyARN,
          { type: p.accessScope?.type ?? "cluster", namespaces: [...(p.accessScope?.namespaces ?? [])] },
        ]),
      ),
      byEksctl,
    });
  return undefined;
}

/** describe-access-entry's accessEntry. */
function entryView(cluster: string, principal: string, entry: FakeAccessEntry) {
  return {
    clusterName: cluster,
    principalArn: principal,
    kubernetesGroups: entry.kubernetesGroups,
    accessEntryArn: `arn:aws:eks:ap-northeast-1:123456789012:access-entry/${cluster}/${principal.split(":").at(-1)}`,
    createdAt: "2026-11-26T00:00:00+00:00",
    modifiedAt: "2026-11-26T00:00:00+00:00",
    tags: {},
    username: principal,
    type: "STANDARD",
  };
}
