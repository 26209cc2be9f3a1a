// The whole lifecycle with recognisable fake credentials, including a failed step, an exec that
// prints them and a --set that tries to put one in config; then every byte eksbox wrote is scanned:
// stdout, stderr, run logs, event records, summaries, build/, the doubles' argv log. Zero hits.
// The credential broker is in it too: an environment with aws.assumeRole gets moto's assumed-role
// session through the broker, a step prints what it was served, and those secrets (read back from
// moto's own records) are scanned for as well.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  envYaml,
  filesUnder,
  makeTestProject,
  removeOurContainers,
  type CliResult,
  type TestProject,
} from "../reliability/support/project.js";
import { startCloud, type Cloud } from "../reliability/support/cloud.js";
import { recordCount } from "../reliability/support/counts.js";
import { BORN_EXTRA, failOnce } from "./support.js";

const ENV = "chaos-secrets";
const ROLE_ENV = "chaos-secrets-role";
const ROLE_ACCOUNT = "210987654321";
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
  await writeFile(
    join(project.root, "config", "environments", `${ROLE_ENV}.yaml`),
    envYaml({ endpointUrl: cloud.moto.url }).replace(
      '  accountId: "123456789012"',
      `  accountId: "${ROLE_ACCOUNT}"\n  assumeRole:\n    roleArn: arn:aws:iam::${ROLE_ACCOUNT}:role/chaos\n    durationSeconds: 900`,
    ),
  );
}, 900_000);
afterAll(async () => {
  await removeOurContainers([ENV, ROLE_ENV]);
  await cloud?.stop();
  await project?.cleanup();
});

const PRINT_SERVED = [
  "import botocore.session",
  "c = botocore.session.Session().get_credentials().get_frozen_credentials()",
  "print('served', c.access_key, c.secret_key, c.token)",
  "print(repr(c))",
].join("\n");

/** Every assumed-role session moto handed out: what the broker served. */
async function assumedRoleSecrets(motoUrl: string): Promise<string[]> {
  const data = (await (await fetch(`${motoUrl}/moto-api/data.json`)).json()) as {
    sts?: { AssumedRole?: { access_key_id: string; secret_access_key: string; session_token: string }[] };
  };
  return (data.sts?.AssumedRole ?? []).flatMap((role) => [role.access_key_id, role.secret_access_key, role.session_token]);
}

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
  const printed = await eksbox(
    ["exec", "--env", ENV, "--", "sh", "-c", 'echo "$AWS_SECRET_ACCESS_KEY $AWS_SESSION_TOKEN"; echo "$GITHUB_TOKEN" >&2; env; exit 3'],
    3,
  );
  expect(printed.stdout.length).toBeGreaterThan(0);
  // A secret in an override is refused without being repeated.
  const refused = await eksbox(["validate", "--env", ENV, "--set", `gitops.token=${SECRETS.GITHUB_TOKEN}`], 2);
  expect(refused.stderr).toContain("gitops");
  await eksbox(["nodegroup", "roll", "--env", ENV, "--to-version", "20991231", "--yes"], 0);
  await eksbox(["destroy", "--env", ENV, "--yes"], 0);
  await expectNoSecretIn(outputs, Object.entries(SECRETS));
});

it("no credential the broker served appears in any output, record or file", async () => {
  const before = outputs.length;
  // The step asks the SDK inside for what it was served and prints it, in every form.
  await eksbox(["plan", "born", "--env", ROLE_ENV], 0);
  await eksbox(["status", "--env", ROLE_ENV, "--output", "json"], 0);
  const served = await eksbox(["exec", "--env", ROLE_ENV, "--", "python3", "-c", PRINT_SERVED], 0);
  expect(served.stdout).toContain("served *** *** ***");
  await eksbox(["exec", "--env", ROLE_ENV, "--output", "json", "--", "sh", "-c", "env; exit 4"], 4);
  // A run with a run record (nothing exists, so it only decides, in the brokered role's account).
  await eksbox(["destroy", "--env", ROLE_ENV, "--yes"], 0);
  const brokered = await assumedRoleSecrets(cloud.moto.url);
  expect(brokered.length).toBeGreaterThanOrEqual(3);
  await expectNoSecretIn(outputs.slice(before), [
    ...Object.entries(SECRETS),
    ...brokered.map((value): [string, string] => ["a brokered credential", value]),
  ]);
});

async function expectNoSecretIn(scanned: typeof outputs, secrets: [string, string][]): Promise<void> {
  const files = await filesUnder(project.root);
  const texts: { where: string; text: Buffer }[] = [
    ...scanned.flatMap(({ command, result }) => [
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
    for (const [name, value] of secrets) if (text.includes(value)) hits.push(`${name} in ${where}`);
  }
  recordCount("secrets: bytes scanned", bytes, `bytes in ${texts.length} outputs and files`);
  recordCount("secrets: occurrences found", hits.length);
  expect(hits).toEqual([]);
}
