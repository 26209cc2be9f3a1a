// diff over a fleet, without a cloud: each environment's one-environment diff is stood in for by a
// function printing the JSON result that command prints (or throwing its error); what is tested is
// the fleet's part: one table, per-environment JSON, and the exit code rule (Terraform's
// -detailed-exitcode: 0 no drift, 2 drift, 1 any environment could not be checked, winning over 2).
import { afterEach, describe, expect, it } from "vitest";
import { diffFleet, type DiffReport } from "../../../src/commands/diff.js";
import { detailedExitCode, runFleet, worstExitCode } from "../../../src/commands/fleet.js";
import { StepFailedError, UserError } from "../../../src/core/errors.js";
import type { Change } from "../../../src/steps/converge/change.js";
import { commandContext } from "../config/project-fixture.js";

afterEach(() => {
  // runFleet sets the process's exit code, as the CLI needs; the test runner must not inherit it.
  process.exitCode = undefined;
});

const maxSize = (nodegroup: string, reportOnly = false): Change => ({
  step: "nodegroups",
  resource: `nodegroup ${nodegroup}`,
  field: reportOnly ? "desiredCapacity" : "maxSize",
  live: 9,
  wanted: 5,
  kind: "inPlace",
  destructive: false,
  ...(reportOnly ? { reportOnly } : {}),
});

/** What each environment's diff finds: its changes, or the error it fails with. */
type World = Record<string, Change[] | Error>;

async function diffOver(world: World, opts: { exitCode: boolean; output?: "text" | "json" }) {
  const { ctx, output } = commandContext("/nonexistent", { output: opts.output });
  const command = diffFleet(async (child, env) => {
    const found = world[env]!;
    if (found instanceof Error) throw found;
    const report: DiffReport = { env, changes: found, count: found.filter((c) => !c.reportOnly).length };
    child.stdout.write(JSON.stringify(report) + "\n");
  }, opts.exitCode);
  const fleet = await runFleet(ctx, Object.keys(world), 2, command);
  return { ...fleet, printed: output(), processExitCode: process.exitCode };
}

describe("the fleet's exit code", () => {
  it.each([
    [[], 0],
    [[0, 0], 0],
    [[0, 2], 2],
    [[2, 2], 2],
    [[2, 1], 1],
    [[1, 2, 0], 1],
    [[0, 130], 1],
  ])("diff (-detailed-exitcode) of %j is %i: an error wins over drift", (codes, expected) => {
    expect(detailedExitCode(codes)).toBe(expected);
  });

  it("the other read-only commands take the worst", () => {
    expect(worstExitCode([0, 2, 1])).toBe(2);
    expect(worstExitCode([])).toBe(0);
  });
});

describe("diff --env a,b,c", () => {
  it("--exit-code: 2 when one environment drifted, one table naming what", async () => {
    const run = await diffOver({ a: [], b: [maxSize("worker-1a")], c: [maxSize("worker-1b", true)] }, { exitCode: true });
    expect(run.exitCode).toBe(2);
    expect(run.processExitCode).toBe(2);
    const lines = run.printed.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ENV\s+RESULT\s+DIFFERENCES$/);
    expect(lines[1]).toMatch(/^a\s+ok\s+none$/);
    expect(lines[2]).toMatch(/^b\s+exit 2\s+1: nodegroups: ~ nodegroup worker-1a maxSize: 9 → 5 \(inPlace\)$/);
    // Only reported (the autoscaler's desired capacity): shown, not drift.
    expect(lines[3]).toMatch(/^c\s+ok\s+0: nodegroups: ~ nodegroup worker-1b desiredCapacity: 9 → 5 \(inPlace, reported only\)$/);
    expect(lines[4]).toBe("diff: 3 environment(s), 1 not ok");
  });

  it("without --exit-code drift is not a failure", async () => {
    const run = await diffOver({ a: [], b: [maxSize("worker-1a")] }, { exitCode: false });
    expect(run.exitCode).toBe(0);
    expect(run.processExitCode).toBeUndefined();
  });

  it("an environment that could not be checked makes it 1, even with drift elsewhere and a bad-input error (2 alone)", async () => {
    const badConfig = new UserError("refusing to act: the credentials are for account 999999999999");
    expect(badConfig.exitCode).toBe(2);
    const run = await diffOver({ a: [maxSize("worker-1a")], b: badConfig }, { exitCode: true, output: "json" });
    expect(run.exitCode).toBe(1);
    expect(run.processExitCode).toBe(1);
    const json = JSON.parse(run.printed) as {
      command: string;
      exitCode: number;
      environments: { env: string; exitCode: number; result?: DiffReport; error?: { kind: string; message: string } }[];
    };
    expect(json.command).toBe("diff");
    expect(json.exitCode).toBe(1);
    expect(json.environments.map((e) => [e.env, e.exitCode])).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
    expect(json.environments[0]!.result!.count).toBe(1);
    expect(json.environments[0]!.result!.changes[0]!.field).toBe("maxSize");
    expect(json.environments[1]!.error).toMatchObject({ kind: "user", message: badConfig.message });
  });

  it("a failed step is 1 as well", async () => {
    const run = await diffOver({ a: [], b: new StepFailedError({ step: "preflight", exitCode: 254 }) }, { exitCode: true });
    expect(run.exitCode).toBe(1);
    expect(run.printed).toMatch(/^b\s+failed \(1\)/m);
  });
});
