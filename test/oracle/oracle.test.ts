// eksbox's verdict on eksctl files against REAL eksctl's (built from the Go module proxy by
// test/support/setup-oracle.sh): every file eksbox generates, eksctl's own examples, environments
// generated over the config schema, and files broken on purpose. Real eksctl judges each with
// `eksctl create cluster --dry-run -f`, which loads the file strictly, sets defaults and runs its
// validation, with moto answering the AWS calls it makes. Accept and reject must agree, or the case
// must be a documented exception (exceptions.ts). `make oracle` prints the figure as its last line.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureOracleTools, oracleEnv, runTool, startOracleAws, type OracleAws, type OracleTools } from "../support/oracle.js";
import { repoRoot } from "../support/cli.js";
import { exampleCases, fileText, generatedCases, goldenCases, invalidCases, sampleCases, type OracleCase } from "./corpus.js";
import { ORACLE_EXCEPTIONS, type OracleException } from "./exceptions.js";

const GENERATED = Number(process.env.EKSBOX_ORACLE_GENERATED ?? 100);
const SEED = Number(process.env.EKSBOX_ORACLE_SEED ?? 20261126);
const JUDGE_TIMEOUT_MS = 60_000;
/** Dozens of eksctl runs each; on 2 shared cores that takes minutes. */
const GROUP_TIMEOUT = 900_000;

interface Judged {
  c: OracleCase;
  eksctlAccepts: boolean;
  eksctlError: string;
  agrees: boolean;
  exception?: OracleException;
}

let tools: OracleTools;
let aws: OracleAws;
let work: string;
const judged: Judged[] = [];

/** eksctl's own words for why it refused: its last "Error:" line, else its last line. */
function eksctlError(output: string): string {
  const lines = output
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return [...lines].reverse().find((l) => l.startsWith("Error:")) ?? lines.at(-1) ?? "";
}

async function judge(c: OracleCase, index: number): Promise<Judged> {
  const file = join(work, `${index}.yaml`);
  await writeFile(file, fileText(c));
  const result = await runTool(tools.eksctl, ["create", "cluster", "--dry-run", "-f", file], oracleEnv(aws.url, work, "us-east-1", tools), {
    timeoutMs: JUDGE_TIMEOUT_MS,
  });
  const eksctlAccepts = result.exitCode === 0;
  // A dry run takes well under a second; one that waits this long waits for an AWS API moto lacks.
  const error = eksctlAccepts
    ? ""
    : result.timedOut
      ? `timed out after ${JUDGE_TIMEOUT_MS / 1000}s`
      : eksctlError(String(result.all ?? ""));
  const eksboxAccepts = c.eksboxRefuses.length === 0;
  const agrees = eksboxAccepts === eksctlAccepts;
  const exception = agrees
    ? undefined
    : ORACLE_EXCEPTIONS.find(
        (e) =>
          e.cases.test(c.id) &&
          (eksctlAccepts
            ? e.side === "eksbox-refuses" && c.eksboxRefuses.some((f) => e.because.test(f))
            : e.side === "eksctl-refuses" && e.because.test(error)),
      );
  return { c, eksctlAccepts, eksctlError: error, agrees, exception };
}

/** Two eksctl processes at a time: the machine has two cores. */
async function judgeAll(cases: OracleCase[]): Promise<Judged[]> {
  const out: Judged[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await judge(cases[i]!, judged.length + i);
    }
  };
  await Promise.all([worker(), worker()]);
  judged.push(...out);
  return out;
}

function unexplained(rows: Judged[]): string[] {
  return rows
    .filter((r) => !r.agrees && !r.exception)
    .map((r) =>
      r.eksctlAccepts
        ? `${r.c.id}: eksbox refuses, eksctl ${tools.eksctlVersion} accepts. eksbox says:\n    ${r.c.eksboxRefuses.join("\n    ")}\n${fileText(r.c)}`
        : `${r.c.id}: eksctl ${tools.eksctlVersion} refuses, eksbox accepts. eksctl says: ${r.eksctlError}\n${fileText(r.c)}`,
    );
}

