import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { builtinTask } from "../steps/registry.js";
import { loadSessionEnvironment, runLifecycleTask, type SessionOptions } from "../steps/session.js";
import { confirmOrFail } from "./shared-options.js";

export interface DestroyCommandOptions extends SessionOptions {
  yes?: boolean;
  allowProtected?: boolean;
}

/** eksbox destroy: nodegroups, then the cluster. Asks for the cluster's name unless --yes. */
export async function destroyCommand(ctx: CommandContext, opts: DestroyCommandOptions): Promise<void> {
  const session = await loadSessionEnvironment(ctx, opts);
  const clusterName = session.env.config.cluster.name;
  if (session.env.config.protected && !opts.allowProtected) {
    throw new UserError(`environment ${session.envName} is protected (protected: true); refusing to destroy cluster ${clusterName}`, {
      hint: "if you really mean it, add --allow-protected",
    });
  }
  await confirmOrFail(ctx, {
    command: "destroy",
    yes: opts.yes,
    question: `This deletes cluster ${clusterName} and all its nodegroups. Type the cluster name to go on: `,
    accepts: (answer) => answer === clusterName,
    withoutTerminal: `pass --yes to destroy cluster ${clusterName} without being asked`,
    refused: (answer) => `"${answer}" is not "${clusterName}"; nothing was deleted`,
  });
  const { task, command } = builtinTask("destroy");
  const resume = `eksbox ${command} --env ${session.envName} --yes${session.env.config.protected ? " --allow-protected" : ""}`;
  await runLifecycleTask({ ctx, session, task, opts, resumeCommand: resume });
}
