// What the toolbox container's environment holds: an explicit allowlist from the caller's
// environment, then the environment config's AWS settings, then eksbox's own variables. Nothing
// else leaks in (the host's PATH, HOME or unrelated tokens would only confuse the tools).

/** Forwarded as they are when set. `AWS_ENDPOINT_URL*` (per-service endpoints) is matched by prefix. */
export const PASSTHROUGH_NAMES = [
  "AWS_PROFILE",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "TERM",
] as const;

const passthroughPrefixes = ["AWS_ENDPOINT_URL"];

/** Like tox's passenv: `EKSBOX_PASS_ENV=NAME1,NAME2` forwards more variables by name. */
export const PASS_ENV_VARIABLE = "EKSBOX_PASS_ENV";

export interface ContainerEnvInput {
  processEnv: NodeJS.ProcessEnv;
  aws?: { profile?: string; region?: string; endpointUrl?: string };
  /** Inside the container. */
  home: string;
  /** Inside the container; set when an environment is selected. */
  kubeconfig?: string;
  envName?: string;
  /** More variables to forward by name, as if they were in EKSBOX_PASS_ENV (the gitops token's). */
  passEnv?: readonly string[];
}

function passthroughNames(processEnv: NodeJS.ProcessEnv, passEnv: readonly string[]): Set<string> {
  const names = new Set<string>(PASSTHROUGH_NAMES);
  for (const name of Object.keys(processEnv)) {
    if (passthroughPrefixes.some((prefix) => name.startsWith(prefix))) names.add(name);
  }
  for (const name of [...(processEnv[PASS_ENV_VARIABLE] ?? "").split(/[,\s]+/), ...passEnv]) {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) names.add(name);
  }
  return names;
}

/**
 * The container's variables as a map. The environment's config wins over the caller's variables
 * for profile, region and endpoint: the environment defines where eksbox acts, and a stray
 * AWS_PROFILE left in a shell must not send `born prod` to another account.
 */
export function buildContainerEnv(input: ContainerEnvInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of passthroughNames(input.processEnv, input.passEnv ?? [])) {
    const value = input.processEnv[name];
    if (value !== undefined) env[name] = value;
  }
  const aws = input.aws ?? {};
  if (aws.profile) env.AWS_PROFILE = aws.profile;
  if (aws.region) {
    env.AWS_REGION = aws.region;
    env.AWS_DEFAULT_REGION = aws.region;
  }
  if (aws.endpointUrl) env.AWS_ENDPOINT_URL = aws.endpointUrl;
  env.HOME = input.home;
  if (input.kubeconfig) env.KUBECONFIG = input.kubeconfig;
  if (input.envName) env.EKSBOX_ENV = input.envName;
  env.EKSBOX_IN_TOOLBOX = "1";
  return env;
}

export function toDockerEnv(env: Readonly<Record<string, string>>): string[] {
  return Object.entries(env).map(([name, value]) => `${name}=${value}`);
}

/** What the toolbox's tools would find before the broker's endpoint: the caller's keys and profile. */
const HOST_CREDENTIAL_NAMES = [
  "AWS_PROFILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_SECURITY_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
];

/** Drops them (in place) once the credentials are brokered. */
export function withoutHostCredentials(env: Record<string, string>): Record<string, string> {
  for (const name of HOST_CREDENTIAL_NAMES) delete env[name];
  return env;
}
