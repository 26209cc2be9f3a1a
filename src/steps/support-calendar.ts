// The support calendar of the cluster's Kubernetes version: when standard support ends (then the
// cluster is billed for extended support, $0.60 instead of $0.10 per cluster-hour) and when extended
// support ends (then EKS upgrades the control plane itself). Read from `aws eks
// describe-cluster-versions`; when that cannot answer, from the table shipped in eks-versions.ts,
// which names the day it was taken.
import { Writable } from "node:stream";
import { EKS_VERSIONS_TAKEN_ON, eksVersion } from "../config/eks-versions.js";
import { log } from "../core/events.js";
import type { Toolbox } from "../runtime/types.js";
import type { LifecycleContext } from "./lifecycle.js";
import { convergeFor, forgetConverge } from "./converge/converge.js";
import { runDecision, runPlannedCommands, skipDecision, stepId, type Step } from "./model.js";

/** Warn this many days before standard support (or extended support) ends. */
export const SUPPORT_WARNING_DAYS = 90;

export interface SupportDates {
  version: string;
  endOfStandardSupport: string;
  endOfExtendedSupport: string;
  /** Where the dates come from: the AWS API, or the shipped table and the day it was taken. */
  source: "describe-cluster-versions" | `table of ${string}`;
}

export interface SupportCalendar extends SupportDates {
  phase: "standard" | "extended" | "unsupported";
  /** Days until the end of the current phase (negative once unsupported). */
  daysLeft: number;
  /** Set when the environment needs attention: within 90 days of an end, or already in extended support. */
  warning?: string;
  /** One line for status and plan. */
  summary: string;
}

const DAY_MS = 86_400_000;

function toDay(value: unknown): string | undefined {
  if (typeof value === "number") return new Date(value * 1000).toISOString().slice(0, 10);
  if (typeof value === "string" && value !== "") {
    const n = Number(value);
    return Number.isFinite(n) ? new Date(n * 1000).toISOString().slice(0, 10) : new Date(value).toISOString().slice(0, 10);
  }
  return undefined;
}

/** The dates from `aws eks describe-cluster-versions` output, or undefined when it does not name the version. */
export function datesFromApi(version: string, output: unknown): SupportDates | undefined {
  const rows = (output as { clusterVersions?: Record<string, unknown>[] })?.clusterVersions ?? [];
  const row = rows.find((r) => r.clusterVersion === version);
  const standard = toDay(row?.endOfStandardSupportDate);
  const extended = toDay(row?.endOfExtendedSupportDate);
  if (!standard || !extended) return undefined;
  return { version, endOfStandardSupport: standard, endOfExtendedSupport: extended, source: "describe-cluster-versions" };
}

export function datesFromTable(version: string): SupportDates | undefined {
  const row = eksVersion(version);
  return (
    row && {
      version,
      endOfStandardSupport: row.endOfStandardSupport,
      endOfExtendedSupport: row.endOfExtendedSupport,
      source: `table of ${EKS_VERSIONS_TAKEN_ON}`,
    }
  );
}

