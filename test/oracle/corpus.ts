// What the oracle judges: every kind of eksctl file eksbox produces or accepts, each with eksbox's own
// verdict. Real eksctl's verdict is added by oracle.test.ts.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { Document, parse } from "yaml";
import { loadEnvironment, listEnvironments } from "../../src/config/load.js";
import { deepMerge } from "../../src/config/merge.js";
import { checkConfigRules } from "../../src/config/rules.js";
import { environmentSchema, type Environment, type EnvironmentConfig } from "../../src/config/schema.js";
import { ConfigError } from "../../src/core/errors.js";
import { checkRenderedRules } from "../../src/render/eksctl-rules.js";
import { loadValidator, validateAgainstEksctlSchema } from "../../src/render/eksctl-validate.js";
import { renderEnvironment, validateRendered } from "../../src/render/render.js";
import { repoRoot } from "../support/cli.js";

export type Doc = Record<string, unknown>;

export interface OracleCase {
  id: string;
  group: "sample" | "golden" | "generated" | "example" | "invalid";
  /** The one file real eksctl reads, as text: cluster.yaml with nodegroups.yaml's nodegroups (see mergeForEksctl). */
  text: string;
  /** Why eksbox refuses it; empty when eksbox accepts. Only findings eksctl could share (not eksbox policy). */
  eksboxRefuses: string[];
  /** eksbox's own policy findings (one zone per nodegroup, ...): eksctl has no such rule. */
  eksboxPolicy: string[];
}

const WORKER_VERSION = "20261125";

/**
 * eksbox splits the cluster (create cluster -f) from its nodegroups (create nodegroup -f); real
 * eksctl validates both kinds of nodegroup in `create cluster --dry-run`, which needs no existing
 * cluster, so the oracle gives it one file holding both.
 */
