// The support calendar, driven by an injected clock: a warning from 90 days before standard support
// ends, in extended support, and past it; the AWS API's dates win over the shipped table, which
// names the day it was taken.
import { describe, expect, it } from "vitest";
import { EKS_VERSIONS, EKS_VERSIONS_TAKEN_ON } from "../../../src/config/eks-versions.js";
import { datesFromApi, datesFromTable, supportCalendar } from "../../../src/steps/support-calendar.js";
import { statusAsText, type StatusReport } from "../../../src/commands/status.js";

const DAY = 86_400_000;
const dates = {
  version: "1.34",
  endOfStandardSupport: "2026-12-02",
  endOfExtendedSupport: "2027-12-02",
  source: "describe-cluster-versions" as const,
};
const daysBefore = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) - n * DAY);

describe("the support calendar", () => {
  it("warns at 89 days before the end of standard support, not at 91", () => {
    const at89 = supportCalendar(dates, daysBefore("2026-12-02", 89));
    expect(at89.phase).toBe("standard");
    expect(at89.daysLeft).toBe(89);
    expect(at89.warning).toMatch(/leaves standard support in 89 day\(s\), on 2026-12-02/);
    expect(at89.warning).toContain("$0.60 instead of $0.10 per cluster-hour");
    const at91 = supportCalendar(dates, daysBefore("2026-12-02", 91));
    expect(at91.daysLeft).toBe(91);
    expect(at91.warning).toBeUndefined();
    expect(at91.summary).toBe(
      "Kubernetes 1.34: standard support until 2026-12-02, extended support until 2027-12-02 (from describe-cluster-versions)",
    );
  });

  it("warns in extended support, and past its end", () => {
    const extended = supportCalendar(dates, new Date("2027-01-10T12:00:00Z"));
    expect(extended.phase).toBe("extended");
    expect(extended.warning).toMatch(/is in extended support since 2026-12-02, billed at \$0\.60/);
    const gone = supportCalendar(dates, new Date("2028-01-01T00:00:00Z"));
    expect(gone.phase).toBe("unsupported");
    expect(gone.warning).toMatch(/past the end of extended support/);
  });

  it("takes describe-cluster-versions' dates (epoch seconds or ISO), and the table names its date", () => {
    const api = datesFromApi("1.33", {
      clusterVersions: [
        {
          clusterVersion: "1.33",
          endOfStandardSupportDate: Date.parse("2026-07-29T00:00:00Z") / 1000,
          endOfExtendedSupportDate: "2027-07-29T00:00:00+00:00",
        },
      ],
    });
    expect(api).toEqual({
      version: "1.33",
      endOfStandardSupport: "2026-07-29",
      endOfExtendedSupport: "2027-07-29",
      source: "describe-cluster-versions",
    });
    expect(datesFromApi("1.99", { clusterVersions: [] })).toBeUndefined();
    const table = datesFromTable("1.34")!;
    expect(table.source).toBe(`table of ${EKS_VERSIONS_TAKEN_ON}`);
    expect(supportCalendar(table, new Date("2026-01-01T00:00:00Z")).summary).toContain(`from eksbox's table of ${EKS_VERSIONS_TAKEN_ON}`);
    expect(datesFromTable("1.3")).toBeUndefined();
  });

  it("keeps the table's dates in order", () => {
    for (const v of EKS_VERSIONS) {
      expect(Date.parse(v.released) < Date.parse(v.endOfStandardSupport), v.version).toBe(true);
      expect(Date.parse(v.endOfStandardSupport) < Date.parse(v.endOfExtendedSupport), v.version).toBe(true);
    }
  });

  it("status shows the calendar, and the warning only inside 90 days", () => {
    const report = (now: Date): StatusReport => ({
      env: "stg",
      account: "111111111111",
      region: "ap-northeast-1",
      cluster: { name: "stg", status: "ACTIVE", version: "1.34" },
      nodegroups: [],
      rollingTo: null,
      toolbox: { ref: "eksbox/toolbox:x", id: "sha256:1", tools: {} } as unknown as StatusReport["toolbox"],
      lastRun: null,
      lock: null,
      support: supportCalendar(dates, now),
    });
    const at89 = statusAsText(report(daysBefore("2026-12-02", 89)));
    expect(at89).toMatch(/^support {5}Kubernetes 1\.34: standard support until 2026-12-02/m);
    expect(at89).toMatch(/^WARNING {5}Kubernetes 1\.34 leaves standard support in 89 day/m);
    expect(statusAsText(report(daysBefore("2026-12-02", 91)))).not.toContain("WARNING");
  });
});
