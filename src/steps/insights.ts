// The upgrade insights gate: before each control-plane hop, EKS's UPGRADE_READINESS insights for
// that version (deprecated APIs still in use, kubelet skew, addon compatibility...). An ERROR
// refuses the hop unless --force, which is recorded in the run; a WARNING is shown and the hop goes
// on. EKS refreshes insights about once a day: older ones are refreshed first (start-insights-refresh),
// or reported as stale when that cannot be done (under plan, or when the refresh fails).
import { UserError } from "../core/errors.js";
import { log } from "../core/events.js";
import { runJson } from "./cloud.js";
import type { LifecycleContext } from "./lifecycle.js";

export const INSIGHT_MAX_AGE_MS = 86_400_000;

export interface UpgradeInsight {
  id: string;
  name: string;
  kubernetesVersion?: string;
  status: string;
  reason?: string;
  recommendation?: string;
  lastRefreshTime?: Date;
  /** Kubernetes resources or ARNs the insight names (non-passing ones only). */
  resources: string[];
}

export interface InsightsReport {
  version: string;
  insights: UpgradeInsight[];
  errors: UpgradeInsight[];
  warnings: UpgradeInsight[];
  /** Set when the insights are older than a day and could not be refreshed. */
  stale?: string;
}

export interface GateOptions {
  force?: boolean;
  pollIntervalMs?: number;
  /** How many times to ask whether a refresh has finished. */
  refreshPolls?: number;
}

function toDate(value: unknown): Date | undefined {
  if (typeof value === "number") return new Date(value * 1000);
  if (typeof value === "string" && value !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? new Date(n * 1000) : new Date(value);
  }
  return undefined;
}

interface InsightRow {
  id: string;
  name?: string;
  kubernetesVersion?: string;
  lastRefreshTime?: unknown;
  insightStatus?: { status?: string; reason?: string };
}

