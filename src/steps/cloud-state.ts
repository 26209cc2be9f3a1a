// What every machine must agree on about an environment lives in the environment's own AWS account,
// not in .eksbox/ (which is not in git): the lock that keeps two machines from acting on one cluster
// at once, and the summary of the last run. Both are items of one DynamoDB table per account and
// region, created on first use.
//
// Why DynamoDB: a conditional write is atomic create-if-absent AND compare-and-swap, so taking over
// an expired lock and renewing the heartbeat are single conditional writes (as Terraform's S3
// backend locks with DynamoDB). SSM put-parameter without --overwrite creates atomically but cannot
// swap: two runs taking over the same dead lock could both delete-then-create. S3 conditional
// writes need a bucket too (a globally unique name others can squat) and an AWS CLI newer than the
// one pinned.
//
// The calls run in the toolbox through the AWS CLI, with the environment's credentials, like every
// other AWS call.
import type { EventSink } from "../core/events.js";
import { log } from "../core/events.js";
import { StepFailedError } from "../core/errors.js";
import type { Toolbox, ToolboxRunResult } from "../runtime/types.js";
import { probeOutput } from "./cloud.js";

/** One table per account and region for every environment's lock and last run. */
export const STATE_TABLE = "eksbox-state";

export interface CloudLockHolder {
  runId: string;
  host: string;
  pid: number;
  user: string;
  /** What runs: "born", "nodegroup roll", ... */
  task: string;
  /** The command line, e.g. "eksbox born --env prod". */
  command: string;
  startedAt: string;
  /** When the holder last said it is alive (ISO). */
  heartbeatAt: string;
}

export interface CloudRunSummary {
  runId: string;
  task: string;
  command: string;
  /** done, failed or aborted. */
  outcome: string;
  host: string;
  user: string;
  startedAt: string;
  endedAt: string;
}

export type AcquireResult = { acquired: true; tookOverFrom?: CloudLockHolder } | { acquired: false; holder: CloudLockHolder };

/** The narrow interface the session and `status`/`unlock` use; DynamoStateStore is the one implementation. */
export interface EnvironmentStateStore {
  /** Where the state lives, for messages: "DynamoDB table eksbox-state in 123456789012/us-east-1". */
  readonly where: string;
  /** Takes the lock if it is free or its holder's heartbeat is older than `expiredBefore`; atomic. */
  acquire(me: CloudLockHolder, expiredBefore: Date): Promise<AcquireResult>;
  /** Renews the heartbeat; false when the lock is no longer ours (taken over or force-unlocked). */
  renew(runId: string, now: Date): Promise<boolean>;
  /** Deletes the lock if it is still ours. */
  release(runId: string): Promise<void>;
  holder(): Promise<CloudLockHolder | undefined>;
  recordLastRun(summary: CloudRunSummary): Promise<void>;
  lastRun(): Promise<CloudRunSummary | undefined>;
}

type AttributeValue = { S: string } | { N: string };
type Item = Record<string, AttributeValue>;

const LOCK_FIELDS = ["runId", "host", "pid", "user", "task", "command", "startedAt", "heartbeatAt"] as const;
const RUN_FIELDS = ["runId", "task", "command", "outcome", "host", "user", "startedAt", "endedAt"] as const;

function toItem(key: string, record: Record<string, string | number>): Item {
  const item: Item = { LockID: { S: key } };
  for (const [name, value] of Object.entries(record)) item[name] = typeof value === "number" ? { N: String(value) } : { S: value };
  return item;
}

function fromItem(item: Item, fields: readonly string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const name of fields) {
    const value = item[name];
    if (value && "S" in value) out[name] = value.S;
    else if (value && "N" in value) out[name] = Number(value.N);
  }
  return out;
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

export class DynamoStateStore implements EnvironmentStateStore {
  readonly where: string;
  private tableReady = false;

