// The emulated cloud the lifecycle runs against: moto, the kube-apiserver stand-in and the test
// toolbox image (real aws/kubectl, eksctl/flux test doubles), plus the environment the CLI needs.
// Shared by the e2e, oracle, reliability and chaos suites (test/support/e2e-suite.ts builds on it).
import { startMoto, type MotoServer } from "./moto.js";
import { startKubeApi, type KubeApi } from "./kube-api.js";
import { ensureTestToolboxImage } from "./test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "./aws-cli.js";

/** Where the environments' aws.endpointUrl points: moto (behind the EKS stand-in), or a front of it (the oracle's). */
export interface AwsEndpoint {
  url: string;
  moto: MotoServer;
  stop(): Promise<void>;
}

export interface Cloud {
  moto: MotoServer;
  kube: KubeApi;
  image: string;
  /** What environments give as aws.endpointUrl: moto.url, unless startCloud was given another endpoint. */
  awsUrl: string;
  /** What every CLI call in these suites gets: fake credentials, the test image, the kube stand-in. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
  /** The real aws CLI of the test image against moto, in the cloud's region: parsed JSON (see awsCli). */
  aws(args: string[]): Promise<any>;
  clusters(): Promise<string[]>;
  /** The environment lock's item in the account's eksbox-state table (null when no run holds it), read with the real aws CLI. */
  lockItem(clusterName: string): Promise<Record<string, { S?: string; N?: string }> | null>;
  stop(): Promise<void>;
}

async function motoEndpoint(): Promise<AwsEndpoint> {
  const moto = await startMoto();
  return { url: moto.url, moto, stop: () => moto.stop() };
}

/**
 * `region` (us-east-1 by default) is the one the kube stand-in scans and `aws()` asks; `endpoint`
 * starts what AWS clients talk to (moto behind the EKS stand-in by default; the oracle's front).
 */
export async function startCloud(options: { region?: string; endpoint?: () => Promise<AwsEndpoint> } = {}): Promise<Cloud> {
  const region = options.region ?? "us-east-1";
  const image = await ensureTestToolboxImage();
  const endpoint = await (options.endpoint ?? motoEndpoint)();
  const { moto } = endpoint;
  const kube = await startKubeApi(moto.url, { regions: [region] }).catch(async (error: unknown) => {
    await endpoint.stop();
    throw error;
  });
  const aws = (args: string[]) => awsCli(image, moto.url, ["--region", region, ...args]);
  return {
    moto,
    kube,
    image,
    awsUrl: endpoint.url,
    cliEnv: (extra = {}) => ({
      ...FAKE_AWS_ENV,
      EKSBOX_IMAGE: image,
      EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API",
      EKSBOX_TEST_KUBE_API: kube.url,
      ...extra,
    }),
    aws,
    clusters: async () => ((await aws(["eks", "list-clusters"])) ?? {}).clusters ?? [],
    async lockItem(clusterName) {
      const key = JSON.stringify({ LockID: { S: `eks/${region}/${clusterName}` } });
      try {
        return (await aws(["dynamodb", "get-item", "--consistent-read", "--table-name", "eksbox-state", "--key", key]))?.Item ?? null;
      } catch (error) {
        if (String(error).includes("ResourceNotFoundException")) return null; // no run ever took a lock here
        throw error;
      }
    },
    async stop() {
      await kube.stop();
      await endpoint.stop();
    },
  };
}
