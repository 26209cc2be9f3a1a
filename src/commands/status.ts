import type { CommandContext } from "../core/context.js";
import { fleetEnvironments, parallelism, runFleet, type FleetCommand, type FleetSelection } from "./fleet.js";
import { log } from "../core/events.js";
import type { ClusterFacts, NodegroupFacts } from "../steps/cloud.js";
import { nodegroupNaming } from "../steps/lifecycle.js";
import { currentLockHolder, type LockHolder } from "../steps/lock.js";
import { lastRun, type RunSummary } from "../steps/run-record.js";
import type { CloudLockHolder, CloudRunSummary } from "../steps/cloud-state.js";
import { ROLL_TARGET_TAG } from "../steps/cluster-state.js";
import type { SessionOptions } from "../steps/session.js";
import { readSupportCalendar, type SupportCalendar } from "../steps/support-calendar.js";
import { withEnvironmentToolbox } from "./environment-toolbox.js";
import type { ImageInfo } from "../runtime/types.js";

export interface StatusReport {
  env: string;
  account: string;
  region: string;
  cluster: ClusterFacts | null;
  nodegroups: (NodegroupFacts & { eksboxVersion?: string })[];
  toolbox: ImageInfo;
  /** A nodegroup roll in progress: the version it rolls to (the cluster's roll-target tag). */
  rollingTo: string | null;
  /** The last run on any machine (from the environment's AWS account), with this checkout's record of it when it ran here. */
  lastRun: (Partial<RunSummary> & Partial<CloudRunSummary> & { runId: string }) | null;
  /** Who holds the environment's lock, on any machine. */
  lock: (LockHolder & Partial<CloudLockHolder>) | null;
  /** The support calendar of the cluster's version (of cluster.version before the cluster exists). */
  support: SupportCalendar | null;
}

/** eksbox status: what exists in AWS for the environment, the toolbox, and the last run; --all for every one. */
export async function statusCommand(ctx: CommandContext, opts: SessionOptions & FleetSelection & { now?: Date }): Promise<void> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    await runFleet(
      ctx,
      names,
      parallelism(opts.parallel, ctx.processEnv),
      statusFleet((child, env) => oneStatus(child, { ...opts, env })),
    );
    return;
  }
  await oneStatus(ctx, opts);
}

export function statusFleet(runOne: FleetCommand["runOne"]): FleetCommand {
  return {
    name: "status",
    runOne,
    columns: ["ACCOUNT", "REGION", "CLUSTER", "NODEGROUPS", "STANDARD SUPPORT", "EXTENDED SUPPORT", "SUPPORT NOW", "LAST RUN"],
    row(r) {
      const report = r.result as StatusReport;
      const c = report.cluster;
      const versions = [...new Set(report.nodegroups.map((ng) => ng.eksboxVersion ?? "-"))].join(",");
      return [
        report.account,
        report.region,
        c ? `${c.name} ${c.status} ${c.version ?? "?"}` : "not created",
        report.nodegroups.length === 0 ? "none" : `${report.nodegroups.length} (${versions})`,
        ...supportCells(report.support),
        report.lastRun ? `${report.lastRun.task} ${report.lastRun.status}` : report.lock ? `locked by ${report.lock.task}` : "none",
      ];
    },
    notes(results) {
      return results.flatMap((r) => {
        const support = (r.result as StatusReport | undefined)?.support;
        return support?.warning ? [`WARNING ${r.env}: ${support.warning}`] : [];
      });
    },
  };
}

/** The calendar in three cells: the version and end of standard support, the end of extended support, where it stands today. */
function supportCells(support: SupportCalendar | null): string[] {
  if (!support) return ["unknown", "unknown", "-"];
  const now =
    support.phase === "unsupported"
      ? "unsupported"
      : `${support.phase}, ${support.daysLeft} day(s) left${support.warning ? " (WARNING)" : ""}`;
  return [`${support.version} until ${support.endOfStandardSupport}`, `until ${support.endOfExtendedSupport}`, now];
}

