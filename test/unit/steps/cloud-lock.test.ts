// The account lock's life around one run, over an in-memory store with the same conditional
// semantics as the DynamoDB one (test/e2e/two-machines.test.ts runs the real one against moto).
import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { acquireCloudLock } from "../../../src/steps/cloud-lock.js";
import type { AcquireResult, CloudLockHolder, CloudRunSummary, EnvironmentStateStore } from "../../../src/steps/cloud-state.js";

class MemoryStore implements EnvironmentStateStore {
  readonly where = "memory";
  lock: CloudLockHolder | undefined;
  last: CloudRunSummary | undefined;
  log: string[] = [];
  /** The way to AWS is gone (the run's container was killed). */
  unreachable = false;

  async acquire(me: CloudLockHolder, expiredBefore: Date): Promise<AcquireResult> {
    const seen = this.lock;
    if (seen && Date.parse(seen.heartbeatAt) >= expiredBefore.getTime()) return { acquired: false, holder: seen };
    this.lock = { ...me };
    this.log.push(`acquire ${me.runId}`);
    return { acquired: true, tookOverFrom: seen };
  }
  async renew(runId: string, now: Date): Promise<boolean> {
    if (this.lock?.runId !== runId) return false;
    this.lock.heartbeatAt = now.toISOString();
    this.log.push(`renew ${runId}`);
    return true;
  }
  async release(runId: string): Promise<void> {
    if (this.unreachable) throw new Error("step lock exited 137");
    if (this.lock?.runId === runId) this.lock = undefined;
    this.log.push(`release ${runId}`);
  }
  async holder() {
    return this.lock;
  }
  async recordLastRun(summary: CloudRunSummary) {
    if (this.unreachable) throw new Error("step lock exited 137");
    this.last = summary;
    this.log.push(`record ${summary.runId} ${summary.outcome}`);
  }
  async lastRun() {
    return this.last;
  }
}

const holder = (runId: string, heartbeatAt: Date): CloudLockHolder => ({
  runId,
  host: "ci-runner-7",
  pid: 4242,
  user: "ci",
  task: "born",
  command: "eksbox born --env prod",
  startedAt: heartbeatAt.toISOString(),
  heartbeatAt: heartbeatAt.toISOString(),
});

function take(
  store: MemoryStore,
  runId: string,
  opts: { expirySeconds?: number; onLost?: (by: CloudLockHolder | undefined) => void; events?: MemorySink } = {},
) {
  return acquireCloudLock({
    store,
    envName: "prod",
    events: opts.events ?? new MemorySink(),
    processEnv: opts.expirySeconds ? { EKSBOX_LOCK_EXPIRY_SECONDS: String(opts.expirySeconds) } : {},
    run: { runId, task: "nodegroup roll", command: "eksbox nodegroup roll --env prod" },
    onLost: opts.onLost ?? (() => {}),
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe("the environment's lock in its account", () => {
  it("refuses while the holder's heartbeat is fresh, naming it and the way out", async () => {
    const store = new MemoryStore();
    store.lock = holder("20261126T100000Z-aaaaaa", new Date());
    const error = (await take(store, "mine").catch((e: unknown) => e)) as UserError;
    expect(error).toBeInstanceOf(UserError);
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(
      "environment prod is locked by another run: born (run 20261126T100000Z-aaaaaa), pid 4242 on ci-runner-7 (user ci)",
    );
    expect(error.hint).toContain("eksbox unlock --env prod 20261126T100000Z-aaaaaa");
    expect(store.lock?.runId).toBe("20261126T100000Z-aaaaaa");
  });

  it("takes over an expired lock and says whose", async () => {
    const store = new MemoryStore();
    store.lock = holder("20261126T090000Z-dead00", new Date(Date.now() - 400_000));
    const events = new MemorySink();
    const lock = await take(store, "mine", { events });
    expect(lock.tookOverFrom?.runId).toBe("20261126T090000Z-dead00");
    expect(events.events).toContainEqual({
      type: "log",
      level: "warn",
      message: expect.stringMatching(
        /^took over the lock of run 20261126T090000Z-dead00 \(born, pid 4242 on ci-runner-7\): its last heartbeat .* is more than 300s old$/,
      ),
    });
    await lock.release("done");
  });

  it("renews the heartbeat while held; at the end records the run, then deletes the lock", async () => {
    const store = new MemoryStore();
    const lock = await take(store, "mine", { expirySeconds: 5 });
    await until(() => store.log.includes("renew mine"));
    await lock.release("failed");
    expect(store.lock).toBeUndefined();
    expect(store.log.slice(-2)).toEqual(["record mine failed", "release mine"]);
    expect(store.last).toMatchObject({
      runId: "mine",
      outcome: "failed",
      task: "nodegroup roll",
      command: "eksbox nodegroup roll --env prod",
    });
    const renewals = store.log.filter((l) => l === "renew mine").length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(store.log.filter((l) => l === "renew mine").length).toBe(renewals);
  });

  it("a holder whose lock was taken from it is told once, and does not delete the new holder's lock", async () => {
    const store = new MemoryStore();
    const lost: (CloudLockHolder | undefined)[] = [];
    const lock = await take(store, "mine", { expirySeconds: 5, onLost: (by) => lost.push(by) });
    store.lock = holder("theirs", new Date());
    await until(() => lost.length > 0);
    expect(lost.map((h) => h?.runId)).toEqual(["theirs"]);
    await lock.release("aborted");
    expect(store.lock?.runId).toBe("theirs");
  });

  it("when the run's way to AWS is gone, releases through a fresh one; failing that, says how to unlock", async () => {
    const store = new MemoryStore();
    const lock = await take(store, "mine");
    store.unreachable = true;
    await lock.release("failed", async () => {
      store.unreachable = false;
      return { store, close: async () => {} };
    });
    expect(store.lock).toBeUndefined();
    expect(store.last?.outcome).toBe("failed");

    const events = new MemorySink();
    const stuck = await take(store, "again", { events });
    store.unreachable = true;
    await stuck.release("aborted");
    expect(store.lock?.runId).toBe("again");
    expect(events.events).toContainEqual({
      type: "log",
      level: "warn",
      message: expect.stringMatching(
        /^could not release the lock of environment prod in memory: step lock exited 137; .*eksbox unlock --env prod again$/,
      ),
    });
  });
});
