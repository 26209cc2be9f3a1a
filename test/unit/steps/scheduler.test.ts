import { describe, expect, it } from "vitest";
import { AbortedError, InternalError, StepFailedError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { runDecision, skipDecision, type Step, type StepContext, type Task } from "../../../src/steps/model.js";
import { orderSteps, planTask, runTask } from "../../../src/steps/scheduler.js";
import type { Toolbox } from "../../../src/runtime/types.js";

function context(signal = new AbortController().signal): StepContext & { sink: MemorySink } {
  const sink = new MemorySink();
  return { toolbox: {} as Toolbox, events: sink, signal, planning: false, sink };
}

/** A step whose run waits until released, recording start order and how many ran at once. */
function gatedStep(
  id: string,
  needs: string[],
  log: { started: string[]; active: number; maxActive: number },
  gate?: Promise<void>,
  fail = false,
): Step {
  return {
    id,
    description: id,
    needs,
    decide: async () => runDecision(`run ${id}`, [["true"]]),
    run: async () => {
      log.started.push(id);
      log.active++;
      log.maxActive = Math.max(log.maxActive, log.active);
      await gate;
      await Promise.resolve();
      log.active--;
      if (fail) throw new StepFailedError({ step: id, exitCode: 1, argv: ["false"] });
    },
  };
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe("runTask", () => {
  it("runs independent steps side by side and dependents after them", async () => {
    const log = { started: [] as string[], active: 0, maxActive: 0 };
    const gate = deferred();
    const task: Task = {
      name: "t",
      concurrency: 3,
      steps: [
        gatedStep("a", [], log),
        gatedStep("b", ["a"], log, gate.promise),
        gatedStep("c", ["a"], log, gate.promise),
        gatedStep("d", ["b", "c"], log),
      ],
    };
    const ctx = context();
    const running = runTask(task, ctx);
    // b and c both start before either finishes: they only finish once the gate opens.
    await vi_waitFor(() => log.started.includes("b") && log.started.includes("c"));
    expect(log.started).not.toContain("d");
    gate.release();
    const result = await running;
    expect(result.status).toBe("done");
    expect(log.maxActive).toBe(2);
    expect(log.started.indexOf("d")).toBe(3);
    expect(result.outcomes.map((o) => [o.id, o.status])).toEqual([
      ["a", "done"],
      ["b", "done"],
      ["c", "done"],
      ["d", "done"],
    ]);
  });

  it("never runs more steps at once than the concurrency cap", async () => {
    const log = { started: [] as string[], active: 0, maxActive: 0 };
    const steps = ["a", "b", "c", "d", "e"].map((id) => gatedStep(id, [], log));
    const result = await runTask({ name: "t", concurrency: 2, steps }, context());
    expect(result.status).toBe("done");
    expect(log.maxActive).toBe(2);
  });

  it("a skipped step lets its dependents run", async () => {
    const log = { started: [] as string[], active: 0, maxActive: 0 };
    const skipper: Step = {
      id: "a",
      description: "a",
      needs: [],
      decide: async () => skipDecision("exists"),
      run: async () => {
        throw new Error("must not run");
      },
    };
    const result = await runTask({ name: "t", concurrency: 1, steps: [skipper, gatedStep("b", ["a"], log)] }, context());
    expect(result.outcomes.map((o) => o.status)).toEqual(["skipped", "done"]);
  });

  it("after a failure no new step starts, running siblings finish, dependents are not run", async () => {
    const log = { started: [] as string[], active: 0, maxActive: 0 };
    const gate = deferred();
    const task: Task = {
      name: "t",
      concurrency: 2,
      steps: [
        gatedStep("a", [], log, undefined, true),
        gatedStep("slow", [], log, gate.promise),
        gatedStep("after-a", ["a"], log),
        gatedStep("independent-later", ["slow"], log),
      ],
    };
    const ctx = context();
    const running = runTask(task, ctx);
    await vi_waitFor(() => ctx.sink.events.some((e) => e.type === "step-end" && e.step === "a"));
    gate.release();
    const result = await running;
    expect(result.status).toBe("failed");
    expect(result.error).toBeInstanceOf(StepFailedError);
    const status = Object.fromEntries(result.outcomes.map((o) => [o.id, o.status]));
    expect(status).toEqual({ a: "failed", slow: "done", "after-a": "not-run", "independent-later": "not-run" });
  });

  it("an interrupt stops scheduling and the task ends aborted", async () => {
    const controller = new AbortController();
    const ctx = context(controller.signal);
    const first: Step = {
      id: "a",
      description: "a",
      needs: [],
      decide: async () => runDecision("x", []),
      run: async () => controller.abort(),
    };
    const second: Step = {
      id: "b",
      description: "b",
      needs: ["a"],
      decide: async () => runDecision("x", []),
      run: async () => {
        throw new Error("must not run");
      },
    };
    const result = await runTask({ name: "t", concurrency: 1, steps: [first, second] }, ctx);
    expect(result.status).toBe("aborted");
    expect(result.error).toBeInstanceOf(AbortedError);
    expect(result.outcomes.map((o) => o.status)).toEqual(["done", "not-run"]);
  });

  it("emits start and end events with the skip reason", async () => {
    const ctx = context();
    const step: Step = { id: "a", description: "the a", needs: [], decide: async () => skipDecision("already there"), run: async () => {} };
    await runTask({ name: "t", concurrency: 1, steps: [step] }, ctx);
    expect(ctx.sink.events).toEqual([
      { type: "step-start", step: "a", description: "the a" },
      expect.objectContaining({ type: "step-end", step: "a", status: "skipped", reason: "already there" }),
    ]);
  });
});

describe("orderSteps", () => {
  const step = (id: string, needs: string[]): Step => ({
    id,
    description: id,
    needs,
    decide: async () => skipDecision(""),
    run: async () => {},
  });

  it("names a cycle", () => {
    expect(() => orderSteps({ name: "t", concurrency: 1, steps: [step("a", ["c"]), step("b", ["a"]), step("c", ["b"])] })).toThrow(
      /cycle in needs: a -> c -> b -> a/,
    );
  });

  it("names an unknown need", () => {
    expect(() => orderSteps({ name: "t", concurrency: 1, steps: [step("a", ["nope"])] })).toThrow(InternalError);
  });

  it("orders dependencies first", () => {
    const ordered = orderSteps({ name: "t", concurrency: 1, steps: [step("c", ["b"]), step("b", ["a"]), step("a", [])] });
    expect(ordered.map((s) => s.id)).toEqual(["a", "b", "c"]);
  });
});

describe("planTask", () => {
  it("decides every step, runs none, and keeps errors per step", async () => {
    let ran = false;
    const steps: Step[] = [
      {
        id: "a",
        description: "a",
        needs: [],
        decide: async () => runDecision("missing", [["eksctl", "create", "cluster"]]),
        run: async () => {
          ran = true;
        },
      },
      {
        id: "b",
        description: "b",
        needs: ["a"],
        decide: async () => {
          throw new Error("no access");
        },
        run: async () => {
          ran = true;
        },
      },
    ];
    const entries = await planTask({ name: "t", concurrency: 1, steps }, { ...context(), planning: true });
    expect(ran).toBe(false);
    expect(entries[0]!.decision).toEqual({
      action: "run",
      reason: "missing",
      commands: [{ argv: ["eksctl", "create", "cluster"] }],
      files: undefined,
    });
    expect((entries[1]!.error as Error).message).toBe("no access");
  });
});

async function vi_waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i++) await new Promise((r) => setImmediate(r));
  if (!condition()) throw new Error("condition never became true");
}
