// Many environments at once against moto: the read-only commands take --env a,b and --all, run side
// by side, print one table (or per-environment JSON) and exit with the worst code; the commands
// that change things refuse a list.
import { writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_AWS_ENV } from "../support/aws-cli.js";
import { seedStandin, startMoto, type MotoServer } from "../support/moto.js";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { envYaml, makeTestProject, removeOurContainers, type TestProject } from "../reliability/support/project.js";

const ENVS = ["fleet-a", "fleet-b", "fleet-c"];
let moto: MotoServer;
let project: TestProject;
let image: string;

beforeAll(async () => {
  image = await ensureTestToolboxImage();
  moto = await startMoto();
  project = await makeTestProject("eksbox-fleet-");
  for (const name of ENVS) await project.writeEnv(name, { endpointUrl: moto.url });
}, 900_000);
afterAll(async () => {
  await removeOurContainers(ENVS);
  await moto?.stop();
  await project?.cleanup();
});

const run = (args: string[], env: Record<string, string> = {}) =>
  project.run(args, { env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, ...env }, timeoutMs: 300_000 });

describe("read-only commands over several environments", () => {
  it("status --env a,b,c --output json gives each environment's own result", async () => {
    const result = await run(["status", "--env", ENVS.join(","), "--output", "json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as {
      exitCode: number;
      environments: { env: string; exitCode: number; result: { env: string; cluster: unknown } }[];
    };
    expect(json.exitCode).toBe(0);
    expect(json.environments.map((e) => e.env)).toEqual(ENVS);
    for (const e of json.environments) {
      expect(e.result.env).toBe(e.env);
      expect(e.result.cluster).toBeNull();
    }
  });

  it("plan born over a fleet with one bad environment: one table, the others planned, the worst exit code", async () => {
    await writeFile(
      join(project.root, "config/environments/fleet-c.yaml"),
      envYaml({ endpointUrl: moto.url }).replace('accountId: "123456789012"', 'accountId: "999999999999"'),
    );
    try {
      const result = await run(["plan", "born", "--env", ENVS.join(",")]);
      expect(result.exitCode).toBe(2);
      const lines = result.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/^ENV\s+RESULT\s+ACCOUNT\s+WOULD RUN$/);
      expect(lines[1]).toMatch(/^fleet-a\s+ok\s+123456789012\s+.*cluster/);
      expect(lines[2]).toMatch(/^fleet-b\s+ok\s+123456789012/);
      expect(lines[3]).toMatch(/^fleet-c\s+failed \(2\)\s+refusing to act: the credentials are for account 123456789012/);
      expect(lines[4]).toBe("plan born: 3 environment(s), 1 not ok");
      expect(result.stderr).toContain("[fleet-c] error: refusing to act");
    } finally {
      await project.writeEnv("fleet-c", { endpointUrl: moto.url });
    }
  });

  it("generate --all writes every environment's files; validate takes a list", async () => {
    const generated = await run(["generate", "--all", "--output", "json"]);
    expect(generated.exitCode, generated.stderr).toBe(0);
    const names = (JSON.parse(generated.stdout) as { environments: { env: string }[] }).environments.map((e) => e.env);
    for (const name of ENVS) {
      expect(names).toContain(name);
      expect(existsSync(join(project.root, "build", name, "cluster.yaml"))).toBe(true);
    }
    const validated = await run(["validate", "--env", "fleet-a,fleet-b"]);
    expect(validated.exitCode, validated.stderr).toBe(0);
    expect(validated.stdout.trim().split("\n")).toEqual([
      "ENV      RESULT  PROBLEMS",
      "fleet-a  ok      0",
      "fleet-b  ok      0",
      "validate: 2 environment(s), all ok",
    ]);
  });

  it("validate --all with a broken environment: one JSON document in the fleet's shape, every problem, exit 2", async () => {
    await writeFile(
      join(project.root, "config/environments/fleet-c.yaml"),
      envYaml({ endpointUrl: moto.url }).replace('accountId: "123456789012"', "accountId: 123456789012"),
    );
    try {
      const json = await run(["validate", "--all", "--output", "json"]);
      expect(json.exitCode, json.stderr).toBe(2);
      const parsed = JSON.parse(json.stdout) as {
        command: string;
        exitCode: number;
        environments: { env: string; exitCode: number; result: { issues: { file: string; line: number; path: string; hint: string }[] } }[];
      };
      expect(parsed).toMatchObject({ command: "validate", exitCode: 2 });
      expect(parsed.environments.map((e) => [e.env, e.exitCode, e.result.issues.length])).toEqual([
        ["fleet-a", 0, 0],
        ["fleet-b", 0, 0],
        ["fleet-c", 2, 1],
      ]);
      expect(parsed.environments[2]!.result.issues[0]).toMatchObject({
        file: "config/environments/fleet-c.yaml",
        line: expect.any(Number),
        path: "aws.accountId",
        hint: expect.stringContaining("quote it"),
      });
      const text = await run(["validate", "--all"]);
      expect(text.exitCode).toBe(2);
      expect(text.stdout).toMatch(/^fleet-c\s+failed \(2\)\s+1$/m);
      expect(text.stderr).toMatch(
        /\[fleet-c\] error: invalid configuration:\n\s+config\/environments\/fleet-c\.yaml:\d+:\d+: aws\.accountId: /,
      );
    } finally {
      await project.writeEnv("fleet-c", { endpointUrl: moto.url });
    }
  });

  it("status --all lists every environment's support calendar, warning at 89 days and in extended support, not at 91", async () => {
    // describe-cluster-versions (from the EKS stand-in) with ends relative to today, as the real calendar moves on.
    const DAY_MS = 86_400_000;
    const today = Date.parse(new Date().toISOString().slice(0, 10) + "T00:00:00Z");
    const day = (offset: number) => new Date(today + offset * DAY_MS).toISOString().slice(0, 10);
    const epoch = (offset: number) => (today + offset * DAY_MS) / 1000;
    const row = (version: string, standardEnd: number) => ({
      clusterVersion: version,
      releaseDate: epoch(-400),
      endOfStandardSupportDate: epoch(standardEnd),
      endOfExtendedSupportDate: epoch(standardEnd + 365),
    });
    await seedStandin(moto, "cluster-versions", [row("1.32", -10), row("1.33", 89), row("1.34", 91)]);
    const withVersion = (name: string, version: string) =>
      writeFile(
        join(project.root, `config/environments/${name}.yaml`),
        envYaml({ endpointUrl: moto.url, extra: `cluster:\n  version: "${version}"` }),
      );
    await withVersion("fleet-a", "1.33");
    await withVersion("fleet-b", "1.34");
    await withVersion("fleet-c", "1.32");
    try {
      const result = await run(["status", "--all"]);
      expect(result.exitCode, result.stderr).toBe(0);
      const lines = result.stdout.trim().split("\n");
      expect(lines[0]).toMatch(/STANDARD SUPPORT\s+EXTENDED SUPPORT\s+SUPPORT NOW\s+LAST RUN$/);
      expect(lines[1]).toMatch(
        new RegExp(`^fleet-a\\s+ok\\s+.*1\\.33 until ${day(89)}\\s+until ${day(89 + 365)}\\s+standard, 89 day\\(s\\) left \\(WARNING\\)`),
      );
      expect(lines[2]).toMatch(
        new RegExp(`^fleet-b\\s+ok\\s+.*1\\.34 until ${day(91)}\\s+until ${day(91 + 365)}\\s+standard, 91 day\\(s\\) left\\s+none$`),
      );
      expect(lines[3]).toMatch(
        new RegExp(`^fleet-c\\s+ok\\s+.*1\\.32 until ${day(-10)}\\s+until ${day(355)}\\s+extended, 355 day\\(s\\) left \\(WARNING\\)`),
      );
      expect(lines.filter((line) => line.startsWith("WARNING "))).toEqual([
        expect.stringMatching(/^WARNING fleet-a: Kubernetes 1\.33 leaves standard support in 89 day\(s\), on \d{4}-\d\d-\d\d: /),
        expect.stringMatching(/^WARNING fleet-c: Kubernetes 1\.32 is in extended support since/),
      ]);
      expect(lines.at(-1)).toBe("status: 3 environment(s), all ok");
    } finally {
      await seedStandin(moto, "cluster-versions", null);
      for (const name of ENVS) await project.writeEnv(name, { endpointUrl: moto.url });
    }
  });

  it("refuses an unknown name in the list before starting anything", async () => {
    const result = await run(["status", "--env", "fleet-a,nope"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown environment nope");
  });
});

describe("commands that change things", () => {
  it.each([
    [["born", "--env", "fleet-a,fleet-b"], "born"],
    [["destroy", "--env", "fleet-a,fleet-b", "--yes"], "destroy"],
    [["nodegroup", "roll", "--env", "fleet-a,fleet-b"], "nodegroup roll"],
    [["exec", "--env", "fleet-a,fleet-b", "--", "true"], "exec"],
  ])("%j refuses more than one environment", async (args, name) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`error: ${name} acts on one environment per invocation, not fleet-a,fleet-b`);
    expect(result.stderr).toContain("one job per environment");
  });
});
