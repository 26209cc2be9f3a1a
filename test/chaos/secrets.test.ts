// The whole lifecycle with recognisable fake credentials, including a failed step, an exec that
// prints them and a --set that tries to put one in config; then every byte eksbox wrote is scanned:
// stdout, stderr, run logs, event records, summaries, build/, the doubles' argv log. Zero hits.
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { filesUnder, makeTestProject, removeOurContainers, type CliResult, type TestProject } from "../reliability/support/project.js";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { recordCount } from "../reliability/support/counts.js";
import { BORN_EXTRA, failOnce } from "./support.js";

const ENV = "chaos-secrets";
const SECRETS = {
  AWS_ACCESS_KEY_ID: "AKIACHAOSCANARY0KEY1",
  AWS_SECRET_ACCESS_KEY: "chaosCanarySecretKey/0123456789+abcdefXYZ",
  AWS_SESSION_TOKEN: "chaosCanarySessionToken0123456789abcdefghijklmnop",
  GITHUB_TOKEN: "ghp_chaosCanaryGithubToken0123456789abcd",
};

let cloud: Cloud;
let project: TestProject;
const outputs: { command: string; result: CliResult }[] = [];

beforeAll(async () => {
  cloud = await startCloud();
  project = await makeTestProject("eksbox-chaos-secrets-");
  await project.writeEnv(ENV, { endpointUrl: cloud.moto.url, zones: ["us-east-1a", "us-east-1b"], extra: BORN_EXTRA });
}, 900_000);
afterAll(async () => {
  await removeOurContainers([ENV]);
  await cloud?.stop();
  await project?.cleanup();
});

async function eksbox(args: string[], expectedExit: number): Promise<CliResult> {
  const result = await project.run(args, { env: cloud.cliEnv(SECRETS), timeoutMs: 300_000 });
  outputs.push({ command: args.join(" "), result });
  expect(result.exitCode, `${args.join(" ")}\n${result.stderr}`).toBe(expectedExit);
  return result;
}

it("no credential appears in any output, record or file of a whole lifecycle", async () => {
  await failOnce(project, "create nodegroup");
  const failed = await eksbox(["born", "--env", ENV], 1);
  expect(failed.stderr).toContain("injected failure");
  await eksbox(["born", "--env", ENV], 0);
  await eksbox(["status", "--env", ENV], 0);
  await eksbox(["status", "--env", ENV, "--output", "json"], 0);
  await eksbox(["plan", "born", "--env", ENV], 0);
  await eksbox(["born", "--env", ENV, "--output", "json"], 0);
  // The command prints them itself: eksbox masks them on the way out.
  const printed = await eksbox(["exec", "--env", ENV, "--", "sh", "-c", 'echo "$AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN"; echo "$GITHUB_TOKEN" >&2; env; exit 3'], 3);
  expect(printed.stdout.length).toBeGreaterThan(0);
  // A secret in an override is refused without being repeated.
  const refused = await eksbox(["validate", "--env", ENV, "--set", `gitops.token=${SECRETS.GITHUB_TOKEN}`], 2);
  expect(refused.stderr).toContain("gitops");
  await eksbox(["nodegroup", "roll", "--env", ENV, "--to-version", "20991231", "--yes"], 0);
  await eksbox(["destroy", "--env", ENV, "--yes"], 0);

  const files = await filesUnder(project.root);
  const texts: { where: string; text: Buffer }[] = [
    ...outputs.flatMap(({ command, result }) => [
      { where: `stdout of ${command}`, text: Buffer.from(result.stdout) },
      { where: `stderr of ${command}`, text: Buffer.from(result.stderr) },
    ]),
    ...(await Promise.all(files.map(async (f) => ({ where: f, text: await readFile(f) })))),
  ];
  expect(files.some((f) => f.endsWith("events.jsonl"))).toBe(true);
  expect(files.some((f) => f.endsWith("run.log"))).toBe(true);
  const hits: string[] = [];
  let bytes = 0;
  for (const { where, text } of texts) {
    bytes += text.length;
    for (const [name, value] of Object.entries(SECRETS)) if (text.includes(value)) hits.push(`${name} in ${where}`);
  }
  recordCount("secrets: bytes scanned", bytes, `bytes in ${texts.length} outputs and files`);
  recordCount("secrets: occurrences found", hits.length);
  expect(hits).toEqual([]);
});
