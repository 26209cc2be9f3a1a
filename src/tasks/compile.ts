// A user task becomes a Task<LifecycleContext> of the lifecycle's step model (src/steps/), so the scheduler, run
// records, resumption and `plan` treat it like born. Commands are rendered here, once, before
// anything runs: a template error stops the task before the lock is taken, and `plan` shows the
// exact argv that will run.
import type { Environment } from "../config/schema.js";
import { ConfigError, UserError } from "../core/errors.js";
import { preflightStep } from "../steps/common-steps.js";
import { envPaths } from "../core/layout.js";
import type { ConvergeOptions, LifecycleContext } from "../steps/lifecycle.js";
import { runDecision, skipDecision, stepId, type Step, type Task } from "../steps/model.js";
import { rollTask } from "../steps/roll.js";
import { bornTask } from "../steps/born.js";
import { upgradeTask } from "../steps/upgrade.js";
import { shellQuote } from "../core/shell-quote.js";
import { argumentSpecs, bindArguments, type BoundArguments } from "./args.js";
import { builtinSpecs } from "./builtin-specs.js";
import { inlineTask } from "../steps/inline.js";
import type { TasksFile } from "./load.js";
import type { StepDeclaration } from "./schema.js";
import { renderArgv, renderScript, RenderError, scriptArgv } from "./shell.js";

export interface BuiltTask {
  task: Task<LifecycleContext, LifecycleContext>;
  /** How the user runs (and resumes) it, without --env. */
  command: string;
}

/** What commands and `with:` values see in {{ }}. */
export function templateContext(env: Environment, task: string, args: BoundArguments): Record<string, unknown> {
  const { aws, cluster, worker, gitops } = env.config;
  return { env: env.name, task, args, config: env.config, aws, cluster, worker, gitops, paths: envPaths(env.name) };
}

/** What a user task passes on to each born it calls: its own --yes, --allow-protected and command line, for born's destructive changes. */
export type BornConfirmation = Pick<ConvergeOptions, "yes" | "allowProtected" | "command">;

/** A built-in task as a step of a user task, from its `with:` values (already bound). */
export function builtinCallable(name: string, values: BoundArguments, confirmation: BornConfirmation = {}): Omit<BuiltTask, "command"> {
  switch (name) {
    case "born":
      return { task: bornTask({ ...confirmation, prune: values.prune === true }) };
    case "roll": {
      const minutes = values["ready-timeout"] as number | undefined;
      const task = rollTask({
        toVersion: values["to-version"] as string | undefined,
        readyTimeoutMs: minutes === undefined ? undefined : minutes * 60_000,
      });
      return { task };
    }
    case "upgrade":
      return { task: upgradeTask({ to: values.to as string | undefined, force: values.force === true }) };
    default:
      throw new UserError(`task ${name} cannot be called from a task`);
  }
}

export function compileUserTask(
  file: TasksFile,
  name: string,
  values: BoundArguments,
  env: Environment,
  confirmation: BornConfirmation = {},
): BuiltTask {
  return { task: compile(file, name, values, env, [], confirmation), command: name };
}

