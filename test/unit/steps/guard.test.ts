import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.js";
import { confirmDestructive, type DestructiveRequest } from "../../../src/steps/guard.js";

const base = (over: Partial<DestructiveRequest> = {}): DestructiveRequest => ({
  env: { name: "stg", protected: false },
  actions: ["drain and delete worker-1b-20261101"],
  confirmWord: "stg-cluster",
  command: "eksbox nodegroup roll --env stg",
  ...over,
});

const refusal = (request: DestructiveRequest) =>
  confirmDestructive(request).then(
    () => undefined,
    (e: unknown) => e as UserError,
  );

describe("confirmDestructive", () => {
  it("asks nothing when nothing destructive would happen, even on a protected environment", async () => {
    await expect(confirmDestructive(base({ actions: [], env: { name: "prod", protected: true } }))).resolves.toBeUndefined();
  });

  it("goes ahead on a terminal when the cluster's name is typed, naming every action in the question", async () => {
    const questions: string[] = [];
    await confirmDestructive(base({ prompt: async (q) => (questions.push(q), " stg-cluster\n") }));
    expect(questions[0]).toContain("drain and delete worker-1b-20261101");
    expect(questions[0]).toContain("(stg-cluster)");
  });

  it("refuses another answer", async () => {
    const error = await refusal(base({ prompt: async () => "y" }));
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toBe('"y" is not "stg-cluster"; nothing was changed');
  });

  it("refuses without a terminal unless --yes, with the flag in the hint", async () => {
    const error = await refusal(base());
    expect(error!.message).toMatch(/no terminal to ask on; it would:\n {2}- drain and delete worker-1b-20261101/);
    expect(error!.hint).toBe("read the plan, then pass --yes: eksbox nodegroup roll --env stg --yes");
    await expect(confirmDestructive(base({ yes: true }))).resolves.toBeUndefined();
  });

  it("on a protected environment refuses even --yes and an answer without --allow-protected", async () => {
    const prod = { env: { name: "prod", protected: true }, confirmWord: "prod" };
    let asked = false;
    const error = await refusal(base({ ...prod, yes: true, prompt: async () => ((asked = true), "prod") }));
    expect(error!.message).toMatch(/^environment prod is protected \(protected: true\); refusing to:\n {2}- drain and delete/);
    expect(error!.hint).toBe("if you really mean it: eksbox nodegroup roll --env stg --allow-protected");
    expect(asked).toBe(false);
    await expect(confirmDestructive(base({ ...prod, yes: true, allowProtected: true }))).resolves.toBeUndefined();
    expect((await refusal(base({ ...prod, allowProtected: true })))!.hint).toMatch(/--yes --allow-protected$/);
  });
});

describe("destroy's guard, before anything starts", () => {
  // The guard runs before the toolbox: these need no Docker engine, and a failure here means
  // nothing could have been deleted.
  const setup = async () => {
    const { makeProject, commandContext } = await import("../config/project-fixture.js");
    return { project: await makeProject(), commandContext };
  };

  it("refuses a protected environment without --allow-protected, even with --yes", async () => {
    const { destroyCommand } = await import("../../../src/commands/destroy.js");
    const { project, commandContext } = await setup();
    const { ctx } = commandContext(project.root);
    const error = await destroyCommand(ctx, { env: "prod", yes: true }).then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(error).toBeInstanceOf(UserError);
    expect(error!.message).toMatch(
      /^environment prod is protected \(protected: true\); refusing to:\n {2}- delete cluster prod and all its nodegroups/,
    );
    expect(error!.hint).toBe("if you really mean it: eksbox destroy --env prod --allow-protected");
  });

  it("without a terminal needs --yes; on one, the cluster's name", async () => {
    const { destroyCommand } = await import("../../../src/commands/destroy.js");
    const { project, commandContext } = await setup();
    const { ctx } = commandContext(project.root);
    const noTerminal = await destroyCommand(ctx, { env: "stg" }).then(
      () => undefined,
      (e: unknown) => e as UserError,
    );
    expect(noTerminal!.hint).toBe("read the plan, then pass --yes: eksbox destroy --env stg --yes");
    const questions: string[] = [];
    ctx.ask = async (q) => (questions.push(q), "prod");
    await expect(destroyCommand(ctx, { env: "stg" })).rejects.toThrow('"prod" is not "stg"; nothing was changed');
    expect(questions[0]).toMatch(/Type the cluster's name \(stg\) to go on: $/);
  });
});
