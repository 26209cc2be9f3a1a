// The credential broker, as aws-vault's --ecs-server: credentials are resolved on this machine (the
// AWS SDK's own provider chain: environment, SSO, profiles with role_arn, web identity, process,
// container, instance metadata), the environment's aws.assumeRole is chained from them, and the
// toolbox gets them over the container-credentials protocol for the length of the run. Every AWS SDK
// and CLI inside (eksctl, aws, kubectl's exec plugin) then asks again by itself before they expire,
// so a 20-minute `eksctl create cluster` outlives a 15-minute session.
//
// Where the toolbox cannot reach this machine's loopback (a remote engine, Docker Desktop's VM,
// eksbox itself in a container) the same credentials go into each step's environment instead,
// renewed before each step.
//
// The AWS CLI accepts a FULL_URI over plain http only for a few hosts: botocore before 1.34 allows
// exactly 127.0.0.1, localhost and 169.254.170.2; later ones any loopback address plus the ECS and
// EKS pod-identity addresses. 127.0.0.1 is in both, so the broker binds there and the toolbox shares
// the host's network (its default); an engine gateway address (172.17.0.1) would be refused.
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UserError } from "../core/errors.js";
import type { Redactor } from "./redact.js";

export interface AssumeRoleSettings {
  roleArn: string;
  externalId?: string;
  sessionName?: string;
  durationSeconds?: number;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** undefined: long-lived keys. */
  expiration?: Date;
}

export interface CredentialSourceOptions {
  /** aws.profile of the environment; else AWS_PROFILE, else the environment's keys, else the SDK chain. */
  profile?: string;
  region?: string;
  /** The local emulator's endpoint (aws.endpointUrl): STS calls go there too. */
  endpointUrl?: string;
  assumeRole?: AssumeRoleSettings;
  envName?: string;
  processEnv: NodeJS.ProcessEnv;
  /** Injected clock for tests; Date.now otherwise. */
  now?: () => number;
}

/**
 * Renewed this long before they expire. botocore (inside the AWS CLI) must fetch again when under
 * 10 minutes are left: renewing at 11 means what it fetches is never already inside that window, so
 * it does not ask again before every request.
 */
export const RENEW_BEFORE_MS = 11 * 60_000;
/** Long-lived keys are served with this lifetime, so the tools inside ask again now and then. */
const LONG_LIVED_SERVED_MS = 15 * 60_000;
const DEFAULT_DURATION_SECONDS = 3600;

type Provider = (options?: {
  forceRefresh?: boolean;
}) => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: Date }>;

/**
 * Resolves (and renews) the credentials steps get. Every value it hands out is added to the
 * redactor first, so no output, log or record can show it.
 */
export class CredentialSource {
  private current: Credentials | undefined;
  private pending: Promise<Credentials> | undefined;
  private base: Provider | undefined;
  private readonly now: () => number;

  constructor(
    private readonly options: CredentialSourceOptions,
    private readonly redactor: Redactor,
  ) {
    this.now = options.now ?? Date.now;
  }

  get assumesRole(): boolean {
    return this.options.assumeRole !== undefined;
  }

  /** Fresh credentials: the cached ones while they have more than RENEW_BEFORE_MS left. */
  async get(): Promise<Credentials> {
    if (this.current && !this.expiresSoon(this.current)) return this.current;
    this.pending ??= this.resolve(this.current !== undefined).finally(() => (this.pending = undefined));
    return this.pending;
  }

  private expiresSoon(credentials: Credentials): boolean {
    return credentials.expiration !== undefined && credentials.expiration.getTime() - this.now() <= RENEW_BEFORE_MS;
  }

  private async resolve(renewing: boolean): Promise<Credentials> {
    const base = await this.baseProvider();
    let resolved: Credentials;
    try {
      resolved = this.options.assumeRole
        ? await this.assumeRole(base, this.options.assumeRole)
        : await base(renewing ? { forceRefresh: true } : undefined);
    } catch (error) {
      throw this.explain(error);
    }
    for (const value of [resolved.accessKeyId, resolved.secretAccessKey, resolved.sessionToken]) if (value) this.redactor.add(value);
    this.current = {
      accessKeyId: resolved.accessKeyId,
      secretAccessKey: resolved.secretAccessKey,
      sessionToken: resolved.sessionToken,
      expiration: resolved.expiration,
    };
    return this.current;
  }

  private explain(error: unknown): UserError {
    const reason = this.redactor.redact(error instanceof Error ? error.message : String(error));
    const role = this.options.assumeRole;
    if (role) {
      return new UserError(
        `cannot assume ${role.roleArn} (aws.assumeRole${this.options.envName ? ` of ${this.options.envName}` : ""}): ${reason}`,
        {
          hint: "check that the credentials on this machine (aws.profile, AWS_PROFILE or AWS_* variables) may assume that role, and its trust policy and externalId",
        },
      );
    }
    return new UserError(`no AWS credentials on this machine: ${reason}`, {
      hint: "set aws.profile (a profile in ~/.aws/config), AWS_PROFILE, or the AWS_* variables; `aws sso login` for SSO profiles",
    });
  }

