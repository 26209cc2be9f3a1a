// eksbox born plans first, like terraform apply: its destructive changes, wherever in the task they
// are, are confirmed all at once before any step runs (typed on a terminal, --yes without one,
// --allow-protected on a protected environment). The scenario: a live Flux the config no longer has
// (uninstalled with --prune, in the last step) and a nodegroup maxSize change (in place, earlier):
// a refusal must leave the maxSize unchanged too, since nothing may run before the confirmation.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import { beforeEach, describe, expect, it } from "vitest";
import { bornCommand, type BornCommandOptions, type LifecycleRunner } from "../../../src/commands/born.js";
import type { CommandContext } from "../../../src/core/context.js";
import { MemorySink } from "../../../src/core/events.js";
import { UserError } from "../../../src/core/errors.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import { bornTask } from "../../../src/steps/born.js";
import { PLAN_FORMAT, planBornWith, writePlanFile } from "../../../src/steps/converge/plan-born.js";
import { planTask, runTask } from "../../../src/steps/scheduler.js";
import type { UpgradeFakeCloud } from "../tasks/fake-cloud-upgrade.js";
import { contextFor, fakeCloud, makeProject } from "../tasks/support.js";

let root: string;
let cloud: UpgradeFakeCloud;
/** The runs born started (their resume commands): none when it refused up front. */
let runs: string[];
/** How many times born planned. */
let plans: number;
/** What changes in the world between born's plan and its run. */
let betweenPlanAndRun: (() => void) | undefined;

/** born's session over the fake cloud: planned and run as planLifecycleTask and runLifecycleTask would. */
function fakeRunner(): LifecycleRunner {
  return {
    async plan(task) {
      plans++;
      const base = await contextFor(root, cloud, { planning: true });
      return planTask(task, task.extend ? task.extend(base) : base);
    },
    async run(task, resumeCommand) {
      runs.push(resumeCommand);
      betweenPlanAndRun?.();
      const base = await contextFor(root, cloud);
      const result = await runTask(task, task.extend ? task.extend(base) : base);
      // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows what the scheduler caught, as runLifecycleTask does
      if (result.error !== undefined) throw result.error;
      return { type: "run", task: task.name, env: "unit", outcome: result.status, elapsedMs: 0, steps: [] };
    },
  };
}

function commandContext(ask?: (question: string) => Promise<string>): CommandContext {
  return {
    projectRoot: root,
    events: new MemorySink(),
    interrupter: new Interrupter(),
    stdout: new Writable({ write: (_c, _e, done) => done() }),
    output: "text",
    processEnv: { PATH: process.env.PATH },
    ...(ask ? { ask } : {}),
  };
}

const born = (opts: Omit<BornCommandOptions, "env">, ask?: (question: string) => Promise<string>) =>
  bornCommand(commandContext(ask), { env: "unit", ...opts }, () => fakeRunner()).catch((e: unknown) => e);

/** Every command that changes the cloud, whoever ran it. */
const changing = () =>
  cloud.calls.filter(
    (argv) =>
      (argv[0] === "eksctl" && !["get", "info", "version"].includes(argv[1]!)) ||
      (argv[0] === "flux" && ["bootstrap", "uninstall"].includes(argv[1]!)) ||
      (argv[0] === "kubectl" && argv.some((a) => ["apply", "delete", "patch", "annotate", "label", "create"].includes(a))) ||
      (argv[0] === "aws" && /^(create|delete|update|tag|untag|associate|disassociate|put)-/.test(argv[2] ?? "")),
  );

const untouched = () => {
  expect(changing()).toEqual([]);
  expect(runs).toEqual([]);
  expect(cloud.fluxBootstrapped).toBe(true);
  expect(cloud.nodegroups.get([...cloud.nodegroups.keys()][0]!)!.maxSize).not.toBe(7);
};

const applied = () => {
  expect(changing()).not.toEqual([]);
  expect(cloud.fluxBootstrapped).toBe(false);
  expect([...cloud.nodegroups.values()].map((ng) => ng.maxSize)).toEqual([7, 7]);
};

async function setEnv(edit: (text: string) => string) {
  const file = join(root, "config", "environments", "unit.yaml");
  await writeFile(file, edit(await readFile(file, "utf8")));
}

