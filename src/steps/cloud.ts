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
  tags?: Record<string, string>;
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
 * Output for a read-only probe whose failure is an answer, not an error (`flux get sources` exits
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

  forget(...keys: ("identity" | "cluster" | "nodegroups" | "serviceaccounts")[]): void {
    for (const key of keys) this.cache.delete(key);
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

  /** undefined when the cluster does not exist. */
  cluster(): Promise<ClusterFacts | undefined> {
    return this.memo("cluster", async () => {
      const list = await runJson<{ clusters?: string[] }>(this.toolbox, this.step, [
        "aws", "eks", "list-clusters", "--region", this.region, "--output", "json",
      ]);
      if (!list.clusters?.includes(this.clusterName)) return undefined;
      const described = await runJson<{ cluster: { name: string; status: string; version?: string; endpoint?: string; arn?: string; tags?: Record<string, string> } }>(
        this.toolbox,
        this.step,
        ["aws", "eks", "describe-cluster", "--name", this.clusterName, "--region", this.region, "--output", "json"],
      );
      const c = described.cluster;
      return { name: c.name, status: c.status, version: c.version, endpoint: c.endpoint, arn: c.arn, tags: c.tags ?? {} };
    });
  }

  /** Managed and self-managed nodegroups, as eksctl sees them. Empty when there is no cluster. */
  nodegroups(): Promise<NodegroupFacts[]> {
    return this.memo("nodegroups", async () => {
      if (!(await this.cluster())) return [];
      const rows = await runJson<Record<string, unknown>[]>(this.toolbox, this.step, [
        "eksctl", "get", "nodegroup", "--cluster", this.clusterName, "--region", this.region, "-o", "json",
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
}

function numberOrUndefined(value: unknown): number | undefined {
  const n = typeof value === "string" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
}
