// status --all: each environment's support calendar in the fleet table, with its warning in full
// below the table, at 89 and 91 days before standard support ends and in extended support.
import { describe, expect, it } from "vitest";
import { fleetTable, type EnvironmentResult } from "../../../src/commands/fleet.js";
import { statusFleet, type StatusReport } from "../../../src/commands/status.js";
import { supportCalendar } from "../../../src/steps/support-calendar.js";

const DAY_MS = 86_400_000;
const endOfStandard = "2027-03-01";
const daysBefore = (days: number) => new Date(Date.parse(`${endOfStandard}T12:00:00Z`) - days * DAY_MS);

function report(env: string, version: string, now: Date): StatusReport {
  const dates = {
    version,
    endOfStandardSupport: endOfStandard,
    endOfExtendedSupport: "2028-03-01",
    source: "describe-cluster-versions" as const,
  };
  return {
    env,
    account: "123456789012",
    region: "us-east-1",
    cluster: null,
    nodegroups: [],
    toolbox: { ref: "eksbox-test/toolbox:x", id: "sha256:x", tools: {} },
    rollingTo: null,
    lastRun: null,
    lock: null,
    support: supportCalendar(dates, now),
  };
}

const result = (r: StatusReport): EnvironmentResult => ({ env: r.env, exitCode: 0, result: r, elapsedMs: 1 });
const noRun = async () => {};

describe("status --all: the support calendar of every environment", () => {
  const table = fleetTable(
    [
      result(report("soon", "1.33", daysBefore(89))),
      result(report("later", "1.34", daysBefore(91))),
      result(report("billed", "1.32", daysBefore(-10))),
      { env: "broken", exitCode: 2, error: { kind: "user", message: "refusing to act" }, elapsedMs: 1 },
    ],
    statusFleet(noRun),
  );
  const lines = table.trimEnd().split("\n");

  it("has the end of standard and extended support and where each environment stands", () => {
    expect(lines[0]).toMatch(
      /^ENV\s+RESULT\s+ACCOUNT\s+REGION\s+CLUSTER\s+NODEGROUPS\s+STANDARD SUPPORT\s+EXTENDED SUPPORT\s+SUPPORT NOW\s+LAST RUN$/,
    );
    expect(lines[1]).toMatch(/^soon\s+ok\s+.*1\.33 until 2027-03-01\s+until 2028-03-01\s+standard, 89 day\(s\) left \(WARNING\)\s+none$/);
    expect(lines[2]).toMatch(/^later\s+ok\s+.*1\.34 until 2027-03-01\s+until 2028-03-01\s+standard, 91 day\(s\) left\s+none$/);
    expect(lines[3]).toMatch(
      /^billed\s+ok\s+.*1\.32 until 2027-03-01\s+until 2028-03-01\s+extended, \d+ day\(s\) left \(WARNING\)\s+none$/,
    );
    expect(lines[4]).toMatch(/^broken\s+failed \(2\)\s+refusing to act$/);
  });

  it("warns in full below the table within 90 days and in extended support, not at 91 days", () => {
    const warnings = lines.filter((line) => line.startsWith("WARNING "));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^WARNING soon: Kubernetes 1\.33 leaves standard support in 89 day\(s\), on 2027-03-01: .*\$0\.60 instead of \$0\.10/,
    );
    expect(warnings[1]).toMatch(/^WARNING billed: Kubernetes 1\.32 is in extended support since 2027-03-01, billed at \$0\.60/);
    expect(table).not.toMatch(/WARNING later/);
    expect(lines.at(-1)).toBe("status: 4 environment(s), 1 not ok");
  });
});