beforeEach(async () => {
  root = await makeProject();
  cloud = fakeCloud(root);
  expect((await runTask(bornTask(), await contextFor(root, cloud))).status).toBe("done");
  // A Flux the config has no gitops for (--prune uninstalls it), and a maxSize the config changes.
  cloud.fluxBootstrapped = true;
  cloud.fluxSettings = { url: "https://github.com/example/fleet", branch: "main", path: "./clusters/unit" };
  await setEnv((text) =>
    text.replace("zones: [ap-northeast-1b, ap-northeast-1c]\n", "zones: [ap-northeast-1b, ap-northeast-1c]\n  maxSize: 7\n"),
  );
  cloud.calls = [];
  runs = [];
  plans = 0;
  betweenPlanAndRun = undefined;
});

describe("eksbox born with a destructive change, before any step runs", () => {
  it("asks once on a terminal, naming it; a wrong answer changes nothing", async () => {
    const questions: string[] = [];
    const error = await born({ prune: true }, async (q) => (questions.push(q), "not-the-cluster"));
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(
      /^This will:\n {2}- - gitops flux-system \(extra, destructive\)[^\n]*\nType the cluster's name \(unit\) to go on: $/,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('"not-the-cluster" is not "unit"; nothing was changed');
    untouched();
  });

  it("applies everything once the cluster's name is typed, the steps' own guards letting the confirmed change through", async () => {
    const questions: string[] = [];
    const report = await born({ prune: true }, async (q) => (questions.push(q), "unit"));
    expect(report).toMatchObject({ outcome: "done" });
    expect(questions).toHaveLength(1);
    applied();
    expect(runs).toEqual(["eksbox born --env unit --prune"]);
  });

  it("refuses without a terminal before anything runs, naming --yes", async () => {
    const error = await born({ prune: true });
    expect((error as UserError).message).toMatch(
      /^this needs a confirmation and there is no terminal to ask on; it would:\n {2}- - gitops flux-system/,
    );
    expect((error as UserError).hint).toBe("read the plan, then pass --yes: eksbox born --env unit --prune --yes");
    untouched();
  });

  it("runs with --yes without asking", async () => {
    const report = await born({ prune: true, yes: true }, async () => {
      throw new Error("asked despite --yes");
    });
    expect(report).toMatchObject({ outcome: "done" });
    applied();
  });

  it("on a protected environment refuses --yes without --allow-protected up front, and goes ahead with it", async () => {
    await setEnv((text) => `protected: true\n${text}`);
    const error = await born({ prune: true, yes: true });
    expect((error as UserError).message).toMatch(
      /^environment unit is protected \(protected: true\); refusing to:\n {2}- - gitops flux-system/,
    );
    expect((error as UserError).hint).toBe("if you really mean it: eksbox born --env unit --prune --allow-protected");
    untouched();
    expect(await born({ prune: true, yes: true, allowProtected: true })).toMatchObject({ outcome: "done" });
    applied();
  });

  it("asks for the destructive changes of several steps in one question", async () => {
    cloud.clusters.get("unit")!.tags = { ...cloud.clusters.get("unit")!.tags, owner: "someone" };
    const questions: string[] = [];
    await born({ prune: true }, async (q) => (questions.push(q), "unit"));
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/^This will:\n {2}- .*owner.*\n {2}- - gitops flux-system/);
    expect(cloud.clusters.get("unit")!.tags).not.toHaveProperty("owner");
    applied();
  });

  it("still refuses a destructive change that appeared after the confirmation (the steps keep their own guard)", async () => {
    betweenPlanAndRun = () => (cloud.clusters.get("unit")!.tags = { ...cloud.clusters.get("unit")!.tags, owner: "someone" });
    const error = await born({ prune: true }, async () => "unit");
    expect((error as UserError).message).toMatch(/^this needs a confirmation and there is no terminal to ask on; it would:\n {2}- .*owner/);
    expect((error as UserError).message).not.toContain("flux-system");
    expect(cloud.clusters.get("unit")!.tags).toHaveProperty("owner", "someone");
    expect(cloud.fluxBootstrapped).toBe(true);
  });

  it("with --plan confirms the saved plan's destructive changes, without planning again", async () => {
    const { result } = await planBornWith((task) => fakeRunner().plan(task), { prune: true });
    await writePlanFile(commandContext(), "born.plan.json", {
      format: PLAN_FORMAT,
      task: "born",
      env: "unit",
      account: "123456789012",
      region: "ap-northeast-1",
      createdAt: new Date().toISOString(),
      fingerprint: result!.fingerprint,
      options: { prune: true },
      changes: result!.changes,
    });
    plans = 0;
    const questions: string[] = [];
    const refused = await born({ plan: "born.plan.json" });
    expect((refused as UserError).hint).toBe("read the plan, then pass --yes: eksbox born --env unit --plan born.plan.json --yes");
    untouched();
    const report = await born({ plan: "born.plan.json" }, async (q) => (questions.push(q), "unit"));
    expect(report).toMatchObject({ outcome: "done" });
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/^This will:\n {2}- - gitops flux-system \(extra, destructive\)[^\n]*\nType/);
    expect(plans).toBe(0);
    applied();
  });

  it("with nothing destructive asks nothing and runs as before", async () => {
    const report = await born({}, async () => {
      throw new Error("asked with nothing destructive");
    });
    expect(report).toMatchObject({ outcome: "done" });
    expect(cloud.fluxBootstrapped).toBe(true);
    expect([...cloud.nodegroups.values()].map((ng) => ng.maxSize)).toEqual([7, 7]);
  });
});