export function mergeForEksctl(clusterText: string, nodegroupsText: string): string {
  // The texts as eksbox wrote them (their quoting matters: eksctl reads YAML 1.1, where an unquoted
  // y or on is a boolean): nodegroups.yaml's top-level nodeGroups/managedNodeGroups sections appended.
  const lines = nodegroupsText.split("\n");
  const sections: string[] = [];
  let keep = false;
  for (const line of lines) {
    // A top-level key starts a section; list items ("- ") and comments at column 0 continue one.
    if (/^[A-Za-z_$"']/.test(line)) keep = /^(nodeGroups|managedNodeGroups):/.test(line);
    if (keep) sections.push(line);
  }
  return `${clusterText.replace(/\n*$/, "\n")}\n${sections.join("\n")}\n`;
}

/** A document as YAML 1.1 text, so strings such as y, on or 1.30 stay quoted for eksctl. */
export function yaml11(doc: Doc): string {
  return new Document(doc, { version: "1.1" }).toString();
}

function findingsOfDocuments(cluster: Doc, nodegroups: Doc, clusterAutoscaler: boolean): { refuses: string[]; policy: string[] } {
  const refuses: string[] = [];
  const policy: string[] = [];
  for (const [which, doc] of [
    ["cluster", cluster],
    ["nodegroups", nodegroups],
  ] as const) {
    for (const f of validateAgainstEksctlSchema(doc)) refuses.push(`${which}: ${f.path.join(".")}: eksctl schema: ${f.message}`);
  }
  // One pool per environment here: every nodegroup is discoverable when the pool asks for it.
  for (const f of checkRenderedRules(cluster, nodegroups, { mode: "clusterAutoscaler", discoverable: () => clusterAutoscaler })) {
    (f.policy ? policy : refuses).push(`${f.document}: ${f.path.join(".")}: ${f.message}`);
  }
  return { refuses, policy };
}

/** eksbox's verdict on an environment: its config rules, then the rendered files. */
async function judgeEnvironment(id: string, group: OracleCase["group"], env: Environment, configFindings: string[]): Promise<OracleCase> {
  const rendered = await renderEnvironment(repoRoot, env, { workerVersion: WORKER_VERSION });
  const cluster = rendered.cluster.document as Doc;
  const nodegroups = rendered.nodegroups.document as Doc;
  const { refuses, policy } = findingsOfDocuments(cluster, nodegroups, env.config.worker?.clusterAutoscaler ?? true);
  // validateRendered is what `eksbox validate` reports: it must agree with the split above.
  const reported = validateRendered(rendered, env).length;
  if (reported !== refuses.length + policy.length) {
    throw new Error(`${id}: validateRendered reports ${reported} problems, the oracle's split ${refuses.length + policy.length}`);
  }
  const text = mergeForEksctl(rendered.cluster.text, rendered.nodegroups.text);
  return { id, group, text, eksboxRefuses: [...configFindings, ...refuses], eksboxPolicy: policy };
}

/** config/environments/*.yaml, as `eksbox validate --all` sees them. */
export async function sampleCases(): Promise<OracleCase[]> {
  await loadValidator();
  const cases: OracleCase[] = [];
  for (const name of await listEnvironments(repoRoot)) {
    try {
      cases.push(await judgeEnvironment(`sample/${name}`, "sample", await loadEnvironment(repoRoot, name), []));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      throw new Error(`the sample environment ${name} does not load: ${e.message}`, { cause: e });
    }
  }
  return cases;
}

/** test/golden/prod: the seed's files translated by hand, with YAML anchors and merge keys. */
export async function goldenCases(): Promise<OracleCase[]> {
  const read = (file: string) => readFile(join(repoRoot, "test/golden/prod", file), "utf8");
  const [clusterText, nodegroupsText] = await Promise.all([read("cluster.yaml"), read("nodegroups.yaml")]);
  const [cluster, nodegroups] = [clusterText, nodegroupsText].map((t) => parse(t, { merge: true }) as Doc) as [Doc, Doc];
  const { refuses, policy } = findingsOfDocuments(cluster, nodegroups, true);
  return [
    { id: "golden/prod", group: "golden", text: mergeForEksctl(clusterText, nodegroupsText), eksboxRefuses: refuses, eksboxPolicy: policy },
  ];
}

/**
 * eksctl's own examples (v0.230.0) through eksbox's validator: the schema, and the rules that are
 * eksctl's (an example keeps its nodegroups in the cluster file, which is eksbox policy only).
 */
export async function exampleCases(): Promise<OracleCase[]> {
  const dir = join(repoRoot, "test/fixtures/eksctl-v0.230.0-examples");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".yaml")).sort();
  const cases: OracleCase[] = [];
  for (const file of files) {
    const text = await readFile(join(dir, file), "utf8");
    const doc = parse(text, { merge: true }) as Doc;
    const refuses = validateAgainstEksctlSchema(doc).map((f) => `${f.path.join(".")}: eksctl schema: ${f.message}`);
    const policy: string[] = [];
    // The example is both "files": its own nodegroups, its own metadata.
    for (const f of checkRenderedRules(doc, doc, { mode: "clusterAutoscaler", discoverable: () => false })) {
      (f.policy ? policy : refuses).push(`${f.path.join(".")}: ${f.message}`);
    }
    cases.push({ id: `example/${file}`, group: "example", text, eksboxRefuses: refuses, eksboxPolicy: policy });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Environments generated over the config schema.

const REGION = "us-east-1";
const ZONES = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1f"];

const labelKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("node.kubernetes.io/role", "team", "example.com/owner", "topology.kubernetes.io/zone") },
  { weight: 1, arbitrary: fc.constantFrom("kubernetes.io/role", "app.k8s.io/x") },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9.-]{0,12}[a-z0-9]$/) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}\.(com|io)$/), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,10}$/))
      .map(([d, n]) => `${d}/${n}`),
  },
);
// Mostly valid values, so that both verdicts are exercised: a tenth are ones Kubernetes refuses.
const labelValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("", "worker", "spot", "on-demand", "a_b.c") },
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9_.-]{0,20}[A-Za-z0-9])?$/) },
  { weight: 1, arbitrary: fc.constantFrom("-bad", "bad-", "has space", "x".repeat(64), "line\nbreak") },
);
const taint = fc.record({
  key: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("dedicated", "example.com/gpu", "node.kubernetes.io/special") },
    { weight: 1, arbitrary: fc.constantFrom("bad key", "a/b/c") },
    { weight: 3, arbitrary: labelKey },
  ),
  value: labelValue,
  effect: fc.constantFrom("NoSchedule", "PreferNoSchedule", "NoExecute"),
});

