// The REAL eksctl and flux, built from the Go module proxy by setup-oracle.sh, and what they need to
// run on this machine: moto as AWS, plus the one EKS call moto lacks. Used by test/oracle/.
import { execFile } from "node:child_process";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { execa, type Result } from "execa";
import { FAKE_AWS_ENV } from "./aws-cli.js";
import { repoRoot } from "./cli.js";
import { startMoto, type MotoServer } from "./moto.js";

export interface OracleTools {
  eksctl: string;
  eksctlVersion: string;
  flux: string;
  fluxVersion: string;
}

let tools: Promise<OracleTools> | undefined;

/** Builds the real binaries when the cache lacks them (minutes, once per version), then returns their paths. */
export function ensureOracleTools(): Promise<OracleTools> {
  tools ??= (async () => {
    const { stdout } = await promisify(execFile)("bash", [join(repoRoot, "test/support/setup-oracle.sh")], {
      maxBuffer: 1 << 20,
    });
    const vars = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((line) => line.split("=", 2) as [string, string]),
    );
    return {
      eksctl: vars.EKSBOX_ORACLE_EKSCTL!,
      eksctlVersion: vars.EKSBOX_ORACLE_EKSCTL_VERSION!,
      flux: vars.EKSBOX_ORACLE_FLUX!,
      fluxVersion: vars.EKSBOX_ORACLE_FLUX_VERSION!,
    };
  })();
  tools.catch(() => (tools = undefined));
  return tools;
}

/**
 * The Kubernetes versions EKS serves (DescribeClusterVersions), as AWS listed them when this was
 * written. moto 5.2.1 has no DescribeClusterVersions, and eksctl asks it before anything else to
 * decide whether metadata.version is supported; AWS itself is the authority at run time.
 */
export const EKS_CLUSTER_VERSIONS = [
  { clusterVersion: "1.29", status: "EXTENDED_SUPPORT" },
  { clusterVersion: "1.30", status: "EXTENDED_SUPPORT" },
  { clusterVersion: "1.31", status: "EXTENDED_SUPPORT" },
  { clusterVersion: "1.32", status: "STANDARD_SUPPORT" },
  { clusterVersion: "1.33", status: "STANDARD_SUPPORT" },
  { clusterVersion: "1.34", status: "STANDARD_SUPPORT", defaultVersion: true },
  { clusterVersion: "1.35", status: "STANDARD_SUPPORT" },
] as const;

export interface OracleAws {
  /** Give this as AWS_ENDPOINT_URL: moto, with DescribeClusterVersions answered in front of it. */
  url: string;
  moto: MotoServer;
  stop(): Promise<void>;
}

function forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (e) => {
    res.writeHead(502).end(String(e));
  });
  req.pipe(upstream);
}

/** moto on loopback, fronted by a small server that answers only GET /cluster-versions itself. */
export async function startOracleAws(): Promise<OracleAws> {
  const moto = await startMoto();
  const target = new URL(moto.url);
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.startsWith("/cluster-versions")) {
      const clusterVersions = EKS_CLUSTER_VERSIONS.map((v) => ({ defaultVersion: false, clusterType: "eks", ...v }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ clusterVersions }));
      return;
    }
    forward(target, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    moto,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await moto.stop();
    },
  };
}

/**
 * The environment real eksctl and flux run with on the host: fake credentials, every AWS call to
 * `awsUrl`, and the real flux first on PATH (eksctl looks for it when a file configures gitops).
 */
export function oracleEnv(awsUrl: string, home: string, region = "us-east-1", oracle?: OracleTools): Record<string, string> {
  return {
    PATH: [oracle ? dirname(oracle.flux) : undefined, process.env.PATH ?? "/usr/bin:/bin"].filter(Boolean).join(":"),
    HOME: home,
    ...FAKE_AWS_ENV,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ENDPOINT_URL: awsUrl,
    AWS_EC2_METADATA_DISABLED: "true",
  };
}

export function runTool(
  binary: string,
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; timeoutMs?: number } = {},
): Promise<Result> {
  return execa(binary, args, { env, extendEnv: false, reject: false, all: true, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000 });
}