// born --roll: one plan, one question. On a cluster that exists, the roll's replacements (the
// nodegroups whose live launch spec differs from the config) are known before born runs, so they are
// asked for with born's own destructive changes; the roll is planned again after born, and only what
// goes beyond the confirmed plan is asked for again.
describe("eksbox born --roll, asking once", () => {
  const specChange = () => setEnv((text) => text.replace("worker:\n", "worker:\n  instanceTypes: [m5.large]\n"));
  const liveNodegroups = () => [...cloud.nodegroups.keys()].sort();
  let before: string[];
  beforeEach(async () => {
    await specChange();
    before = liveNodegroups();
  });

  it("asks one question naming born's destructive changes and the roll's, then runs both", async () => {
    const questions: string[] = [];
    const report = await born({ prune: true, roll: true }, async (q) => (questions.push(q), "unit"));
    expect(report).toMatchObject({ task: "nodegroup roll", outcome: "done" });
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(
      new RegExp(`^This will:\n {2}- - gitops flux-system [^\n]*\n {2}- drain and delete nodegroup\\(s\\) ${before.join(", ")}\nType`),
    );
    applied();
    expect(liveNodegroups()).toHaveLength(2);
    expect(liveNodegroups().filter((name) => before.includes(name))).toEqual([]);
    expect(runs).toEqual(["eksbox born --env unit --roll --prune", "eksbox born --env unit --roll --yes"]);
  });

  it("declining that one question changes nothing, neither born's part nor the roll's", async () => {
    const questions: string[] = [];
    const error = await born({ prune: true, roll: true }, async (q) => (questions.push(q), "no"));
    expect(questions).toHaveLength(1);
    expect(questions[0]).toContain(`drain and delete nodegroup(s) ${before.join(", ")}`);
    expect((error as UserError).message).toBe('"no" is not "unit"; nothing was changed');
    untouched();
    expect(liveNodegroups()).toEqual(before);
  });

  it("without a terminal refuses before anything runs, naming born's and the roll's destructive changes", async () => {
    const error = await born({ prune: true, roll: true });
    expect((error as UserError).message).toMatch(
      /^this needs a confirmation and there is no terminal to ask on; it would:\n {2}- - gitops flux-system[^\n]*\n {2}- drain and delete nodegroup/,
    );
    expect((error as UserError).hint).toBe("read the plan, then pass --yes: eksbox born --env unit --roll --prune --yes");
    untouched();
    expect(liveNodegroups()).toEqual(before);
  });

  it("with --yes asks nothing and rolls", async () => {
    const report = await born({ prune: true, roll: true, yes: true }, async () => {
      throw new Error("asked despite --yes");
    });
    expect(report).toMatchObject({ task: "nodegroup roll", outcome: "done" });
    applied();
    expect(liveNodegroups().filter((name) => before.includes(name))).toEqual([]);
  });

  it("on a protected environment, one --allow-protected check covers born's and the roll's changes", async () => {
    await setEnv((text) => `protected: true\n${text}`);
    const refused = await born({ prune: true, roll: true }, async () => "unit");
    expect((refused as UserError).message).toMatch(/^environment unit is protected[^\n]*\n {2}- - gitops[^\n]*\n {2}- drain and delete/);
    untouched();
    const questions: string[] = [];
    const report = await born({ prune: true, roll: true, allowProtected: true }, async (q) => (questions.push(q), "unit"));
    expect(report).toMatchObject({ outcome: "done" });
    expect(questions).toHaveLength(1);
    expect(runs.at(-1)).toBe("eksbox born --env unit --roll --yes --allow-protected");
  });

  describe("when the roll planned after born replaces more than was confirmed", () => {
    /**
     * An earlier born stopped before making a zone's nodegroup: born makes it now (from the new spec, at
     * the live version), and the roll planned after born drains and deletes it too, with the others.
     */
    let remade: string;
    const madeByBorn = () => {
      remade = before[1]!;
      cloud.nodegroups.delete(remade);
    };

    it("asks again on a terminal, for the new part only, and rolls once it is confirmed", async () => {
      madeByBorn();
      const questions: string[] = [];
      const report = await born({ roll: true }, async (q) => (questions.push(q), "unit"));
      expect(report).toMatchObject({ task: "nodegroup roll", outcome: "done" });
      expect(questions).toHaveLength(2);
      expect(questions[0]).toBe(`This will:\n  - drain and delete nodegroup(s) ${before[0]}\nType the cluster's name (unit) to go on: `);
      expect(questions[1]).toBe(`This will:\n  - drain and delete nodegroup(s) ${remade}\nType the cluster's name (unit) to go on: `);
      expect(liveNodegroups()).toHaveLength(2);
      expect(liveNodegroups().filter((name) => before.includes(name))).toEqual([]);
    });

    it("a wrong answer to that question leaves the roll unstarted and says born is done", async () => {
      madeByBorn();
      const answers = ["unit", "no"];
      const error = await born({ roll: true }, async () => answers.shift()!);
      expect((error as UserError).message).toBe('"no" is not "unit"; born is done, nothing else was changed');
      expect(runs).toEqual(["eksbox born --env unit --roll"]);
      expect(liveNodegroups()).toEqual(before);
    });

    it("without a terminal refuses the roll after born, saying born is done and how to go on", async () => {
      // Nothing to replace when born is planned; born's run then finds every nodegroup launched from another spec.
      await setEnv((text) => text.replace("  instanceTypes: [m5.large]\n", ""));
      betweenPlanAndRun = () => {
        for (const ng of cloud.nodegroups.values()) ng.tags = { ...ng.tags, "eksbox.io/spec-hash": "0000000000000000" };
        betweenPlanAndRun = undefined;
      };
      const error = await born({ roll: true });
      expect((error as UserError).message).toBe(
        `born is done, but this needs a confirmation and there is no terminal to ask on; it would:\n  - drain and delete nodegroup(s) ${before.join(", ")}`,
      );
      expect((error as UserError).hint).toBe("read the plan, then pass --yes: eksbox born --env unit --roll --yes");
      expect(runs).toEqual(["eksbox born --env unit --roll"]);
      expect(liveNodegroups()).toEqual(before);
    });
  });

  it("on a cluster that does not exist yet plans the roll only after born, and asks nothing when it replaces nothing", async () => {
    root = await makeProject();
    cloud = fakeCloud(root);
    const report = await born({ roll: true }, async () => {
      throw new Error("asked with nothing destructive");
    });
    expect(report).toMatchObject({ task: "nodegroup roll", outcome: "done" });
    expect(cloud.clusters.has("unit")).toBe(true);
    expect(plans).toBe(2);
    expect(runs).toEqual(["eksbox born --env unit --roll", "eksbox born --env unit --roll --yes"]);
  });
});
