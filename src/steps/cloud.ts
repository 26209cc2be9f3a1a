// Read-only questions the lifecycle asks of AWS, each answered by a command in the toolbox (the AWS
// CLI for AWS state, eksctl for what only eksctl knows, such as self-managed nodegroups). Answers
// are cached for the run and dropped when a step changes the thing they describe.
import { Writable } from "node:stream";
import { StepFailedError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import type { Toolbox } from "../runtime/types.js";

export interface ClusterFacts {
  name: string;
  status: string;
  version?: string;
  endpoint?: string;
  arn?: string;
  /** Control-plane log types that are enabled. */
  logging?: string[];
  endpointPrivateAccess?: boolean;
  endpointPublicAccess?: boolean;
  publicAccessCIDRs?: string[];
  subnetIds?: string[];
  tags?: Record<string, string>;
  /** EKS Auto Mode (computeConfig.enabled); undefined when the answer does not say. */
  autoMode?: boolean;
  /** Auto Mode's built-in node pools (computeConfig.nodePools). */
  autoModeNodePools?: string[];
  /** CONFIG_MAP, API_AND_CONFIG_MAP or API (describe-cluster's accessConfig). */
  authenticationMode?: string;
  /** STANDARD or EXTENDED (describe-cluster's upgradePolicy). */
  supportType?: string;
}

/** A self-managed nodegroup's Auto Scaling group, found by eksctl's tags. */
export interface AutoScalingGroupFacts {
  name: string;
  nodegroup: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  tags: Record<string, string>;
}

/** What EKS says about a managed nodegroup. */
export interface ManagedNodegroupFacts {
  name: string;
  minSize?: number;
  maxSize?: number;
  desiredCapacity?: number;
  labels: Record<string, string>;
  taints: { key: string; value: string; effect: string }[];
  tags: Record<string, string>;
}

export interface AddonFacts {
  name: string;
  version: string;
  /** A newer version EKS offers, if any. */
  newerVersion?: string;
  configurationValues: string;
  serviceAccountRoleARN?: string;
}

export interface NodegroupFacts {
  name: string;
  status: string;
  type: "managed" | "unmanaged";
  minSize?: number;
  maxSize?: number;
  desiredCapacity?: number;
  instanceType?: string;
  version?: string;
  createdAt?: string;
}

export interface ServiceAccountFacts {
  namespace: string;
  name: string;
  roleARN?: string;
}

export async function runJson<T>(toolbox: Toolbox, step: string, argv: string[]): Promise<T> {
  const result = await toolbox.runOrFail({ step, argv, captureStdout: true });
  const text = result.stdout.trim();
  if (text === "") return [] as T;
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new StepFailedError({
      step,
      argv,
      exitCode: 0,
      message: "printed output that is not JSON",
      outputTail: text.split("\n").slice(-5),
      cause,
    });
  }
}

/**
 * Output for a read-only probe whose failure is an answer, not an error (`kubectl get` of a kind not installed exits
 * 1 when Flux is not there yet): shown with --verbose only, so it does not read like a problem.
 */
export function probeOutput(events: EventSink, step: string): { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } {
  const toDebug = () =>
    new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) {
          if (line.trim() !== "") events.emit({ type: "log", level: "debug", message: `[${step}] ${line}` });
        }
        done();
      },
    });
  return { stdout: toDebug(), stderr: toDebug() };
}

export type FactKind =
  "identity" | "cluster" | "nodegroups" | "serviceaccounts" | "asgs" | "managed" | "addons" | "policies" | "loggroup" | "gitops";

/** Flux's sync settings, from the GitRepository and Kustomization that flux bootstrap leaves (no url: not bootstrapped). */
export interface FluxSyncFacts {
  url?: string;
  branch?: string;
  path?: string;
  /** Why the cluster's answer is unknown. */
  unread?: string;
}

/**
 * The answers of one run, shared by its steps. Each step gets a view stamped with its id (the
 * scheduler calls forStep), so the commands behind an answer run under the step that asked first.
 */
export class CloudFacts {
  constructor(
    private readonly toolbox: Toolbox,
    readonly clusterName: string,
    readonly region: string,
    private readonly cache = new Map<string, Promise<unknown>>(),
    /** The step the commands run as; "facts" outside any step. */
    private readonly step = "facts",
  ) {}

  /** The same answers, asked as `step`. */
  forStep(step: string): CloudFacts {
    return new CloudFacts(this.toolbox, this.clusterName, this.region, this.cache, step);
  }

