// A temporary eksbox project as a user starts one: the repository's templates and
// defaults, and an empty config/environments/ for the test to fill; and the environment that the
// e2e tests and the benchmarks run born with against moto. bench/lib/emulator.mjs uses both.
import { cp, mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./cli.js";

export async function makeProjectSkeleton(prefix: string): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  return root;
}

/** An environment against moto with everything born does: two zones, a service account, Flux. */
export function bornEnvironmentYaml(motoUrl: string, region = "us-east-1"): string {
  return `aws:
  region: ${region}
  accountId: "123456789012"
  endpointUrl: ${motoUrl}
cluster:
  serviceAccounts:
  - name: external-dns
    namespace: kube-system
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]
worker:
  zones: [${region}a, ${region}b]
  instanceTypes: [m5.large, c5.large]
  minSize: 1
  maxSize: 3
  desiredCapacity: 1
  volume: { size: 20 }
gitops:
  provider: github
  owner: example-org
  repository: fleet
`;
}