const workerArb = fc
  .record(
    {
      type: fc.constantFrom("selfManaged", "managed"),
      amiFamily: fc.constantFrom("AmazonLinux2023", "AmazonLinux2023", "AmazonLinux2", "Bottlerocket", "Ubuntu2404", "UbuntuPro2404"),
      ami: fc.constantFrom(undefined, undefined, undefined, "ami-0123456789abcdef0"),
      instanceTypes: fc.oneof(
        fc.constant(["m5.large"]),
        fc.constant(["m5.xlarge", "c5.xlarge", "c5n.xlarge", "c4.xlarge"]),
        fc.constant(["t3.medium", "t3a.medium"]),
        fc.constant(["m6g.large"]),
      ),
      spot: fc.record({
        enabled: fc.boolean(),
        onDemandBaseCapacity: fc.constantFrom(0, 0, 1),
        onDemandPercentageAboveBaseCapacity: fc.constantFrom(0, 0, 50, 100),
        spotAllocationStrategy: fc.constantFrom("lowest-price", "capacity-optimized", "price-capacity-optimized"),
        spotInstancePools: fc.constantFrom(undefined, undefined, 2, 4),
      }),
      sizes: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 })),
      volume: fc.record({ size: fc.constantFrom(20, 80, 200), type: fc.constantFrom("gp3", "gp2", "io1"), encrypted: fc.boolean() }),
      logRotation: fc.record({ maxSize: fc.constantFrom("10Mi", "50Mi", "1Gi"), maxFiles: fc.integer({ min: 2, max: 10 }) }),
      zones: fc.subarray(ZONES, { minLength: 1, maxLength: 3 }),
      privateNetworking: fc.boolean(),
      labels: fc.dictionary(labelKey, labelValue, { maxKeys: 3 }),
      taints: fc.array(taint, { maxLength: 2 }),
      clusterAutoscaler: fc.boolean(),
    },
    {
      requiredKeys: [
        "type",
        "amiFamily",
        "instanceTypes",
        "spot",
        "sizes",
        "volume",
        "logRotation",
        "zones",
        "labels",
        "taints",
        "clusterAutoscaler",
      ],
    },
  )
  .map(({ sizes: [minSize, maxSize, desiredCapacity], spot, ami, ...rest }) => {
    const worker: Record<string, unknown> = {
      ...rest,
      minSize,
      maxSize: Math.max(minSize, maxSize),
      desiredCapacity: Math.min(Math.max(desiredCapacity, minSize), Math.max(minSize, maxSize)),
      spot: spot.spotInstancePools === undefined ? { ...spot, spotInstancePools: undefined } : spot,
    };
    if (ami) worker.ami = ami;
    return worker;
  });

export const environmentArb = fc.record({
  version: fc.constantFrom("1.32", "1.33", "1.34", "1.35"),
  worker: workerArb,
});

