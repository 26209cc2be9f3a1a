// The emulated cloud the lifecycle runs against: moto, the kube-apiserver stand-in and the test
// toolbox image (real aws/kubectl, eksctl/flux test doubles), plus the environment the CLI needs.
import { startMoto, type MotoServer } from "../../support/moto.js";
import { startKubeApi, type KubeApi } from "../../support/kube-api.js";
import { ensureTestToolboxImage } from "../../support/test-toolbox.js";
import { awsCli, FAKE_AWS_ENV } from "../../support/aws-cli.js";

export interface Cloud {
  moto: MotoServer;
  kube: KubeApi;
  image: string;
  /** What every CLI call in these suites gets: fake credentials, the test image, the kube stand-in. */
  cliEnv(extra?: Record<string, string>): Record<string, string>;
  clusters(): Promise<string[]>;
  /** The environment lock's item in the account's eksbox-state table (null when no run holds it), read with the real aws CLI. */
  lockItem(clusterName: string): Promise<Record<string, { S?: string; N?: string }> | null>;
  stop(): Promise<void>;
}

export async function startCloud(): Promise<Cloud> {
  const image = await ensureTestToolboxImage();
  const moto = await startMoto();
  const kube = await startKubeApi(moto.url, { regions: ["us-east-1"] });
  return {
    moto,
    kube,
    image,
    cliEnv: (extra = {}) => ({
      ...FAKE_AWS_ENV,
      EKSBOX_IMAGE: image,
      EKSBOX_PASS_ENV: "EKSBOX_TEST_KUBE_API",
      EKSBOX_TEST_KUBE_API: kube.url,
      ...extra,
    }),
    clusters: async () => ((await awsCli(image, moto.url, ["--region", "us-east-1", "eks", "list-clusters"])) ?? {}).clusters ?? [],
    async lockItem(clusterName) {
      const key = JSON.stringify({ LockID: { S: `eks/us-east-1/${clusterName}` } });
      try {
        return (
          (
            await awsCli(image, moto.url, [
              "--region",
              "us-east-1",
              "dynamodb",
              "get-item",
              "--consistent-read",
              "--table-name",
              "eksbox-state",
              "--key",
              key,
            ])
          )?.Item ?? null
        );
      } catch (error) {
        if (String(error).includes("ResourceNotFoundException")) return null; // no run ever took a lock here
        throw error;
      }
    },
    async stop() {
      await kube.stop();
      await moto.stop();
    },
  };
}