  /** One object per run, the same for every step's view: a key for what is derived from the answers. */
  get run(): object {
    return this.cache;
  }

  forget(...keys: FactKind[]): void {
    for (const key of keys) {
      for (const cached of [...this.cache.keys()]) if (cached === key || cached.startsWith(`${key}:`)) this.cache.delete(cached);
    }
  }

  private memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    let value = this.cache.get(key) as Promise<T> | undefined;
    if (!value) {
      value = load();
      this.cache.set(key, value);
      value.catch(() => this.cache.delete(key));
    }
    return value;
  }

  identity(): Promise<{ Account: string; Arn: string; UserId: string }> {
    return this.memo("identity", () =>
      runJson(this.toolbox, this.step, ["aws", "sts", "get-caller-identity", "--region", this.region, "--output", "json"]),
    );
  }

  /** The clusters in the region. */
  clusterNames(): Promise<string[]> {
    return this.memo("cluster:list", async () => {
      const list = await runJson<{ clusters?: string[] }>(this.toolbox, this.step, [
        "aws",
        "eks",
        "list-clusters",
        "--region",
        this.region,
        "--output",
        "json",
      ]);
      return list.clusters ?? [];
    });
  }

  /**
   * undefined when the cluster does not exist. One describe-cluster, whose ResourceNotFoundException
   * is the answer "absent" (no list-clusters first: every process in the toolbox costs a second of CPU).
   */
  cluster(): Promise<ClusterFacts | undefined> {
    return this.memo("cluster", async () => {
      const argv = ["aws", "eks", "describe-cluster", "--name", this.clusterName, "--region", this.region, "--output", "json"];
      // Its stderr is an answer when the cluster is absent: kept out of the step's output (the tail stays for errors).
      const result = await this.toolbox.run({
        step: this.step,
        argv,
        captureStdout: true,
        output: { stdout: discard(), stderr: discard() },
      });
      if (result.exitCode !== 0) {
        if (result.outputTail.some((line) => line.includes("ResourceNotFoundException"))) return undefined;
        throw new StepFailedError({ step: this.step, argv, exitCode: result.exitCode, outputTail: result.outputTail });
      }
      let described: { cluster: DescribedCluster };
      try {
        described = JSON.parse(result.stdout) as { cluster: DescribedCluster };
      } catch (cause) {
        throw new StepFailedError({
          step: this.step,
          argv,
          exitCode: 0,
          message: "printed output that is not JSON",
          outputTail: result.stdout.trim().split("\n").slice(-5),
          cause,
        });
      }
      const c = described.cluster;
      const vpc = c.resourcesVpcConfig ?? {};
      return {
        name: c.name,
        status: c.status,
        version: c.version,
        endpoint: c.endpoint,
        arn: c.arn,
        logging: (c.logging?.clusterLogging ?? []).filter((entry) => entry.enabled).flatMap((entry) => entry.types ?? []),
        endpointPrivateAccess: vpc.endpointPrivateAccess,
        endpointPublicAccess: vpc.endpointPublicAccess,
        publicAccessCIDRs: vpc.publicAccessCidrs,
        subnetIds: vpc.subnetIds,
        tags: c.tags ?? {},
        autoMode: c.computeConfig?.enabled,
        autoModeNodePools: c.computeConfig?.nodePools,
        authenticationMode: c.accessConfig?.authenticationMode,
        supportType: c.upgradePolicy?.supportType,
      };
    });
  }

  /** Managed and self-managed nodegroups, as eksctl sees them. Empty when there is no cluster. */
  nodegroups(): Promise<NodegroupFacts[]> {
    return this.memo("nodegroups", async () => {
      if (!(await this.cluster())) return [];
      const rows = await runJson<Record<string, unknown>[]>(this.toolbox, this.step, [
        "eksctl",
        "get",
        "nodegroup",
        "--cluster",
        this.clusterName,
        "--region",
        this.region,
        "-o",
        "json",
      ]);
      return (Array.isArray(rows) ? rows : []).map((row) => ({
        name: String(row.Name),
        status: String(row.Status ?? ""),
        type: row.NodeGroupType === "managed" ? "managed" : "unmanaged",
        minSize: numberOrUndefined(row.MinSize),
        maxSize: numberOrUndefined(row.MaxSize),
        desiredCapacity: numberOrUndefined(row.DesiredCapacity),
        instanceType: row.InstanceType === undefined ? undefined : String(row.InstanceType),
        version: row.Version === undefined ? undefined : String(row.Version),
        createdAt: row.CreationTime === undefined ? undefined : String(row.CreationTime),
      }));
    });
  }

  serviceAccounts(): Promise<ServiceAccountFacts[]> {
    return this.memo("serviceaccounts", async () => {
      if (!(await this.cluster())) return [];
      const rows = await runJson<{ metadata?: { name?: string; namespace?: string }; status?: { roleARN?: string } }[]>(
        this.toolbox,
        this.step,
        ["eksctl", "get", "iamserviceaccount", "--cluster", this.clusterName, "--region", this.region, "-o", "json"],
      );
      return (Array.isArray(rows) ? rows : []).map((row) => ({
        name: String(row.metadata?.name ?? ""),
        namespace: String(row.metadata?.namespace ?? "default"),
        roleARN: row.status?.roleARN,
      }));
    });
  }

  /** The cluster's self-managed nodegroups' Auto Scaling groups: one call, filtered by eksctl's cluster tag. */
  autoScalingGroups(): Promise<AutoScalingGroupFacts[]> {
    return this.memo("asgs", async () => {
      if (!(await this.cluster())) return [];
      const out = await runJson<{
        AutoScalingGroups?: {
          AutoScalingGroupName: string;
          MinSize: number;
          MaxSize: number;
          DesiredCapacity: number;
          Tags?: { Key?: string; Value?: string }[];
        }[];
      }>(this.toolbox, this.step, [
        "aws",
        "autoscaling",
        "describe-auto-scaling-groups",
        "--region",
        this.region,
        "--filters",
        `Name=tag:alpha.eksctl.io/cluster-name,Values=${this.clusterName}`,
        "--output",
        "json",
      ]);
      return (out.AutoScalingGroups ?? []).flatMap((group) => {
        const tags = tagMap(group.Tags);
        const nodegroup = tags["alpha.eksctl.io/nodegroup-name"];
        if (!nodegroup) return [];
        return [
          {
            name: group.AutoScalingGroupName,
            nodegroup,
            minSize: group.MinSize,
            maxSize: group.MaxSize,
            desiredCapacity: group.DesiredCapacity,
            tags,
          },
        ];
      });
    });
  }

  /** EKS's view of each managed nodegroup (scaling, labels, taints, tags), described side by side. */
  managedNodegroups(names: readonly string[]): Promise<ManagedNodegroupFacts[]> {
    return this.memo(`managed:${[...names].sort().join(",")}`, () =>
      Promise.all(
        names.map(async (name) => {
          const out = await runJson<{
            nodegroup: {
              scalingConfig?: { minSize?: number; maxSize?: number; desiredSize?: number };
              labels?: Record<string, string>;
              taints?: { key: string; value?: string; effect: string }[];
              tags?: Record<string, string>;
            };
          }>(this.toolbox, this.step, [
            "aws",
            "eks",
            "describe-nodegroup",
            "--cluster-name",
            this.clusterName,
            "--nodegroup-name",
            name,
            "--region",
            this.region,
            "--output",
            "json",
          ]);
          const ng = out.nodegroup;
          return {
            name,
            minSize: ng.scalingConfig?.minSize,
            maxSize: ng.scalingConfig?.maxSize,
            desiredCapacity: ng.scalingConfig?.desiredSize,
            labels: ng.labels ?? {},
            taints: (ng.taints ?? []).map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
            tags: ng.tags ?? {},
          };
        }),
      ),
    );
  }

  /**
   * The cluster's EKS addons. Read through `eksctl get addon` (one call): it is EKS's ListAddons and
   * DescribeAddon, which the local emulator lacks.
   */
  addons(): Promise<AddonFacts[]> {
    return this.memo("addons", async () => {
      if (!(await this.cluster())) return [];
      const rows = await runJson<
        { Name?: string; Version?: string; NewerVersion?: string; ConfigurationValues?: string; IAMRole?: string }[]
      >(this.toolbox, this.step, ["eksctl", "get", "addon", "--cluster", this.clusterName, "--region", this.region, "-o", "json"]);
      return (Array.isArray(rows) ? rows : []).map((row) => ({
        name: String(row.Name ?? ""),
        version: String(row.Version ?? ""),
        newerVersion: row.NewerVersion && row.NewerVersion !== "-" ? row.NewerVersion : undefined,
        configurationValues: row.ConfigurationValues ?? "",
        serviceAccountRoleARN: row.IAMRole || undefined,
      }));
    });
  }

  /** The managed policies attached to each IAM role, by role ARN; the roles are read side by side. */
  attachedPolicies(roleARNs: readonly string[]): Promise<Map<string, string[]>> {
    return this.memo(`policies:${[...roleARNs].sort().join(",")}`, async () => {
      const entries = await Promise.all(
        roleARNs.map(async (arn) => {
          const roleName = arn.split("/").pop()!;
          const out = await runJson<{ AttachedPolicies?: { PolicyArn: string }[] }>(this.toolbox, this.step, [
            "aws",
            "iam",
            "list-attached-role-policies",
            "--role-name",
            roleName,
            "--output",
            "json",
          ]);
          return [arn, (out.AttachedPolicies ?? []).map((p) => p.PolicyArn).sort()] as const;
        }),
      );
      return new Map(entries);
    });
  }

  /**
   * Flux's GitRepository and Kustomization flux-system, as flux bootstrap leaves them: one kubectl
   * call for both. Without Flux's resource types (never bootstrapped) or objects: not bootstrapped.
   */
  fluxSync(kubeconfig: string, output?: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<FluxSyncFacts> {
    return this.memo("gitops", async () => {
      const result = await this.toolbox.run({
        step: this.step,
        argv: [
          "kubectl",
          "--kubeconfig",
          kubeconfig,
          // Read for every environment, also one without gitops: an API server this runner cannot reach
          // (a private endpoint) costs this much, not kubectl's default of no timeout.
          "--request-timeout=20s",
          "get",
          "gitrepositories.source.toolkit.fluxcd.io/flux-system",
          "kustomizations.kustomize.toolkit.fluxcd.io/flux-system",
          "--namespace",
          "flux-system",
          "--ignore-not-found",
          "-o",
          "json",
        ],
        captureStdout: true,
        output,
      });
      if (result.exitCode !== 0) {
        const tail = result.outputTail.join("\n");
        if (/doesn't have a resource type/i.test(tail)) return {};
        return { unread: `kubectl get exited ${result.exitCode}: ${result.outputTail.at(-1) ?? ""}`.trim() };
      }
      let items: { kind?: string; spec?: { url?: string; ref?: { branch?: string }; path?: string } }[] = [];
      try {
        const parsed = JSON.parse(result.stdout.trim() || "{}") as { kind?: string; items?: typeof items };
        items = parsed.items ?? (parsed.kind ? [parsed as (typeof items)[number]] : []);
      } catch {
        return { unread: "kubectl get printed output that is not JSON" };
      }
      const source = items.find((item) => item.kind === "GitRepository");
      if (!source?.spec?.url) return {};
      const sync = items.find((item) => item.kind === "Kustomization");
      return { url: source.spec.url, branch: source.spec.ref?.branch, path: sync?.spec?.path };
    });
  }

  /** The control plane's log group (/aws/eks/<cluster>/cluster): undefined when it does not exist. */
  logGroup(): Promise<{ name: string; retentionInDays?: number } | undefined> {
    return this.memo("loggroup", async () => {
      const name = `/aws/eks/${this.clusterName}/cluster`;
      const out = await runJson<{ logGroups?: { logGroupName: string; retentionInDays?: number }[] }>(this.toolbox, this.step, [
        "aws",
        "logs",
        "describe-log-groups",
        "--log-group-name-prefix",
        name,
        "--region",
        this.region,
        "--output",
        "json",
      ]);
      const group = (out.logGroups ?? []).find((g) => g.logGroupName === name);
      return group ? { name, retentionInDays: group.retentionInDays } : undefined;
    });
  }
}

interface DescribedCluster {
  name: string;
  status: string;
  version?: string;
  endpoint?: string;
  arn?: string;
  logging?: { clusterLogging?: { types?: string[]; enabled?: boolean }[] };
  resourcesVpcConfig?: {
    endpointPrivateAccess?: boolean;
    endpointPublicAccess?: boolean;
    publicAccessCidrs?: string[];
    subnetIds?: string[];
  };
  tags?: Record<string, string>;
  computeConfig?: { enabled?: boolean; nodePools?: string[] };
  accessConfig?: { authenticationMode?: string };
  upgradePolicy?: { supportType?: string };
}

function discard(): NodeJS.WritableStream {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function tagMap(tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [String(t.Key), String(t.Value ?? "")]));
}

function numberOrUndefined(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}
