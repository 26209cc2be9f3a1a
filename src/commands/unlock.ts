// eksbox unlock --env e <run-id>: the manual escape for a lock whose run is certainly gone, like
// `terraform force-unlock`. The run id must be the holder's: a typo or an old id never removes a
// lock that a live run holds now.
import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { newRunId } from "../core/layout.js";
import { openToolbox } from "../runtime/toolbox.js";
import { CloudFacts } from "../steps/cloud.js";
import { describeHolder, environmentStateStore } from "../steps/cloud-lock.js";
import { checkAccount } from "../steps/common-steps.js";
import { loadSessionEnvironment, type SessionOptions } from "../steps/session.js";

export async function unlockCommand(ctx: CommandContext, opts: SessionOptions & { runId: string }): Promise<void> {
  const { envName, env } = await loadSessionEnvironment(ctx, opts);
  const { aws, cluster } = env.config;
  const toolbox = await openToolbox({
    projectRoot: ctx.projectRoot,
    envName,
    aws: { profile: aws.profile || undefined, region: aws.region, endpointUrl: aws.endpointUrl },
    imageRef: opts.image,
    runId: newRunId(),
    events: ctx.events,
    interrupter: ctx.interrupter,
    processEnv: ctx.processEnv,
  });
  let released: string;
  try {
    await checkAccount({ facts: new CloudFacts(toolbox, cluster.name, aws.region).forStep("unlock"), env });
    const store = environmentStateStore(toolbox, ctx.events, env);
    const holder = await store.holder();
    if (!holder)
      throw new UserError(`environment ${envName} is not locked; nothing to unlock`, {
        hint: `eksbox status --env ${envName} shows the last run`,
      });
    if (holder.runId !== opts.runId) {
      throw new UserError(
        `refusing to unlock: run ${opts.runId} does not hold the lock of environment ${envName}; ${describeHolder(holder)} does`,
        {
          hint: `if that run is certainly gone: eksbox unlock --env ${envName} ${holder.runId}`,
        },
      );
    }
    // Conditional on the run id again: if the holder changed since it was read, nothing is deleted.
    await store.release(opts.runId);
    const after = await store.holder();
    if (after)
      throw new UserError(`the lock of environment ${envName} changed hands meanwhile: ${describeHolder(after)}; nothing was released`);
    released = describeHolder(holder);
  } finally {
    await toolbox.dispose();
  }
  if (ctx.output === "json") ctx.stdout.write(`${JSON.stringify({ env: envName, unlocked: opts.runId })}\n`);
  else ctx.stdout.write(`released the lock of environment ${envName} held by ${released}\n`);
}