async function oneStatus(ctx: CommandContext, opts: SessionOptions & { now?: Date }): Promise<void> {
  const report = await withEnvironmentToolbox(
    ctx,
    opts,
    "status",
    async ({ envName, env, toolbox, facts, store }): Promise<StatusReport> => {
      const { aws, cluster } = env.config;
      const naming = await nodegroupNaming(ctx.projectRoot, env);
      const [clusterFacts, nodegroups, run, lock, cloudRun, cloudLock] = await Promise.all([
        facts.cluster(),
        facts.nodegroups(),
        lastRun(ctx.projectRoot, envName),
        currentLockHolder(ctx.projectRoot, envName),
        store.lastRun().catch(unreadable(ctx, "the last run")),
        store.holder().catch(unreadable(ctx, "the lock")),
      ]);
      const support = await readSupportCalendar(toolbox, {
        step: "status",
        region: aws.region,
        version: clusterFacts?.version ?? cluster.version,
        now: opts.now ?? new Date(),
      });
      return {
        env: envName,
        account: aws.accountId,
        region: aws.region,
        cluster: clusterFacts ?? null,
        nodegroups: nodegroups.map((ng) => ({ ...ng, eksboxVersion: naming.versionOf(ng.name) })),
        toolbox: toolbox.image,
        rollingTo: clusterFacts?.tags?.[ROLL_TARGET_TAG] ?? null,
        lastRun: mergeLastRun(run, cloudRun),
        lock: cloudLock ?? lock ?? null,
        support: support ?? null,
      };
    },
  );
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(report, null, 2) + "\n" : statusAsText(report));
}

/** Status still reports the rest when the account's state cannot be read (no DynamoDB permission, say). */
function unreadable(ctx: CommandContext, what: string) {
  return (error: unknown): undefined => {
    log.warn(
      ctx.events,
      `could not read ${what} from the environment's account: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
    );
    return undefined;
  };
}

/** The cloud's record says which run was last; this checkout's record adds the steps and the resume command when it was that run. */
function mergeLastRun(local: RunSummary | undefined, cloud: CloudRunSummary | undefined): StatusReport["lastRun"] {
  if (!cloud) return local ?? null;
  const fromCloud = { ...cloud, status: cloud.outcome as RunSummary["status"] };
  return local?.runId === cloud.runId ? { ...local, ...fromCloud } : fromCloud;
}

export function statusAsText(report: StatusReport): string {
  const lines = [`environment ${report.env} (account ${report.account}, ${report.region})`];
  const c = report.cluster;
  lines.push(
    c ? `cluster     ${c.name}: ${c.status}, Kubernetes ${c.version ?? "?"}, endpoint ${c.endpoint ?? "-"}` : "cluster     not created",
  );
  if (report.nodegroups.length === 0) lines.push("nodegroups  none");
  else {
    lines.push("nodegroups");
    const rows = report.nodegroups.map((ng) => [
      ng.name,
      ng.eksboxVersion ?? "-",
      ng.status,
      `${ng.minSize ?? "?"}/${ng.desiredCapacity ?? "?"}/${ng.maxSize ?? "?"}`,
      ng.type === "managed" ? "managed" : "self-managed",
      ng.instanceType ?? "-",
    ]);
    const header = ["NAME", "VERSION", "STATUS", "MIN/DESIRED/MAX", "TYPE", "INSTANCES"];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    for (const row of [header, ...rows])
      lines.push(
        "  " +
          row
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join("  ")
            .trimEnd(),
      );
  }
  if (report.support) {
    lines.push(`support     ${report.support.summary}`);
    if (report.support.warning) lines.push(`WARNING     ${report.support.warning}`);
  }
  const tools = Object.entries(report.toolbox.tools)
    .map(([t, v]) => `${t} ${v}`)
    .join(", ");
  lines.push(`toolbox     ${report.toolbox.ref} (${report.toolbox.digest ?? report.toolbox.id})${tools ? `: ${tools}` : ""}`);
  const r = report.lastRun;
  if (report.rollingTo)
    lines.push(`roll        in progress to version ${report.rollingTo}; finish it: eksbox nodegroup roll --env ${report.env}`);
  lines.push(
    r
      ? `last run    ${r.command ?? r.task} ${r.status} (${r.runId}${r.host ? ` on ${r.host}` : ""}, ${r.endedAt ?? r.startedAt})${r.resume ? `; resume with: ${r.resume}` : ""}`
      : "last run    none",
  );
  const l = report.lock;
  if (l)
    lines.push(
      `locked      by ${l.task} (run ${l.runId}, pid ${l.pid} on ${l.host}, since ${l.startedAt}${l.heartbeatAt ? `, last heartbeat ${l.heartbeatAt}` : ""})`,
    );
  return lines.join("\n") + "\n";
}