async function listInsights(ctx: LifecycleContext, step: string): Promise<InsightRow[]> {
  const out = await runJson<{ insights?: InsightRow[] }>(ctx.toolbox, step, [
    "aws",
    "eks",
    "list-insights",
    "--cluster-name",
    ctx.facts.clusterName,
    "--region",
    ctx.facts.region,
    "--filter",
    "categories=UPGRADE_READINESS",
    "--output",
    "json",
  ]);
  return out.insights ?? [];
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Asks EKS to refresh the insights and waits for it; the reason it could not, or undefined when done. */
async function refreshInsights(ctx: LifecycleContext, step: string, opts: GateOptions): Promise<string | undefined> {
  const args = ["--cluster-name", ctx.facts.clusterName, "--region", ctx.facts.region, "--output", "json"];
  const started = await ctx.toolbox.run({ step, argv: ["aws", "eks", "start-insights-refresh", ...args], captureStdout: true });
  if (started.exitCode !== 0) return `start-insights-refresh exited ${started.exitCode}`;
  for (let poll = 0; poll < (opts.refreshPolls ?? 30); poll++) {
    const state = await runJson<{ status?: string; message?: string }>(ctx.toolbox, step, [
      "aws",
      "eks",
      "describe-insights-refresh",
      ...args,
    ]);
    if (state.status === "COMPLETED") return undefined;
    if (state.status === "FAILED") return `the refresh failed${state.message ? `: ${state.message}` : ""}`;
    if (ctx.signal.aborted) return "interrupted";
    await sleep(opts.pollIntervalMs ?? 5_000, ctx.signal);
  }
  return "the refresh did not finish in time";
}

/** Reads (refreshing if stale and allowed) the UPGRADE_READINESS insights for one hop's version. */
export async function readUpgradeInsights(
  ctx: LifecycleContext,
  step: string,
  version: string,
  opts: GateOptions = {},
): Promise<InsightsReport> {
  const now = (ctx.clock ?? (() => new Date()))();
  const forVersion = (rows: InsightRow[]) => rows.filter((r) => !r.kubernetesVersion || r.kubernetesVersion === version);
  let rows = forVersion(await listInsights(ctx, step));
  const oldest = () => Math.min(...rows.map((r) => toDate(r.lastRefreshTime)?.getTime() ?? now.getTime()));
  let stale: string | undefined;
  if (rows.length > 0 && now.getTime() - oldest() > INSIGHT_MAX_AGE_MS) {
    const age = `last refreshed ${new Date(oldest()).toISOString().replace(/\.\d+Z$/, "Z")}, more than a day ago`;
    if (ctx.planning) stale = `${age}; eksbox upgrade refreshes them first`;
    else {
      const failed = await refreshInsights(ctx, step, opts);
      if (failed) stale = `${age}; could not refresh them: ${failed}`;
      else rows = forVersion(await listInsights(ctx, step));
    }
  }
  const insights = await Promise.all(
    rows.map(async (row): Promise<UpgradeInsight> => {
      const base: UpgradeInsight = {
        id: row.id,
        name: row.name ?? row.id,
        kubernetesVersion: row.kubernetesVersion,
        status: row.insightStatus?.status ?? "UNKNOWN",
        reason: row.insightStatus?.reason,
        lastRefreshTime: toDate(row.lastRefreshTime),
        resources: [],
      };
      if (base.status === "PASSING") return base;
      const { insight } = await runJson<{
        insight: { recommendation?: string; resources?: { kubernetesResourceUri?: string; arn?: string }[] };
      }>(ctx.toolbox, step, [
        "aws",
        "eks",
        "describe-insight",
        "--cluster-name",
        ctx.facts.clusterName,
        "--region",
        ctx.facts.region,
        "--id",
        row.id,
        "--output",
        "json",
      ]);
      return {
        ...base,
        recommendation: insight.recommendation,
        resources: (insight.resources ?? []).map((r) => r.kubernetesResourceUri ?? r.arn ?? "").filter(Boolean),
      };
    }),
  );
  return {
    version,
    insights,
    errors: insights.filter((i) => i.status === "ERROR"),
    warnings: insights.filter((i) => i.status === "WARNING"),
    stale,
  };
}

export function insightLine(i: UpgradeInsight): string {
  const parts = [`${i.status} ${i.name} (${i.id})`];
  if (i.reason) parts.push(i.reason);
  if (i.resources.length > 0) parts.push(`resources: ${i.resources.slice(0, 5).join(", ")}${i.resources.length > 5 ? ", ..." : ""}`);
  if (i.recommendation) parts.push(`recommendation: ${i.recommendation}`);
  return parts.join("; ");
}

export function insightsSummary(report: InsightsReport): string {
  const passing = report.insights.length - report.errors.length - report.warnings.length;
  const counts = `upgrade insights for ${report.version}: ${report.errors.length} ERROR, ${report.warnings.length} WARNING, ${passing} other`;
  return report.stale ? `${counts} (stale: ${report.stale})` : counts;
}

/**
 * Shows a hop's insights and decides whether it may go: throws on ERROR insights without --force;
 * with --force it goes on and says so, which the run record keeps.
 */
export async function upgradeInsightsGate(
  ctx: LifecycleContext,
  step: string,
  version: string,
  opts: GateOptions,
): Promise<InsightsReport> {
  const report = await readUpgradeInsights(ctx, step, version, opts);
  for (const i of [...report.errors, ...report.warnings])
    log.warn(ctx.events, `[${step}] upgrade insight for ${version}: ${insightLine(i)}`);
  for (const i of report.insights.filter((x) => x.status !== "ERROR" && x.status !== "WARNING" && x.status !== "PASSING")) {
    log.info(ctx.events, `[${step}] upgrade insight for ${version}: ${insightLine(i)}`);
  }
  if (report.stale) log.warn(ctx.events, `[${step}] the upgrade insights for ${version} are stale: ${report.stale}`);
  if (report.errors.length > 0) {
    const names = report.errors.map((i) => i.name).join(", ");
    if (!opts.force) {
      throw new UserError(`upgrade to Kubernetes ${version} refused: ${report.errors.length} upgrade insight(s) in ERROR: ${names}`, {
        hint: "fix what they name (the recommendations are shown above), or pass --force to upgrade anyway (recorded in the run)",
      });
    }
    log.warn(
      ctx.events,
      `[${step}] --force: going on to Kubernetes ${version} despite ${report.errors.length} upgrade insight(s) in ERROR: ${names}`,
    );
  }
  return report;
}
