// The credential broker against moto (which serves STS assume-role into any account id): the
// loopback endpoint and its token, renewal across expiry with an injected clock, and through the
// CLI with the test toolbox: a role in another account that preflight sees, a web-identity profile
// resolved on this machine, renewal by the AWS CLI itself inside one step across a real expiry, and
// the step-environment fallback for engines that cannot reach it.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialBroker, CredentialSource, RENEW_BEFORE_MS } from "../../../src/runtime/credentials.js";
import { Redactor } from "../../../src/runtime/redact.js";
import { FAKE_AWS_ENV } from "../../support/aws-cli.js";
import { startMoto, type MotoServer } from "../../support/moto.js";
import { ensureTestToolboxImage } from "../../support/test-toolbox.js";
import { envYaml, filesUnder, makeTestProject, removeOurContainers, type TestProject } from "../../reliability/support/project.js";

const OTHER_ACCOUNT = "210987654321";
const ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/eksbox-deploy`;
const RENEWING_ACCOUNT = "444444444444";
const RENEWING_ROLE = `arn:aws:iam::${RENEWING_ACCOUNT}:role/renewer`;
/** Far below botocore's mandatory refresh window (10 minutes) and the broker's RENEW_BEFORE_MS. */
const SESSION_SECONDS = 30;

let moto: MotoServer;
beforeAll(async () => {
  moto = await startMoto();
}, 60_000);
afterAll(async () => {
  await moto?.stop();
});

function assumingSource(now: () => number, redactor = new Redactor()) {
  return new CredentialSource(
    {
      region: "us-east-1",
      endpointUrl: moto.url,
      assumeRole: { roleArn: ROLE, durationSeconds: 900 },
      envName: "stg",
      processEnv: { ...FAKE_AWS_ENV },
      now,
    },
    redactor,
  );
}

async function get(url: string, token?: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(url, { headers: token === undefined ? {} : { authorization: token } });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe("the loopback endpoint", () => {
  it("serves the assumed role's credentials with its token, refuses a missing or wrong one, and stops with the run", async () => {
    const redactor = new Redactor();
    const broker = await CredentialBroker.start(assumingSource(Date.now, redactor), redactor);
    const { AWS_CONTAINER_CREDENTIALS_FULL_URI: url, AWS_CONTAINER_AUTHORIZATION_TOKEN: token } = broker.endpoint;
    expect(new URL(url).hostname).toBe("127.0.0.1");

    const missing = await get(url);
    expect(missing.status).toBe(401);
    expect(JSON.stringify(missing.body)).not.toMatch(/ASIA|Secret/);
    const wrong = await get(
      url,
      token.replace(/.$/, (c) => (c === "0" ? "1" : "0")),
    );
    expect(wrong.status).toBe(401);

    const served = await get(url, token);
    expect(served.status).toBe(200);
    expect(served.body.AccessKeyId).toMatch(/^ASIA/);
    expect(Date.parse(served.body.Expiration!)).toBeGreaterThan(Date.now());
    // Every served value and the token are masked from here on.
    expect(redactor.redact(`${served.body.SecretAccessKey} ${served.body.Token} ${token}`)).toBe("*** *** ***");

    await broker.stop();
    await expect(fetch(url, { headers: { authorization: token } })).rejects.toThrow();
  });
});

describe("renewal", () => {
  it("keeps the session while it has time left and assumes the role again before it expires", async () => {
    let clock = Date.now();
    const redactor = new Redactor();
    const source = assumingSource(() => clock, redactor);
    const first = await source.get();
    clock += 60_000;
    expect((await source.get()).accessKeyId).toBe(first.accessKeyId);
    // Inside the renewal window (900 s session, renewed RENEW_BEFORE_MS before its end).
    clock = first.expiration!.getTime() - RENEW_BEFORE_MS + 1_000;
    const second = await source.get();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration!.getTime()).toBeGreaterThanOrEqual(first.expiration!.getTime());
    // The broker serves the renewed session while it has time left, and both sessions' secrets are masked.
    clock = second.expiration!.getTime() - RENEW_BEFORE_MS - 1_000;
    const broker = await CredentialBroker.start(source, redactor);
    try {
      const served = await get(broker.endpoint.AWS_CONTAINER_CREDENTIALS_FULL_URI, broker.endpoint.AWS_CONTAINER_AUTHORIZATION_TOKEN);
      expect(served.body.AccessKeyId).toBe(second.accessKeyId);
      expect(served.body.Expiration).toBe(second.expiration!.toISOString());
    } finally {
      await broker.stop();
    }
    expect(redactor.redact(`${first.secretAccessKey}|${second.secretAccessKey}|${second.sessionToken}`)).toBe("***|***|***");
  });

  it("says which role could not be assumed, without the credentials it used", async () => {
    const source = new CredentialSource(
      {
        region: "us-east-1",
        endpointUrl: "http://127.0.0.1:9",
        assumeRole: { roleArn: ROLE },
        processEnv: { ...FAKE_AWS_ENV },
        envName: "stg",
      },
      new Redactor().addFromEnv(FAKE_AWS_ENV),
    );
    const error = await source.get().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain(`cannot assume ${ROLE} (aws.assumeRole of stg)`);
    expect(error?.message).not.toContain(FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY);
  });
});

describe("through the CLI and the toolbox", () => {
  let project: TestProject;
  let image: string;
  let awsDir: string;
  const envNames = ["cross", "wrong-account", "web", "renewing", "long-lived"];

  beforeAll(async () => {
    image = await ensureTestToolboxImage();
    project = await makeTestProject("eksbox-broker-");
    const assume = `  assumeRole:\n    roleArn: ${ROLE}\n    durationSeconds: 900`;
    const withRole = (accountId: string) =>
      envYaml({ endpointUrl: moto.url }).replace('  accountId: "123456789012"', `  accountId: "${accountId}"\n${assume}`);
    await writeFile(join(project.root, "config/environments/cross.yaml"), withRole(OTHER_ACCOUNT));
    await writeFile(join(project.root, "config/environments/wrong-account.yaml"), withRole("123456789012"));
    // A GitHub-OIDC-style profile: the token file exists only on this machine, never in the toolbox.
    awsDir = await mkdtemp(join(tmpdir(), "eksbox-broker-aws-"));
    await writeFile(join(awsDir, "token"), "eyJhbGciOiJSUzI1NiJ9.e30.test-web-identity-token");
    await writeFile(
      join(awsDir, "config"),
      `[profile ci]\nrole_arn = arn:aws:iam::333333333333:role/github-ci\nweb_identity_token_file = ${join(awsDir, "token")}\nregion = us-east-1\n`,
    );
    await writeFile(
      join(project.root, "config/environments/web.yaml"),
      envYaml({ endpointUrl: moto.url }).replace('  accountId: "123456789012"', '  accountId: "333333333333"\n  profile: ci'),
    );
    // A credential_process profile whose every answer is a fresh moto session of SESSION_SECONDS, named
    // renewal-<n>; the TEST DOUBLE of an SSO or vault helper logs each set it hands out (values
    // included, for the leak scan) in a file of its own outside the project.
    const stsModule = createRequire(import.meta.url).resolve("@aws-sdk/client-sts");
    await writeFile(
      join(awsDir, "issue-credentials.cjs"),
      `const { appendFileSync, existsSync, readFileSync } = require("node:fs");