/** Where the version stands on `now`, and the warning to show if it needs attention. */
export function supportCalendar(dates: SupportDates, now: Date): SupportCalendar {
  const days = (day: string) => Math.ceil((Date.parse(`${day}T00:00:00Z`) - now.getTime()) / DAY_MS);
  const toStandardEnd = days(dates.endOfStandardSupport);
  const toExtendedEnd = days(dates.endOfExtendedSupport);
  const from = dates.source === "describe-cluster-versions" ? "from describe-cluster-versions" : `from eksbox's ${dates.source}`;
  const base = `Kubernetes ${dates.version}: standard support until ${dates.endOfStandardSupport}, extended support until ${dates.endOfExtendedSupport} (${from})`;
  if (toStandardEnd > 0) {
    const warning =
      toStandardEnd <= SUPPORT_WARNING_DAYS
        ? `Kubernetes ${dates.version} leaves standard support in ${toStandardEnd} day(s), on ${dates.endOfStandardSupport}: then it is billed for extended support ($0.60 instead of $0.10 per cluster-hour); plan the upgrade (eksbox plan upgrade)`
        : undefined;
    return { ...dates, phase: "standard", daysLeft: toStandardEnd, warning, summary: base };
  }
  if (toExtendedEnd > 0) {
    return {
      ...dates,
      phase: "extended",
      daysLeft: toExtendedEnd,
      warning: `Kubernetes ${dates.version} is in extended support since ${dates.endOfStandardSupport}, billed at $0.60 instead of $0.10 per cluster-hour; it ends in ${toExtendedEnd} day(s), on ${dates.endOfExtendedSupport}, when EKS upgrades the control plane itself; upgrade (eksbox upgrade)`,
      summary: base,
    };
  }
  return {
    ...dates,
    phase: "unsupported",
    daysLeft: toExtendedEnd,
    warning: `Kubernetes ${dates.version} is past the end of extended support (${dates.endOfExtendedSupport}): EKS upgrades such clusters itself; upgrade now (eksbox upgrade)`,
    summary: base,
  };
}

/** The calendar for a version: the AWS API first, the shipped table when it cannot answer; undefined when neither knows it. */
export async function readSupportCalendar(
  toolbox: Toolbox,
  opts: { step: string; region: string; version: string; now: Date },
): Promise<SupportCalendar | undefined> {
  const argv = ["aws", "eks", "describe-cluster-versions", "--cluster-versions", opts.version, "--region", opts.region, "--output", "json"];
  let dates: SupportDates | undefined;
  const result = await toolbox.run({ step: opts.step, argv, captureStdout: true, output: quiet() }).catch(() => undefined);
  if (result?.exitCode === 0) {
    try {
      dates = datesFromApi(opts.version, JSON.parse(result.stdout || "{}"));
    } catch {
      dates = undefined;
    }
  }
  dates ??= datesFromTable(opts.version);
  return dates && supportCalendar(dates, opts.now);
}

/** A failed call here only means "use the table": its output is not the user's concern. */
function quiet() {
  const sink = () => new Writable({ write: (_c, _e, done) => done() });
  return { stdout: sink(), stderr: sink() };
}

/**
 * born's last word on the cluster's lifecycle: the support calendar of its version (a warning within
 * 90 days of an end, or in extended support) and cluster.upgradePolicy.supportType converged.
 */
export const supportStep: Step<LifecycleContext> = {
  id: "support",
  description: "the support calendar and the upgrade policy",
  needs: ["cluster"],
  async decide(ctx) {
    const cluster = await ctx.facts.cluster();
    const version = cluster?.version ?? ctx.env.config.cluster.version;
    const calendar = await readSupportCalendar(ctx.toolbox, {
      step: stepId(ctx),
      region: ctx.facts.region,
      version,
      now: (ctx.clock ?? (() => new Date()))(),
    });
    if (calendar?.warning) log.warn(ctx.events, calendar.warning);
    const said = calendar
      ? calendar.summary
      : `Kubernetes ${version}: not in eksbox's table, and describe-cluster-versions did not name it`;
    const wanted = ctx.env.config.cluster.upgradePolicy?.supportType;
    // The policy's change is the converge result's (diff.ts identityChanges), so diff and a saved plan hold it too.
    const change = cluster ? (await convergeFor(ctx)).changes.find((c) => c.step === "support") : undefined;
    if (!cluster || !wanted || !change?.argv) {
      const policy = wanted ? (cluster ? `; upgradePolicy ${wanted}` : `; eksctl create cluster sets upgradePolicy ${wanted}`) : "";
      return skipDecision(said + policy);
    }
    return runDecision(`update ${change.resource} ${change.field}: ${String(change.live ?? "-")} -> ${wanted}; ${said}`, [change.argv]);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    ctx.facts.forget("cluster");
    forgetConverge(ctx);
  },
};
