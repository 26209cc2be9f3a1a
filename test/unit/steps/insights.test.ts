// The upgrade insights gate against a scripted toolbox: ERROR refuses without --force and goes on
// (saying so) with it; WARNING is shown and goes on; insights older than a day are refreshed before
// a run, reported as stale under plan or when the refresh fails.
import { describe, expect, it } from "vitest";
import { MemorySink } from "../../../src/core/events.js";
import { UserError } from "../../../src/core/errors.js";
import type { LifecycleContext } from "../../../src/steps/lifecycle.js";
import { readUpgradeInsights, upgradeInsightsGate } from "../../../src/steps/insights.js";
import type { ToolboxRunRequest, ToolboxRunResult } from "../../../src/runtime/types.js";

const NOW = new Date("2026-11-26T12:00:00Z");
const secondsAgo = (s: number) => NOW.getTime() / 1000 - s;

function scripted(insights: Record<string, unknown>[], refresh: "COMPLETED" | "FAILED" = "COMPLETED") {
  const calls: string[] = [];
  let rows = insights;
  const answer = (argv: readonly string[]): ToolboxRunResult => {
    const verb = argv.slice(0, 3).join(" ");
    calls.push(argv.join(" "));
    const ok = (v: unknown) => ({ exitCode: 0, stdout: JSON.stringify(v), outputTail: [] });
    if (verb === "aws eks list-insights") return ok({ insights: rows });
    if (verb === "aws eks describe-insight") {
      const id = argv[argv.indexOf("--id") + 1];
      return ok({
        insight: { ...rows.find((r) => r.id === id), recommendation: `fix ${id}`, resources: [{ kubernetesResourceUri: `/api/x/${id}` }] },
      });
    }
    if (verb === "aws eks start-insights-refresh") {
      if (refresh === "COMPLETED") rows = rows.map((r) => ({ ...r, lastRefreshTime: NOW.getTime() / 1000 }));
      return ok({ status: "IN_PROGRESS" });
    }
    if (verb === "aws eks describe-insights-refresh") return ok({ status: refresh, message: refresh === "FAILED" ? "throttled" : "done" });
    return { exitCode: 1, stdout: "", outputTail: [`unknown ${verb}`] };
  };
  const toolbox = {
    run: async (r: ToolboxRunRequest) => answer(r.argv),
    runOrFail: async (r: ToolboxRunRequest) => answer(r.argv),
  };
  const events = new MemorySink();
  const ctx = (planning: boolean) =>
    ({
      toolbox,
      events,
      planning,
      signal: new AbortController().signal,
      clock: () => NOW,
      facts: { clusterName: "stg", region: "us-east-1" },
    }) as unknown as LifecycleContext;
  return { calls, events, ctx };
}

const insight = (id: string, status: string, age = 3600) => ({
  id,
  name: `${id} check`,
  kubernetesVersion: "1.35",
  lastRefreshTime: secondsAgo(age),
  insightStatus: { status, reason: `${id} reason` },
});

describe("the upgrade insights gate", () => {
  it("refuses a hop with an ERROR insight, naming it; --force goes on and says so", async () => {
    const { ctx, events } = scripted([insight("deprecated-apis", "ERROR"), insight("kubelet-skew", "PASSING")]);
    const refused = await upgradeInsightsGate(ctx(false), "control-plane", "1.35", {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserError);
    expect((refused as Error).message).toBe("upgrade to Kubernetes 1.35 refused: 1 upgrade insight(s) in ERROR: deprecated-apis check");
    const report = await upgradeInsightsGate(ctx(false), "control-plane", "1.35", { force: true });
    expect(report.errors.map((i) => i.recommendation)).toEqual(["fix deprecated-apis"]);
    const warnings = events.events.flatMap((e) => (e.type === "log" && e.level === "warn" ? [e.message] : []));
    expect(warnings).toContain(
      "[control-plane] --force: going on to Kubernetes 1.35 despite 1 upgrade insight(s) in ERROR: deprecated-apis check",
    );
    expect(
      warnings.some((w) =>
        w.includes(
          "ERROR deprecated-apis check (deprecated-apis); deprecated-apis reason; resources: /api/x/deprecated-apis; recommendation: fix deprecated-apis",
        ),
      ),
    ).toBe(true);
  });

  it("shows a WARNING and goes on; insights for other versions are left out", async () => {
    const { ctx, events, calls } = scripted([
      insight("addon-compat", "WARNING"),
      { ...insight("old", "ERROR"), kubernetesVersion: "1.34" },
    ]);
    const report = await upgradeInsightsGate(ctx(false), "control-plane", "1.35", {});
    expect(report.warnings.map((i) => i.id)).toEqual(["addon-compat"]);
    expect(report.errors).toEqual([]);
    expect(events.events.some((e) => e.type === "log" && e.level === "warn" && e.message.includes("WARNING addon-compat check"))).toBe(
      true,
    );
    expect(calls.filter((c) => c.startsWith("aws eks describe-insight "))).toHaveLength(1);
  });

  it("refreshes insights older than a day before a run", async () => {
    const { ctx, calls } = scripted([insight("a", "PASSING", 2 * 86_400)]);
    const report = await readUpgradeInsights(ctx(false), "control-plane", "1.35", { pollIntervalMs: 1 });
    expect(report.stale).toBeUndefined();
    expect(calls).toContain("aws eks start-insights-refresh --cluster-name stg --region us-east-1 --output json");
    expect(report.insights[0]!.lastRefreshTime).toEqual(NOW);
  });

  it("reports them as stale under plan (no refresh) and when the refresh fails", async () => {
    const planning = scripted([insight("a", "WARNING", 2 * 86_400)]);
    const planned = await readUpgradeInsights(planning.ctx(true), "control-plane", "1.35", {});
    expect(planned.stale).toMatch(/more than a day ago; eksbox upgrade refreshes them first/);
    expect(planning.calls.some((c) => c.includes("start-insights-refresh"))).toBe(false);
    const failing = scripted([insight("a", "WARNING", 2 * 86_400)], "FAILED");
    const failed = await readUpgradeInsights(failing.ctx(false), "control-plane", "1.35", { pollIntervalMs: 1 });
    expect(failed.stale).toMatch(/could not refresh them: the refresh failed: throttled/);
  });
});
