// A fake of the Toolbox interface for unit tests of the lifecycle logic: it answers the commands
// the steps run (aws, eksctl, kubectl, flux) from an in-memory world, records every argv, and can
// fail a command once on request. The end-to-end tests use the real runtime, moto and the test
// doubles instead; this is for fast, exhaustive checks of decisions and resumption.
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

interface ClusterDoc {
  metadata: { name: string; version: string; tags?: Record<string, string> };
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
  clusters = new Map<string, { status: string; version: string; tags?: Record<string, string>; settings?: FakeClusterSettings }>();
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
      if (verb === "sts get-caller-identity")
        return ok({ Account: this.account, Arn: `arn:aws:iam::${this.account}:user/test`, UserId: "X" });
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
            status: c.status,
            version: c.version,
            endpoint: "https://fake.eks",
            arn: `arn:aws:eks:ap-northeast-1:${this.account}:cluster/${flag("--name")}`,
            tags: { ...c.tags },
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
        this.clusters.set(doc.metadata.name, { status: "ACTIVE", version: doc.metadata.version, settings: settingsFrom(doc) });
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

  private async writeKubeconfig(path: string, cluster: string): Promise<void> {
    const full = join(this.projectRoot, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, `apiVersion: v1\nclusters:\n- name: ${cluster}\n  cluster:\n    server: https://fake.eks\n`);
  }
}
