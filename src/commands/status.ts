import type { CommandContext } from "../core/context.js";
import { fleetEnvironments, parallelism, runFleet, type FleetCommand, type FleetSelection } from "./fleet.js";
import { openToolbox } from "../runtime/toolbox.js";
import { CloudFacts, type ClusterFacts, type NodegroupFacts } from "../steps/cloud.js";
import { nodegroupNaming } from "../steps/lifecycle.js";
import { currentLockHolder, type LockHolder } from "../steps/lock.js";
import { newRunId } from "../core/layout.js";
import { lastRun, type RunSummary } from "../steps/run-record.js";
import { loadSessionEnvironment, type SessionOptions } from "../steps/session.js";
import type { ImageInfo } from "../runtime/types.js";

export interface StatusReport {
  env: string;
  account: string;
  region: string;
  cluster: ClusterFacts | null;
  nodegroups: (NodegroupFacts & { eksboxVersion?: string })[];
  toolbox: ImageInfo;
  lastRun: RunSummary | null;
  lock: LockHolder | null;
}

/** eksbox status: what exists in AWS for the environment, the toolbox, and the last run; --all for every one. */
export async function statusCommand(ctx: CommandContext, opts: SessionOptions & FleetSelection): Promise<void> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    await runFleet(ctx, names, parallelism(opts.parallel, ctx.processEnv), statusFleet((child, env) => oneStatus(child, { ...opts, env })));
    return;
  }
  await oneStatus(ctx, opts);
}

export function statusFleet(runOne: FleetCommand["runOne"]): FleetCommand {
  return {
    name: "status",
    runOne,
    columns: ["ACCOUNT", "REGION", "CLUSTER", "NODEGROUPS", "LAST RUN"],
    row(r) {
      const report = r.result as StatusReport;
      const c = report.cluster;
      const versions = [...new Set(report.nodegroups.map((ng) => ng.eksboxVersion ?? "-"))].join(",");
      return [
        report.account,
        report.region,
        c ? `${c.name} ${c.status} ${c.version ?? "?"}` : "not created",
        report.nodegroups.length === 0 ? "none" : `${report.nodegroups.length} (${versions})`,
        report.lastRun ? `${report.lastRun.task} ${report.lastRun.status}` : report.lock ? `locked by ${report.lock.task}` : "none",
      ];
    },
  };
}

async function oneStatus(ctx: CommandContext, opts: SessionOptions): Promise<void> {
  const { envName, env } = await loadSessionEnvironment(ctx, opts);
  const { aws, cluster } = env.config;
  const toolbox = await openToolbox({
    projectRoot: ctx.projectRoot,
    envName,
    aws: { profile: aws.profile || undefined, region: aws.region, endpointUrl: aws.endpointUrl },
    imageRef: opts.image,
    runId: newRunId(),
    events: ctx.events,
    interrupter: ctx.interrupter,
    processEnv: ctx.processEnv,
    credentials: { assumeRole: aws.assumeRole },
  });
  let report: StatusReport;
  try {
    const facts = new CloudFacts(toolbox, cluster.name, aws.region).forStep("status");
    const naming = await nodegroupNaming(ctx.projectRoot, env);
    const [clusterFacts, nodegroups, run, lock] = await Promise.all([
      facts.cluster(),
      facts.nodegroups(),
      lastRun(ctx.projectRoot, envName),
      currentLockHolder(ctx.projectRoot, envName),
    ]);
    report = {
      env: envName,
      account: aws.accountId,
      region: aws.region,
      cluster: clusterFacts ?? null,
      nodegroups: nodegroups.map((ng) => ({ ...ng, eksboxVersion: naming.versionOf(ng.name) })),
      toolbox: toolbox.image,
      lastRun: run ?? null,
      lock: lock ?? null,
    };
  } finally {
    await toolbox.dispose();
  }
  ctx.stdout.write(ctx.output === "json" ? JSON.stringify(report, null, 2) + "\n" : statusAsText(report));
}

export function statusAsText(report: StatusReport): string {
  const lines = [`environment ${report.env} (account ${report.account}, ${report.region})`];
  const c = report.cluster;
  lines.push(c ? `cluster     ${c.name}: ${c.status}, Kubernetes ${c.version ?? "?"}, endpoint ${c.endpoint ?? "-"}` : "cluster     not created");
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
    for (const row of [header, ...rows]) lines.push("  " + row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
  }
  const tools = Object.entries(report.toolbox.tools).map(([t, v]) => `${t} ${v}`).join(", ");
  lines.push(`toolbox     ${report.toolbox.ref} (${report.toolbox.digest ?? report.toolbox.id})${tools ? `: ${tools}` : ""}`);
  const r = report.lastRun;
  lines.push(r ? `last run    ${r.task} ${r.status} (${r.runId}, ${r.endedAt ?? r.startedAt})${r.resume ? `; resume with: ${r.resume}` : ""}` : "last run    none");
  if (report.lock) lines.push(`locked      by ${report.lock.task} (pid ${report.lock.pid} on ${report.lock.host}, since ${report.lock.startedAt})`);
  return lines.join("\n") + "\n";
}
