// The environment's lock in its AWS account, held for one run: taken after the account check,
// kept alive by a heartbeat while the run lasts, released at the end however the run ends, with the
// run's summary written beside it. A holder whose heartbeat stopped (kill -9, a lost laptop) is
// taken over once its heartbeat is older than the expiry, and the run says so.
import { hostname, userInfo } from "node:os";
import { UserError } from "../core/errors.js";
import { log, type EventSink } from "../core/events.js";
import type { Environment } from "../config/schema.js";
import type { Toolbox } from "../runtime/types.js";
import { DynamoStateStore, type CloudLockHolder, type CloudRunSummary, type EnvironmentStateStore } from "./cloud-state.js";

/** How old a heartbeat may be before its lock counts as abandoned. EKSBOX_LOCK_EXPIRY_SECONDS changes it (tests use it). */
export const DEFAULT_LOCK_EXPIRY_SECONDS = 300;

export function lockExpirySeconds(processEnv: NodeJS.ProcessEnv): number {
  const seconds = Number(processEnv.EKSBOX_LOCK_EXPIRY_SECONDS);
  return Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_LOCK_EXPIRY_SECONDS;
}

/** Renewed five times per expiry (at most once a minute), so a few failed renewals do not lose the lock. */
function heartbeatIntervalMs(expirySeconds: number): number {
  return Math.max(1_000, Math.min(60_000, (expirySeconds * 1000) / 5));
}

/** The environment's state store: the cluster in its region is what is locked. */
export function environmentStateStore(toolbox: Toolbox, events: EventSink, env: Environment): EnvironmentStateStore {
  const { aws, cluster } = env.config;
  return new DynamoStateStore(toolbox, events, {
    region: aws.region,
    accountId: aws.accountId,
    lockKey: `eks/${aws.region}/${cluster.name}`,
  });
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "unknown");
  }
}

export function describeHolder(holder: CloudLockHolder): string {
  return `${holder.task} (run ${holder.runId}), pid ${holder.pid} on ${holder.host} (user ${holder.user}), started ${holder.startedAt}, last heartbeat ${holder.heartbeatAt}`;
}

export interface HeldCloudLock {
  readonly holder: CloudLockHolder;
  readonly tookOverFrom?: CloudLockHolder;
  /**
   * Stops the heartbeat, records the run's outcome and deletes the lock; never throws (a failure is
   * a warning naming the unlock command). `fallback` gives another way to the store (a fresh
   * toolbox) for when the first one fails.
   */
  release(
    outcome: "done" | "failed" | "aborted",
    fallback?: () => Promise<{ store: EnvironmentStateStore; close(): Promise<void> }>,
  ): Promise<void>;
}

export async function acquireCloudLock(opts: {
  store: EnvironmentStateStore;
  envName: string;
  events: EventSink;
  processEnv: NodeJS.ProcessEnv;
  run: { runId: string; task: string; command: string };
  /** Called once when a renewal finds the lock is no longer ours: the run must stop. */
  onLost: (by: CloudLockHolder | undefined) => void;
  now?: () => Date;
}): Promise<HeldCloudLock> {
  const { store, envName, events } = opts;
  const now = opts.now ?? (() => new Date());
  const expiry = lockExpirySeconds(opts.processEnv);
  const started = now();
  const me: CloudLockHolder = {
    ...opts.run,
    host: hostname(),
    pid: process.pid,
    user: currentUser(),
    startedAt: started.toISOString(),
    heartbeatAt: started.toISOString(),
  };
  let result: Awaited<ReturnType<EnvironmentStateStore["acquire"]>>;
  try {
    result = await store.acquire(me, new Date(started.getTime() - expiry * 1000));
  } catch (error) {
    // Interrupted or failed after AWS may have written the lock: take back what is ours, if anything.
    await store.release(me.runId).catch(() => undefined);
    throw error;
  }
  if (!result.acquired) {
    const holder = result.holder;
    const expiresAt = new Date(Date.parse(holder.heartbeatAt) + expiry * 1000).toISOString();
    throw new UserError(`environment ${envName} is locked by another run: ${describeHolder(holder)}`, {
      hint:
        `wait for it to finish. If that run is certainly gone, its lock is taken over once its heartbeat is ${expiry}s old (after ${expiresAt}), ` +
        `or release it now: eksbox unlock --env ${envName} ${holder.runId}`,
    });
  }
  if (result.tookOverFrom) {
    log.warn(
      events,
      `took over the lock of run ${result.tookOverFrom.runId} (${result.tookOverFrom.task}, pid ${result.tookOverFrom.pid} on ${result.tookOverFrom.host}): its last heartbeat ${result.tookOverFrom.heartbeatAt} is more than ${expiry}s old`,
    );
  }
  log.debug(events, `took the lock of environment ${envName} in ${store.where}`);

  let renewing: Promise<void> | undefined;
  let lost = false;
  const timer = setInterval(() => {
    if (renewing || lost) return;
    renewing = store
      .renew(me.runId, now())
      .then(async (stillOurs) => {
        if (stillOurs) return;
        lost = true;
        opts.onLost(await store.holder().catch(() => undefined));
      })
      // A failed renewal (network, throttling) is retried at the next tick; the expiry allows several.
      .catch((error: unknown) =>
        log.debug(events, `could not renew the lock's heartbeat: ${error instanceof Error ? error.message : String(error)}`),
      )
      .finally(() => (renewing = undefined));
  }, heartbeatIntervalMs(expiry));
  timer.unref();

  return {
    holder: me,
    tookOverFrom: result.tookOverFrom,
    async release(outcome, fallback) {
      clearInterval(timer);
      await renewing;
      const summary: CloudRunSummary = {
        runId: me.runId,
        task: me.task,
        command: me.command,
        outcome,
        host: me.host,
        user: me.user,
        startedAt: me.startedAt,
        endedAt: now().toISOString(),
      };
      let recordFailure: unknown;
      const finish = async (through: EnvironmentStateStore) => {
        // Recorded first, so whoever finds the lock gone also finds how the run ended.
        recordFailure = undefined;
        await through.recordLastRun(summary).catch((error: unknown) => (recordFailure = error));
        if (!lost) await through.release(me.runId);
        if (recordFailure)
          log.warn(
            events,
            `could not record the run in ${store.where}: ${recordFailure instanceof Error ? recordFailure.message : String(recordFailure)}`,
          );
      };
      let failure: unknown;
      try {
        return await finish(store);
      } catch (error) {
        failure = error;
      }
      if (fallback) {
        let opened: { store: EnvironmentStateStore; close(): Promise<void> } | undefined;
        try {
          opened = await fallback();
          return await finish(opened.store);
        } catch (error) {
          log.debug(
            events,
            `releasing the lock through a fresh toolbox failed too: ${error instanceof Error ? error.message : String(error)}`,
          );
        } finally {
          await opened?.close().catch(() => undefined);
        }
      }
      log.warn(
        events,
        `could not release the lock of environment ${envName} in ${store.where}: ${failure instanceof Error ? failure.message : String(failure)}; ` +
          `it is taken over ${expiry}s after its last heartbeat, or release it now: eksbox unlock --env ${envName} ${me.runId}`,
      );
    },
  };
}