const { STSClient, AssumeRoleCommand } = require(${JSON.stringify(stsModule)});
const log = ${JSON.stringify(join(awsDir, "issued.jsonl"))};
const session = "renewal-" + ((existsSync(log) ? readFileSync(log, "utf8").split("\\n").filter(Boolean).length : 0) + 1);
const sts = new STSClient({ region: "us-east-1", endpoint: ${JSON.stringify(moto.url)}, credentials: ${JSON.stringify({
        accessKeyId: FAKE_AWS_ENV.AWS_ACCESS_KEY_ID,
        secretAccessKey: FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY,
      })} });
sts.send(new AssumeRoleCommand({ RoleArn: ${JSON.stringify(RENEWING_ROLE)}, RoleSessionName: session, DurationSeconds: ${SESSION_SECONDS} })).then(({ Credentials: c }) => {
  const issued = { AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: c.Expiration.toISOString() };
  appendFileSync(log, JSON.stringify({ session, issuedAt: new Date().toISOString(), ...issued }) + "\\n");
  process.stdout.write(JSON.stringify({ Version: 1, ...issued }));
});
`,
    );
    await writeFile(
      join(awsDir, "config"),
      `[profile renewing]\ncredential_process = ${process.execPath} ${join(awsDir, "issue-credentials.cjs")}\nregion = us-east-1\n`,
      { flag: "a" },
    );
    await writeFile(join(project.root, "config/environments/long-lived.yaml"), envYaml({ endpointUrl: moto.url }));
    await writeFile(
      join(project.root, "config/environments/renewing.yaml"),
      envYaml({ endpointUrl: moto.url }).replace('  accountId: "123456789012"', `  accountId: "${RENEWING_ACCOUNT}"\n  profile: renewing`),
    );
  }, 900_000);
  afterAll(async () => {
    await removeOurContainers(envNames);
    await project?.cleanup();
    if (awsDir) await rm(awsDir, { recursive: true, force: true });
  });

  const run = (args: string[], env: Record<string, string> = {}) =>
    project.run(args, { env: { ...FAKE_AWS_ENV, EKSBOX_IMAGE: image, ...env }, timeoutMs: 180_000 });

  it("preflight sees the account of the assumed role: it passes for that account and refuses another", async () => {
    const planned = await run(["plan", "born", "--env", "cross"]);
    expect(planned.exitCode, planned.stderr).toBe(0);
    expect(planned.stdout).toContain(`account ${OTHER_ACCOUNT}`);

    const refused = await run(["plan", "born", "--env", "wrong-account"]);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain(
      `the credentials are for account ${OTHER_ACCOUNT}, but environment wrong-account is in account 123456789012`,
    );
  });

  it("the toolbox gets the broker's endpoint on loopback and none of this machine's keys", async () => {
    const script =
      'echo "uri=$AWS_CONTAINER_CREDENTIALS_FULL_URI key=${AWS_ACCESS_KEY_ID:-none} profile=${AWS_PROFILE:-none}"; aws sts get-caller-identity --output json';
    const result = await run(["exec", "--env", "cross", "--", "sh", "-c", script]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/uri=http:\/\/127\.0\.0\.1:\d+\/eksbox\/credentials\/[0-9a-f]+ key=none profile=none/);
    expect(JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))).Account).toBe(OTHER_ACCOUNT);
  });

  it("without a reachable broker, each step gets the credentials in its environment", async () => {
    const script = 'echo "uri=${AWS_CONTAINER_CREDENTIALS_FULL_URI:-none}"; aws sts get-caller-identity --output json';
    const result = await run(["exec", "--env", "cross", "--", "sh", "-c", script], { EKSBOX_CREDENTIAL_DELIVERY: "step-env" });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("uri=none");
    expect(JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))).Account).toBe(OTHER_ACCOUNT);
  });

  it("long-lived keys on this machine (no session token) reach the AWS CLI inside: the broker's answer always has a Token", async () => {
    // botocore's ContainerProvider reads response['Token'] unconditionally (and the JS SDK's HTTP
    // provider requires a string): an answer without it failed every call with KeyError 'Token'.
    const result = await run(["exec", "--env", "long-lived", "--", "aws", "sts", "get-caller-identity", "--output", "json"], {
      AWS_SESSION_TOKEN: "",
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))).Account).toBe("123456789012");
    expect(`${result.stdout}${result.stderr}`).not.toContain(FAKE_AWS_ENV.AWS_SECRET_ACCESS_KEY);
  });

  it("a web-identity profile is resolved on this machine: the toolbox acts as its role without the token file", async () => {
    const script = `test -e ${join(awsDir, "token")} && echo token-visible; aws sts get-caller-identity --output json`;
    const result = await run(["exec", "--env", "web", "--", "sh", "-c", script], {
      AWS_CONFIG_FILE: join(awsDir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(awsDir, "none"),
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain("token-visible");
    const identity = JSON.parse(result.stdout.slice(result.stdout.indexOf("{"))) as { Account: string; Arn: string };
    expect(identity.Account).toBe("333333333333");
    expect(identity.Arn).toContain("assumed-role/github-ci/");
  });

  it("the AWS CLI inside renews by itself within one step: its second call, after the first set expired, uses a new one", async () => {
    // One process of the toolbox's real AWS CLI (v1, in-process through its clidriver, so the
    // session's credential object is shared) calls STS, sleeps past the first set's expiry, and calls
    // again. botocore's rule this relies on (RefreshableCredentials, which ContainerProvider returns):
    // credentials with less than _mandatory_refresh_timeout (10 min) left are fetched again from the
    // endpoint before a request, blocking it, and a fetch that still answers an expired set raises
    // "Credentials were refreshed, but the refreshed credentials are still expired". So the second
    // call succeeds only if the broker, asked again, serves a renewed set.
    const python = [
      "import sys, time",
      "from awscli.clidriver import create_clidriver",
      "driver = create_clidriver()",
      'call = ["sts", "get-caller-identity", "--query", "Arn", "--output", "text"]',
      "first = driver.main(call)",
      `time.sleep(${SESSION_SECONDS + 5})`,
      "second = driver.main(call)",
      "sys.exit(first or second)",
    ].join("\n");
    // The test image's AWS CLI v1 lives in this venv (test/images/toolbox/Dockerfile).
    const result = await run(["exec", "--env", "renewing", "--", "/opt/awscli-v1/bin/python", "-c", python], {
      AWS_CONFIG_FILE: join(awsDir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(awsDir, "none"),
    });
    expect(result.exitCode, result.stderr).toBe(0);

    const sessions = [...result.stdout.matchAll(/assumed-role\/renewer\/(renewal-\d+)/g)].map((m) => m[1]);
    expect(sessions).toHaveLength(2);
    const issued = (await readFile(join(awsDir, "issued.jsonl"), "utf8"))
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>);
    const [first, second] = sessions.map((name) => issued.find((set) => set.session === name)!);
    // Two sets came through the broker during the step (the toolbox has no other credentials), the
    // second issued only after the first had expired, with a distinct access key id.
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(Date.parse(second!.issuedAt!)).toBeGreaterThan(Date.parse(first!.Expiration!));
    expect(second!.AccessKeyId).not.toBe(first!.AccessKeyId);

    // No value of any set served during the run is in its output or anywhere in the project.
    const values = issued.flatMap((set) => [set.AccessKeyId!, set.SecretAccessKey!, set.SessionToken!]);
    const written = await Promise.all((await filesUnder(project.root)).map((file) => readFile(file, "latin1")));
    for (const text of [result.stdout, result.stderr, ...written]) for (const value of values) expect(text).not.toContain(value);
  }, 300_000);
});