  /**
   * `lockKey` names what is locked: the cluster in its region, so two checkouts that call the
   * environment differently still share one lock for one cluster.
   */
  constructor(
    private readonly toolbox: Toolbox,
    private readonly events: EventSink,
    private readonly opts: { region: string; accountId: string; lockKey: string; table?: string },
  ) {
    this.where = `DynamoDB table ${this.table} in account ${opts.accountId}, ${opts.region}`;
  }

  private get table(): string {
    return this.opts.table ?? STATE_TABLE;
  }

  private get runKey(): string {
    return `${this.opts.lockKey}#last-run`;
  }

  private async aws(argv: string[], opts: { evenAfterInterrupt?: boolean } = {}): Promise<ToolboxRunResult> {
    const full = ["aws", "dynamodb", ...argv, "--table-name", this.table, "--region", this.opts.region, "--output", "json"];
    return this.toolbox.run({
      step: "lock",
      argv: full,
      captureStdout: true,
      output: probeOutput(this.events, "lock"),
      evenAfterInterrupt: opts.evenAfterInterrupt,
    });
  }

  private failed(argv: string[], result: ToolboxRunResult, what: string): StepFailedError {
    return new StepFailedError({
      step: "lock",
      argv: ["aws", "dynamodb", ...argv],
      exitCode: result.exitCode,
      message: `${what} in ${this.where} failed`,
      outputTail: result.outputTail,
      hint: "the credentials need dynamodb:CreateTable, DescribeTable, GetItem, PutItem, UpdateItem and DeleteItem on the table eksbox-state",
    });
  }

