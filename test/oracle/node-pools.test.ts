// Real eksctl (built by test/support/setup-oracle.sh) judges eksbox's eksctl files for node pools
// in each autoscaling.mode: a managed arm64 system group across the zones and self-managed workers
// per zone (clusterAutoscaler), the system group plus eksctl's karpenter block (karpenter), and
// autoModeConfig (autoMode). `eksctl create cluster --dry-run -f` must accept each.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnvironment } from "../../src/config/load.js";
import { renderEnvironment, validateRendered } from "../../src/render/render.js";
import { makeProject, type Project } from "../unit/config/project-fixture.js";
import { ensureOracleTools, oracleEnv, runTool, startOracleAws, type OracleAws, type OracleTools } from "../support/oracle.js";
import { mergeForEksctl } from "./corpus.js";

const environment = `aws: { region: us-east-1, accountId: "123456789012" }
nodePools:
  system:
    type: managed
    perZone: false
    spot: { enabled: false, spotInstancePools: null, spotAllocationStrategy: price-capacity-optimized }
    instanceTypes: [m7g.large]
    zones: [us-east-1a, us-east-1b]
    minSize: 2
    maxSize: 3
    desiredCapacity: 2
    taints: [{ key: CriticalAddonsOnly, value: "true", effect: NoSchedule }]
  workers:
    zones: [us-east-1a, us-east-1b]
    desiredCapacity: 2
`;

let tools: OracleTools;
let aws: OracleAws;
let work: string;
let project: Project;

beforeAll(async () => {
  tools = await ensureOracleTools();
  aws = await startOracleAws();
  work = await mkdtemp(join(tmpdir(), "eksbox-oracle-pools-"));
  project = await makeProject();
  await project.write("config/environments/pools.yaml", environment);
}, 2_700_000);

afterAll(async () => {
  await aws?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  await project?.cleanup();
});

describe("real eksctl accepts the node pools' files in every mode", () => {
  const modes: [string, string[]][] = [
    ["clusterAutoscaler", []],
    ["karpenter", ["autoscaling.mode=karpenter"]],
    ["autoMode", ["autoscaling.mode=autoMode", "nodePools.workers.type=managed", "nodePools.workers.spot.spotInstancePools=null"]],
  ];
  for (const [mode, sets] of modes) {
    it(
      mode,
      async () => {
        const env = await loadEnvironment(project.root, "pools", { sets });
        const rendered = await renderEnvironment(project.root, env, { versions: { system: "20261125", workers: "20261125" } });
        expect(validateRendered(rendered, env)).toEqual([]);
        const file = join(work, `${mode}.yaml`);
        // eksctl refuses nodegroups in `create cluster` with Auto Mode ("create them post cluster
        // creation using eksctl create nodegroup"), which is how eksbox creates them anyway: the
        // cluster file is judged alone there.
        await writeFile(
          file,
          mode === "autoMode" ? rendered.cluster.text : mergeForEksctl(rendered.cluster.text, rendered.nodegroups.text),
        );
        const result = await runTool(
          tools.eksctl,
          ["create", "cluster", "--dry-run", "-f", file],
          oracleEnv(aws.url, work, "us-east-1", tools),
          { timeoutMs: 120_000 },
        );
        expect(result.exitCode, String(result.all ?? "")).toBe(0);
      },
      300_000,
    );
  }
});