function compile(
  file: TasksFile,
  name: string,
  values: BoundArguments,
  env: Environment,
  stack: string[],
  confirmation: BornConfirmation,
): Task<LifecycleContext> {
  const decl = file.tasks[name];
  if (!decl) throw new UserError(`there is no task ${name} in ${file.file}`);
  if (stack.includes(name)) throw new UserError(`tasks call each other in a cycle: ${[...stack, name].join(" -> ")}`);
  const context = templateContext(env, name, values);
  const renderAt = <T>(key: string, render: () => T): T => {
    try {
      return render();
    } catch (error) {
      if (!(error instanceof RenderError)) throw error;
      throw new ConfigError([{ file: file.file, path: `tasks.${name}.${key}`, message: error.message }], `cannot render task ${name}`);
    }
  };

  // A call's arguments are checked like the command line's; the error then says where the call is.
  const withLocation = <T>(key: string, bind: () => T): T => {
    try {
      return bind();
    } catch (error) {
      if (!(error instanceof UserError) || error instanceof ConfigError) throw error;
      throw new ConfigError(
        [{ file: file.file, path: `tasks.${name}.${key}`, message: error.message, hint: error.hint }],
        `task ${name} calls a task with bad arguments`,
      );
    }
  };

  const steps: Step<LifecycleContext>[] = [];
  const rootNeeds: string[] = [];
  if (decl.preflight) {
    steps.push(preflightStep);
    rootNeeds.push("preflight");
  }
  const afterNeededTasks: string[] = [];
  for (const needed of decl.needs) {
    const inner = compile(file, needed, bindArguments(needed, argumentSpecs(file.tasks[needed]!), {}), env, [...stack, name], confirmation);
    const inlined = inlineTask({ prefix: needed, task: withoutPreflight(inner, decl.preflight), needs: rootNeeds });
    steps.push(...inlined.steps);
    afterNeededTasks.push(...inlined.sinks);
  }
  const firstNeeds = afterNeededTasks.length > 0 ? afterNeededTasks : rootNeeds;

  // A step that needs a call waits for every last step of the called task, wherever the call is declared.
  const callees = new Map<string, Omit<BuiltTask, "command">>();
  const finishedBy = new Map<string, string[]>();
  decl.steps.forEach((step, index) => {
    if (step.task === undefined) return;
    const calleeSpecs = file.tasks[step.task] ? argumentSpecs(file.tasks[step.task]!) : builtinSpecs(step.task);
    const given = renderAt(`steps[${index}].with`, () => renderWith(step.with, context));
    const bound = withLocation(`steps[${index}].with`, () => bindArguments(step.task!, calleeSpecs, given));
    const callee = file.tasks[step.task]
      ? { task: withoutPreflight(compile(file, step.task, bound, env, [...stack, name], confirmation), decl.preflight) }
      : builtinCallable(step.task, bound, confirmation);
    callees.set(step.id, callee);
    finishedBy.set(step.id, inlineTask({ prefix: step.id, task: callee.task, needs: [] }).sinks);
  });
  const needs = (ids: readonly string[]) => (ids.length === 0 ? firstNeeds : ids.flatMap((id) => finishedBy.get(id) ?? [id]));
  decl.steps.forEach((step, index) => {
    const callee = callees.get(step.id);
    if (callee) {
      steps.push(...inlineTask({ prefix: step.id, task: callee.task, needs: needs(step.needs) }).steps);
    } else {
      steps.push(
        commandStep(
          step,
          needs(step.needs),
          renderAt(`steps[${index}]`, () => renderCommands(step, context)),
        ),
      );
    }
  });
  return { name, concurrency: decl.concurrency, steps, lockScope: decl.preflight ? "cloud" : "local" };
}

/** A user task called from one that already checked the account does not check it again. */
function withoutPreflight(task: Task<LifecycleContext>, callerChecked: boolean): Task<LifecycleContext> {
  if (!callerChecked || !task.steps.some((s) => s === preflightStep)) return task;
  return {
    ...task,
    steps: task.steps.filter((s) => s !== preflightStep).map((s) => ({ ...s, needs: s.needs.filter((n) => n !== "preflight") })),
  };
}

function renderWith(values: StepDeclaration["with"], context: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [
      key,
      typeof value === "string"
        ? renderArgv([value], context)[0]
        : Array.isArray(value)
          ? value.flatMap((v) => renderArgv([v], context))
          : value,
    ]),
  );
}

interface RenderedCommands {
  argv: string[];
  skipIf?: string[];
}

function renderCommands(step: StepDeclaration, context: Record<string, unknown>): RenderedCommands {
  const argv = step.run ? renderArgv(step.run, context) : scriptArgv(renderScript(step.script!, context));
  const skipIf =
    step.skipIf === undefined
      ? undefined
      : Array.isArray(step.skipIf)
        ? renderArgv(step.skipIf, context)
        : scriptArgv(renderScript(step.skipIf, context));
  return { argv, skipIf };
}

function commandStep(step: StepDeclaration, needs: string[], commands: RenderedCommands): Step<LifecycleContext> {
  const description = step.description ?? (step.run ? `run ${step.run[0]}` : "run a script");
  return {
    id: step.id,
    description,
    needs,
    async decide(ctx) {
      if (!commands.skipIf) return runDecision("runs every time (no skipIf)", [commands.argv]);
      // The check only reads, so it runs under `plan` too.
      const check = await ctx.toolbox.run({ step: step.id, argv: commands.skipIf, captureStdout: true });
      if (check.exitCode === 0) return skipDecision(`skipIf passed: ${shellQuote(commands.skipIf)}`);
      return runDecision(`skipIf exited ${check.exitCode}: ${shellQuote(commands.skipIf)}`, [commands.argv]);
    },
    async run(ctx, decision) {
      // The user's command, run as written (its output shown): not eksbox's own, so not waited on as runPlannedCommands would.
      for (const { argv } of decision.commands) await ctx.toolbox.runOrFail({ step: stepId(ctx), argv });
    },
  };
}