  /** Runs a call; a missing table is created once (saying so) and the call repeated. */
  private async call(
    argv: string[],
    what: string,
    opts: { conditional?: boolean; evenAfterInterrupt?: boolean } = {},
  ): Promise<ToolboxRunResult | "condition-failed" | "no-table"> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.aws(argv, opts);
      if (result.exitCode === 0) return result;
      const tail = result.outputTail.join("\n");
      if (opts.conditional && tail.includes("ConditionalCheckFailedException")) return "condition-failed";
      if (tail.includes("ResourceNotFoundException") && attempt === 0) {
        if (argv[0] === "get-item" || argv[0] === "delete-item") return "no-table";
        await this.createTable();
        continue;
      }
      throw this.failed(argv, result, what);
    }
  }

  private async createTable(): Promise<void> {
    if (this.tableReady) return;
    log.info(this.events, `creating ${this.where} for environment locks and last-run summaries (once per account and region)`);
    const create = await this.aws([
      "create-table",
      "--attribute-definitions",
      "AttributeName=LockID,AttributeType=S",
      "--key-schema",
      "AttributeName=LockID,KeyType=HASH",
      "--billing-mode",
      "PAY_PER_REQUEST",
    ]);
    // Another machine creating it at the same moment is fine: wait for the same table.
    if (create.exitCode !== 0 && !create.outputTail.join("\n").includes("ResourceInUseException")) {
      throw this.failed(["create-table"], create, "creating the table");
    }
    const wait = await this.toolbox.run({
      step: "lock",
      argv: ["aws", "dynamodb", "wait", "table-exists", "--table-name", this.table, "--region", this.opts.region],
      captureStdout: true,
      output: probeOutput(this.events, "lock"),
    });
    if (wait.exitCode !== 0) throw this.failed(["wait", "table-exists"], wait, "waiting for the table");
    this.tableReady = true;
  }

  private async getItem(key: string): Promise<Item | undefined> {
    const argv = ["get-item", "--consistent-read", "--key", JSON.stringify({ LockID: { S: key } })];
    const result = await this.call(argv, "reading the lock");
    if (result === "no-table" || result === "condition-failed") return undefined;
    const text = result.stdout.trim();
    return text === "" ? undefined : (JSON.parse(text) as { Item?: Item }).Item;
  }

  async holder(): Promise<CloudLockHolder | undefined> {
    const item = await this.getItem(this.opts.lockKey);
    return item ? (fromItem(item, LOCK_FIELDS) as unknown as CloudLockHolder) : undefined;
  }

  async acquire(me: CloudLockHolder, expiredBefore: Date): Promise<AcquireResult> {
    // Read, then write on the condition that what was read is still there: two runs taking over the
    // same expired lock cannot both win, and the one that wins knows whose lock it replaced.
    const item = toItem(this.opts.lockKey, { ...me, Heartbeat: epochSeconds(new Date(me.heartbeatAt)) });
    // Most often the lock is free: one conditional put, no read.
    const free = ["put-item", "--item", JSON.stringify(item), "--condition-expression", "attribute_not_exists(LockID)"];
    if ((await this.call(free, "taking the lock", { conditional: true })) !== "condition-failed") return { acquired: true };
    for (let attempt = 0; attempt < 5; attempt++) {
      const seen = await this.getItem(this.opts.lockKey);
      const seenHolder = seen ? (fromItem(seen, LOCK_FIELDS) as unknown as CloudLockHolder) : undefined;
      const seenHeartbeat = seen && "N" in (seen.Heartbeat ?? {}) ? Number((seen.Heartbeat as { N: string }).N) : 0;
      if (seenHolder && seenHeartbeat >= epochSeconds(expiredBefore)) return { acquired: false, holder: seenHolder };
      const argv = seenHolder
        ? [
            "put-item",
            "--item",
            JSON.stringify(item),
            "--condition-expression",
            "runId = :seen AND Heartbeat = :seenHeartbeat",
            "--expression-attribute-values",
            JSON.stringify({ ":seen": { S: seenHolder.runId }, ":seenHeartbeat": { N: String(seenHeartbeat) } }),
          ]
        : ["put-item", "--item", JSON.stringify(item), "--condition-expression", "attribute_not_exists(LockID)"];
      const result = await this.call(argv, "taking the lock", { conditional: true });
      if (result !== "condition-failed") return { acquired: true, tookOverFrom: seenHolder };
    }
    const holder = await this.holder();
    if (holder) return { acquired: false, holder };
    throw new StepFailedError({
      step: "lock",
      message: `could not take the lock in ${this.where}: it kept changing`,
      hint: "rerun in a moment",
    });
  }

  async renew(runId: string, now: Date): Promise<boolean> {
    const argv = [
      "update-item",
      "--key",
      JSON.stringify({ LockID: { S: this.opts.lockKey } }),
      "--update-expression",
      "SET Heartbeat = :now, heartbeatAt = :nowIso",
      "--condition-expression",
      "runId = :me",
      "--expression-attribute-values",
      JSON.stringify({ ":now": { N: String(epochSeconds(now)) }, ":nowIso": { S: now.toISOString() }, ":me": { S: runId } }),
    ];
    return (await this.call(argv, "renewing the lock's heartbeat", { conditional: true })) !== "condition-failed";
  }

  async release(runId: string): Promise<void> {
    const argv = [
      "delete-item",
      "--key",
      JSON.stringify({ LockID: { S: this.opts.lockKey } }),
      "--condition-expression",
      "runId = :me",
      "--expression-attribute-values",
      JSON.stringify({ ":me": { S: runId } }),
    ];
    // Released even after Ctrl-C: that is exactly when a lock must not be left behind.
    await this.call(argv, "releasing the lock", { conditional: true, evenAfterInterrupt: true });
  }

  async recordLastRun(summary: CloudRunSummary): Promise<void> {
    const argv = ["put-item", "--item", JSON.stringify(toItem(this.runKey, { ...summary }))];
    await this.call(argv, "recording the last run", { evenAfterInterrupt: true });
  }

  async lastRun(): Promise<CloudRunSummary | undefined> {
    const item = await this.getItem(this.runKey);
    return item ? (fromItem(item, RUN_FIELDS) as unknown as CloudRunSummary) : undefined;
  }
}