/** Environments fast-check makes over the config schema, with a fixed seed so the corpus is stable. */
export async function generatedCases(count: number, seed: number): Promise<OracleCase[]> {
  await loadValidator();
  const defaults = parse(await readFile(join(repoRoot, "config/defaults.yaml"), "utf8")) as Doc;
  const samples = fc.sample(environmentArb, { numRuns: count, seed });
  const cases: OracleCase[] = [];
  for (const [index, sample] of samples.entries()) {
    const id = `generated/${seed}-${index}`;
    const spot = sample.worker.spot as Record<string, unknown>;
    const raw = deepMerge(defaults, {
      aws: { region: REGION, accountId: "123456789012" },
      cluster: { version: sample.version },
      worker: { ...sample.worker, spot: { ...spot, spotInstancePools: spot.spotInstancePools ?? null } },
    }) as Doc;
    // `null` removes a default, as in an environment file.
    const worker = raw.worker as Doc;
    const spotRaw = worker.spot as Doc;
    if (spotRaw.spotInstancePools === null) delete spotRaw.spotInstancePools;
    const parsed = environmentSchema.safeParse(raw);
    if (!parsed.success) throw new Error(`${id}: the generator left the config schema: ${parsed.error.message}`);
    // The worker shorthand's one pool, as loadEnvironment makes it.
    const nodePools = parsed.data.worker ? { [parsed.data.worker.namePrefix]: parsed.data.worker } : {};
    const configFindings = checkConfigRules({ ...parsed.data, nodePools }).map((f) => `config: ${f.path.join(".")}: ${f.message}`);
    const config: EnvironmentConfig = { ...parsed.data, nodePools, cluster: { ...parsed.data.cluster, name: "oracle" } };
    const env: Environment = { name: "oracle", config, sources: [] };
    const judged = await judgeEnvironment(id, "generated", env, configFindings);
    cases.push({ ...judged, id });
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Invalid files: a valid rendered pair (the local sample) with one thing broken, as a hand-edited
// template or config could break it.

type Mutation = (cluster: Doc, nodegroups: Doc, ng: Doc) => void;

export const INVALID_MUTATIONS: Record<string, Mutation> = {
  "label value with a newline": (_c, _n, ng) => void ((ng.labels as Doc)["team"] = "web\nops"),
  "label value of 64 characters": (_c, _n, ng) => void ((ng.labels as Doc)["team"] = "x".repeat(64)),
  "label under the reserved kubernetes.io prefix": (_c, _n, ng) => void ((ng.labels as Doc)["kubernetes.io/role"] = "worker"),
  "label key with two slashes": (_c, _n, ng) => void ((ng.labels as Doc)["a/b/c"] = "x"),
  "taint key with a space": (_c, _n, ng) => void (ng.taints = [{ key: "bad key", value: "x", effect: "NoSchedule" }]),
  "taint with an unknown effect": (_c, _n, ng) => void (ng.taints = [{ key: "dedicated", value: "x", effect: "NoWay" }]),
  'version "1.3" (quoted)': (c) => void ((c.metadata as Doc).version = "1.3"),
  "version 1.30 unquoted (the number 1.3)": (c) => void ((c.metadata as Doc).version = 1.3),
  'version "1.9", long gone': (c) => void ((c.metadata as Doc).version = "1.9"),
  "AmazonLinux2 on 1.34": (_c, _n, ng) => void (ng.amiFamily = "AmazonLinux2"),
  "one nodegroup in two zones": (_c, _n, ng) => void (ng.availabilityZones = ["us-east-1a", "us-east-1b"]),
  "two nodegroups with one name": (_c, n) => {
    const list = n.nodeGroups as Doc[];
    list[1]!.name = list[0]!.name;
  },
  "nodegroup name with an underscore": (_c, _n, ng) => void (ng.name = "worker_1a"),
  "unknown field volumeTyp": (_c, _n, ng) => void (ng.volumeTyp = "gp3"),
  "minSize as a string": (_c, _n, ng) => void (ng.minSize = "1"),
  "instanceType beside instancesDistribution": (_c, _n, ng) => {
    ng.instancesDistribution = { instanceTypes: ["t3.medium", "t3a.medium"], onDemandBaseCapacity: 0 };
    ng.instanceType = "t3.medium";
  },
  "spotInstancePools with capacity-optimized": (_c, _n, ng) => {
    delete ng.instanceType;
    ng.instancesDistribution = {
      instanceTypes: ["t3.medium", "t3a.medium"],
      spotAllocationStrategy: "capacity-optimized",
      spotInstancePools: 2,
    };
  },
  "preBootstrapCommands on Bottlerocket": (_c, _n, ng) => {
    ng.amiFamily = "Bottlerocket";
    delete ng.kubeletExtraConfig;
    ng.preBootstrapCommands = ["echo hi"];
  },
  "kubeletExtraConfig on Bottlerocket": (_c, _n, ng) => void (ng.amiFamily = "Bottlerocket"),
  "custom Ubuntu AMI without overrideBootstrapCommand": (_c, _n, ng) => {
    ng.amiFamily = "Ubuntu2404";
    ng.ami = "ami-0123456789abcdef0";
  },
  "volumeKmsKeyID without volumeEncrypted": (_c, _n, ng) => {
    ng.volumeEncrypted = false;
    ng.volumeKmsKeyID = "arn:aws:kms:us-east-1:123456789012:key/abc";
  },
  "managed nodegroup with instancesDistribution": (_c, n) => {
    const ng: Doc = { ...(n.nodeGroups as Doc[])[0]!, instancesDistribution: { instanceTypes: ["t3.medium", "t3a.medium"] } };
    delete ng.kubeletExtraConfig;
    delete ng.instanceType;
    delete n.nodeGroups;
    n.managedNodeGroups = [ng];
  },
  "managed nodegroup with iam.instanceProfileARN": (_c, n) => {
    const ng: Doc = {
      ...(n.nodeGroups as Doc[])[0]!,
      iam: { instanceProfileARN: "arn:aws:iam::123456789012:instance-profile/x", instanceRoleARN: "arn:aws:iam::123456789012:role/x" },
    };
    delete ng.kubeletExtraConfig;
    delete n.nodeGroups;
    n.managedNodeGroups = [ng];
  },
  "desiredCapacity above maxSize": (_c, _n, ng) => void Object.assign(ng, { minSize: 1, maxSize: 2, desiredCapacity: 5 }),
  "volumeSize 0": (_c, _n, ng) => void (ng.volumeSize = 0),
  "an addon without a name": (c) => void (c.addons as Doc[]).push({ version: "latest" }),
};

/** The local sample's rendered files, each broken in one way. */
export async function invalidCases(): Promise<OracleCase[]> {
  await loadValidator();
  const env = await loadEnvironment(repoRoot, "local");
  const rendered = await renderEnvironment(repoRoot, env, { workerVersion: WORKER_VERSION });
  const cases: OracleCase[] = [];
  for (const [name, mutate] of Object.entries(INVALID_MUTATIONS)) {
    const cluster = structuredClone(rendered.cluster.document) as Doc;
    const nodegroups = structuredClone(rendered.nodegroups.document) as Doc;
    const first = (nodegroups.nodeGroups as Doc[])[0]!;
    first.labels ??= {};
    mutate(cluster, nodegroups, first);
    const { refuses, policy } = findingsOfDocuments(cluster, nodegroups, env.config.worker?.clusterAutoscaler ?? true);
    const text = yaml11({
      ...cluster,
      ...Object.fromEntries(["nodeGroups", "managedNodeGroups"].filter((k) => k in nodegroups).map((k) => [k, nodegroups[k]])),
    });
    cases.push({ id: `invalid/${name}`, group: "invalid", text, eksboxRefuses: refuses, eksboxPolicy: policy });
  }
  return cases;
}

export function fileText(c: OracleCase): string {
  return c.text;
}