beforeAll(async () => {
  tools = await ensureOracleTools();
  aws = await startOracleAws();
  work = await mkdtemp(join(tmpdir(), "eksbox-oracle-"));
}, 2_700_000); // the first run on a machine builds eksctl and flux (see README)

afterAll(async () => {
  await aws?.stop();
  if (work) await rm(work, { recursive: true, force: true });
  if (!tools || judged.length === 0) return;
  const agree = judged.filter((r) => r.agrees).length;
  const lines = [
    `eksbox's schema and rules are those of eksctl 0.230.0 (the toolbox's); the judge is eksctl ${tools.eksctlVersion}, the newest on the Go module proxy.`,
    ...ORACLE_EXCEPTIONS.map((e) => {
      const n = judged.filter((r) => r.exception === e).length;
      return `  exception (${n} case${n === 1 ? "" : "s"}): ${e.side} ${e.because.source}: ${e.reason}`;
    }),
    ...(["sample", "golden", "example", "invalid", "generated"] as const).map((group) => {
      const rows = judged.filter((r) => r.c.group === group);
      const count = (f: (r: Judged) => boolean) => rows.filter(f).length;
      return `  ${group}: ${rows.length} (both accept ${count((r) => r.agrees && r.eksctlAccepts)}, both refuse ${count((r) => r.agrees && !r.eksctlAccepts)}, exceptions ${count((r) => !r.agrees)})`;
    }),
    `  eksbox policy (eksctl accepts, eksbox refuses by design) in ${judged.filter((r) => r.c.eksboxPolicy.length > 0).length} cases`,
    `oracle: ${judged.length} configs, ${agree} agree with eksctl ${tools.eksctlVersion}`,
  ];
  console.log(lines.join("\n"));
  const summary = process.env.EKSBOX_ORACLE_SUMMARY;
  if (summary) {
    const path = join(repoRoot, summary);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${lines.join("\n")}\n`);
  }
});

describe(`eksbox agrees with real eksctl`, () => {
  it(
    "on the sample environments and the golden files: both accept",
    async () => {
      const rows = await judgeAll([...(await sampleCases()), ...(await goldenCases())]);
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const r of rows) expect(r.c.eksboxRefuses, r.c.id).toEqual([]);
      expect(unexplained(rows)).toEqual([]);
      // Only a field newer than the judge (a documented exception) may keep real eksctl from accepting them.
      expect(rows.filter((r) => !r.eksctlAccepts && !r.exception).map((r) => `${r.c.id}: ${r.eksctlError}`)).toEqual([]);
    },
    GROUP_TIMEOUT,
  );

  it(
    "on eksctl's 48 examples, through eksbox's validator",
    async () => {
      const rows = await judgeAll(await exampleCases());
      expect(rows).toHaveLength(48);
      expect(unexplained(rows)).toEqual([]);
    },
    GROUP_TIMEOUT,
  );

  it(
    "on files broken on purpose: both refuse (or a documented exception)",
    async () => {
      const rows = await judgeAll(await invalidCases());
      expect(unexplained(rows)).toEqual([]);
      // Every broken file is refused by someone: eksctl, eksbox, or eksbox's own policy.
      const acceptedByAll = rows.filter((r) => r.eksctlAccepts && r.c.eksboxRefuses.length === 0 && r.c.eksboxPolicy.length === 0);
      expect(acceptedByAll.map((r) => r.c.id)).toEqual([]);
    },
    GROUP_TIMEOUT,
  );

  it(
    `on ${GENERATED} environments generated over the config schema (seed ${SEED})`,
    async () => {
      const rows = await judgeAll(await generatedCases(GENERATED, SEED));
      expect(rows).toHaveLength(GENERATED);
      expect(unexplained(rows)).toEqual([]);
    },
    GROUP_TIMEOUT,
  );

  it("every documented exception still explains a case (none is stale)", () => {
    const unused = ORACLE_EXCEPTIONS.filter((e) => !judged.some((r) => r.exception === e));
    expect(unused.map((e) => `${e.side} ${e.because.source}`)).toEqual([]);
  });
});
