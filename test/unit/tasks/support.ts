// A throwaway project (templates, defaults, one environment `unit`) and a LifecycleContext over a
// fake cloud, built the way test/unit/steps/lifecycle.test.ts builds them.
import { cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemorySink } from "../../../src/core/events.js";
import { loadEnvironment } from "../../../src/config/load.js";
import { CloudFacts } from "../../../src/steps/cloud.js";
import type { LifecycleContext } from "../../../src/steps/lifecycle.js";
import type { Toolbox } from "../../../src/runtime/types.js";
import { UpgradeFakeCloud } from "./fake-cloud-upgrade.js";

export const repoRoot = join(import.meta.dirname, "..", "..", "..");

export const unitEnvYaml = `# the unit environment
aws:
  region: ap-northeast-1
  accountId: "123456789012"
cluster:
  version: "1.35"
  vpc:
    subnets:
      public:
        ap-northeast-1b: { id: subnet-0aaa }
        ap-northeast-1c: { id: subnet-0bbb }
worker:
  zones: [ap-northeast-1b, ap-northeast-1c]
`;

export async function makeProject(opts: { envYaml?: string; tasksYaml?: string } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "eksbox-tasks-"));
  await cp(join(repoRoot, "templates"), join(root, "templates"), { recursive: true });
  await mkdir(join(root, "config", "environments"), { recursive: true });
  await cp(join(repoRoot, "config", "defaults.yaml"), join(root, "config", "defaults.yaml"));
  await writeFile(join(root, "config", "environments", "unit.yaml"), opts.envYaml ?? unitEnvYaml);
  if (opts.tasksYaml !== undefined) await writeFile(join(root, "config", "tasks.yaml"), opts.tasksYaml);
  return root;
}

export function fakeCloud(root: string): UpgradeFakeCloud {
  const cloud = new UpgradeFakeCloud(root);
  cloud.subnets.set("subnet-0aaa", "ap-northeast-1b");
  cloud.subnets.set("subnet-0bbb", "ap-northeast-1c");
  return cloud;
}

export async function contextFor(
  root: string,
  toolbox: Toolbox,
  opts: { planning?: boolean } = {},
): Promise<LifecycleContext & { sink: MemorySink }> {
  const env = await loadEnvironment(root, "unit");
  const sink = new MemorySink();
  return {
    toolbox,
    events: sink,
    sink,
    signal: new AbortController().signal,
    planning: opts.planning ?? false,
    // The fake cloud's EKS updates are done at their second describe-update: no need to sleep between.
    pollIntervalMs: 0,
    projectRoot: root,
    env,
    facts: new CloudFacts(toolbox, env.config.cluster.name, env.config.aws.region),
    processEnv: {},
  };
}
