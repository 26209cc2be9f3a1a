// A task called from another task runs inlined: its steps join the caller's graph with ids
// prefixed by the calling step's id (`rollout.create-new`), so `plan` shows every step of every
// called task and a rerun resumes inside it like anywhere else. Each call gets its own context
// scope (a shallow copy of the caller's, extended as the called task needs), created once per run,
// so two calls never share `rendered` or a roll's state. Each inlined step sees its scope stamped
// with its own id, and the scope's toolbox prefixes it: commands inside run under the prefixed id.
import type { LifecycleContext } from "./lifecycle.js";
import { baseContext, stepView, type Step, type Task } from "./model.js";
import type { Toolbox, ToolboxRunRequest } from "../runtime/types.js";

export interface InlineCall {
  prefix: string;
  task: Task<LifecycleContext, LifecycleContext>;
  /** Changes the caller's context before the called task's own extend (upgrade rolls onto its target version). */
  adapt?: (base: LifecycleContext) => LifecycleContext;
  /** What the called task's first steps wait for (the calling step's needs). */
  needs: readonly string[];
  /** A reason to skip every step of the call, decided from the caller's context; undefined runs it. */
  skipWhen?: (ctx: LifecycleContext) => Promise<string | undefined>;
}

export interface InlinedSteps {
  steps: Step<LifecycleContext>[];
  /** Ids of the inlined steps nothing else in the call waits for: what "after the call" means. */
  sinks: string[];
}

function prefixedToolbox(toolbox: Toolbox, prefix: string): Toolbox {
  const rename = (request: ToolboxRunRequest): ToolboxRunRequest => ({ ...request, step: `${prefix}.${request.step}` });
  return {
    get image() {
      return toolbox.image;
    },
    run: (request) => toolbox.run(rename(request)),
    runOrFail: (request) => toolbox.runOrFail(rename(request)),
    shareFiles: (paths) => toolbox.shareFiles(paths),
    // The caller's session owns the toolbox.
    dispose: async () => {},
  };
}

export function inlineTask(call: InlineCall): InlinedSteps {
  const scopes = new WeakMap<LifecycleContext, LifecycleContext>();
  const scopeFor = (view: LifecycleContext): LifecycleContext => {
    // Keyed by the run's context, not by the view each step is handed.
    const parent = baseContext(view);
    let scope = scopes.get(parent);
    if (!scope) {
      const copied: LifecycleContext = { ...parent, rendered: undefined, toolbox: prefixedToolbox(parent.toolbox, call.prefix) };
      const base = call.adapt ? call.adapt(copied) : copied;
      scope = call.task.extend ? call.task.extend(base) : base;
      scopes.set(parent, scope);
    }
    return scope;
  };
  const skipReasons = new WeakMap<LifecycleContext, Promise<string | undefined>>();
  const skipReason = (view: LifecycleContext): Promise<string | undefined> => {
    if (!call.skipWhen) return Promise.resolve(undefined);
    const parent = baseContext(view);
    let reason = skipReasons.get(parent);
    if (!reason) {
      // Decided once for the whole call, as the call (its prefix), whichever step asks first.
      reason = call.skipWhen(stepView(parent, call.prefix));
      skipReasons.set(parent, reason);
    }
    return reason;
  };
  const id = (inner: string) => `${call.prefix}.${inner}`;
  const steps = call.task.steps.map((inner): Step<LifecycleContext> => ({
    id: id(inner.id),
    description: inner.description,
    needs: inner.needs.length > 0 ? inner.needs.map(id) : [...call.needs],
    async decide(ctx) {
      const skip = await skipReason(ctx);
      if (skip !== undefined) return { action: "skip", reason: skip };
      return inner.decide(stepView(scopeFor(ctx), inner.id));
    },
    run: (ctx, decision) => inner.run(stepView(scopeFor(ctx), inner.id), decision),
  }));
  const needed = new Set(call.task.steps.flatMap((s) => s.needs));
  const sinks = call.task.steps.filter((s) => !needed.has(s.id)).map((s) => id(s.id));
  return { steps, sinks };
}