  /** The SDK's provider chain, except that an explicit profile wins over stray keys in the environment. */
  private async baseProvider(): Promise<Provider> {
    if (this.base) return this.base;
    const env = this.options.processEnv;
    const profile = this.options.profile || undefined;
    if (!profile && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      const keys = {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        sessionToken: env.AWS_SESSION_TOKEN || undefined,
        expiration: env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined,
      };
      this.base = () => Promise.resolve(keys);
      return this.base;
    }
    // The SDK is loaded only by runs that need it: `eksbox --help` and validate never pay for it.
    const [{ fromNodeProviderChain }, sts] = await Promise.all([import("@aws-sdk/credential-providers").then(commonJs), loadSts()]);
    const clientConfig = this.clientConfig();
    // The role assumers are given explicitly so that profiles with role_arn or web_identity_token_file
    // reach the same STS endpoint (the profile chain's own ones take only the region from it).
    this.base = fromNodeProviderChain({
      profile: profile ?? (env.AWS_PROFILE || undefined),
      clientConfig,
      roleAssumer: sts.getDefaultRoleAssumer(clientConfig),
      roleAssumerWithWebIdentity: sts.getDefaultRoleAssumerWithWebIdentity(clientConfig),
    }) as Provider;
    return this.base;
  }

  private clientConfig(): { region: string; endpoint?: string } {
    return { region: this.options.region ?? "us-east-1", ...(this.options.endpointUrl ? { endpoint: this.options.endpointUrl } : {}) };
  }

  private async assumeRole(base: Provider, role: AssumeRoleSettings): Promise<Credentials> {
    const { STSClient, AssumeRoleCommand } = await loadSts();
    const client = new STSClient({ ...this.clientConfig(), credentials: base });
    try {
      const answer = await client.send(
        new AssumeRoleCommand({
          RoleArn: role.roleArn,
          RoleSessionName: role.sessionName ?? defaultSessionName(this.options.envName),
          ExternalId: role.externalId,
          DurationSeconds: role.durationSeconds ?? DEFAULT_DURATION_SECONDS,
        }),
      );
      const c = answer.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error("STS answered without credentials");
      return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
    } finally {
      client.destroy();
    }
  }

  /** The variables a step gets when the toolbox cannot reach the broker. */
  async stepEnv(): Promise<Record<string, string>> {
    const c = await this.get();
    return {
      AWS_ACCESS_KEY_ID: c.accessKeyId,
      AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
      ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}),
    };
  }

  /**
   * The container-credentials answer: the same shape ECS and EKS pod identity serve. Token is always
   * there, empty for long-lived keys: botocore reads it unconditionally (KeyError otherwise) and the
   * JS SDK's HTTP provider requires a string; both then send no session token.
   */
  async served(): Promise<Record<string, string>> {
    const c = await this.get();
    const expiration = c.expiration ?? new Date(this.now() + LONG_LIVED_SERVED_MS);
    return {
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken ?? "",
      Expiration: expiration.toISOString(),
    };
  }
}

async function loadSts(): Promise<typeof import("@aws-sdk/client-sts")> {
  // eksbox supports Node 20 (package.json engines); the SDK's notice about its own future releases
  // would otherwise be printed on every run there.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return commonJs(await import("@aws-sdk/client-sts"));
}

/** The SDK is CommonJS: bundled, its exports arrive as `default`; under plain Node they are also named. */
function commonJs<T>(module: T): T {
  return (module as { default?: T }).default ?? module;
}

export function defaultSessionName(envName: string | undefined): string {
  return `eksbox-${envName ?? "run"}`.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}

/** The variables that point the toolbox's SDKs at the broker. */
export interface BrokerEndpoint {
  AWS_CONTAINER_CREDENTIALS_FULL_URI: string;
  AWS_CONTAINER_AUTHORIZATION_TOKEN: string;
}

/**
 * A loopback HTTP server speaking the container-credentials protocol for one run. It answers only
 * requests that carry its random token, and only on 127.0.0.1; `stop()` ends it with the run.
 */
export class CredentialBroker {
  private constructor(
    private readonly server: Server,
    private readonly token: string,
    private readonly path: string,
  ) {}

  static async start(source: CredentialSource, redactor: Redactor): Promise<CredentialBroker> {
    const token = randomBytes(32).toString("hex");
    redactor.add(token);
    const path = `/eksbox/credentials/${randomBytes(8).toString("hex")}`;
    const expected = Buffer.from(token);
    const server = createServer((request, response) => void answer(request, response));
    async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
      const reply = (status: number, body: Record<string, string>) => {
        response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
        response.end(JSON.stringify(body));
      };
      const given = Buffer.from(String(request.headers.authorization ?? ""));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return reply(401, { code: "Unauthorized", message: "missing or wrong authorization token" });
      }
      if (request.method !== "GET" || request.url !== path) return reply(404, { code: "NotFound", message: "no such path" });
      try {
        reply(200, await source.served());
      } catch (error) {
        reply(500, { code: "CredentialsError", message: redactor.redact(error instanceof Error ? error.message : String(error)) });
      }
    }
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    // The broker must never keep eksbox alive on its own.
    server.unref();
    return new CredentialBroker(server, token, path);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get endpoint(): BrokerEndpoint {
    return {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${this.port}${this.path}`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: this.token,
    };
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** Stops answering at once: open connections are closed, not drained. */
  async stop(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }
}
