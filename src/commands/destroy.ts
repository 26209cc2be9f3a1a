import type { CommandContext } from "../core/context.js";
import { confirmDestructive } from "../steps/guard.js";
import { envPaths } from "../core/layout.js";
import { builtinTask } from "../steps/registry.js";
import { loadSessionEnvironment, runLifecycleTask, type RunReport, type SessionOptions } from "../steps/session.js";

export interface DestroyCommandOptions extends SessionOptions {
  yes?: boolean;
  allowProtected?: boolean;
}

/** eksbox destroy: nodegroups, then the cluster. Asks for the cluster's name unless --yes. */
export async function destroyCommand(ctx: CommandContext, opts: DestroyCommandOptions): Promise<RunReport> {
  const session = await loadSessionEnvironment(ctx, opts);
  const clusterName = session.env.config.cluster.name;
  const isProtected = session.env.config.protected;
  // Confirmed before the toolbox starts: what destroy deletes does not depend on the plan.
  await confirmDestructive({
    env: { name: session.envName, protected: isProtected },
    actions: [
      ...(session.env.config.autoscaling.mode === "karpenter"
        ? [`delete Karpenter's NodePools and terminate the instances Karpenter launched for ${clusterName}`]
        : []),
      `delete cluster ${clusterName} and all its nodegroups (drained)`,
      `remove ${envPaths(session.envName).kubeconfig} and the recorded state`,
    ],
    confirmWord: clusterName,
    command: `eksbox destroy --env ${session.envName}`,
    yes: opts.yes,
    allowProtected: opts.allowProtected,
    prompt: ctx.ask,
  });
  const { task, command } = builtinTask("destroy");
  const resume = `eksbox ${command} --env ${session.envName} --yes${isProtected ? " --allow-protected" : ""}`;
  return runLifecycleTask({ ctx, session, task, opts, resumeCommand: resume });
}
