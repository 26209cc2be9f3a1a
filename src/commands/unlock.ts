// eksbox unlock --env e <run-id>: the manual escape for a lock whose run is certainly gone, like
// `terraform force-unlock`. The run id must be the holder's: a typo or an old id never removes a
// lock that a live run holds now.
import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { describeHolder } from "../steps/cloud-lock.js";
import { checkAccount } from "../steps/common-steps.js";
import type { SessionOptions } from "../steps/session.js";
import { withEnvironmentToolbox } from "./environment-toolbox.js";

export async function unlockCommand(ctx: CommandContext, opts: SessionOptions & { runId: string }): Promise<void> {
  const { envName, released } = await withEnvironmentToolbox(ctx, opts, "unlock", async ({ envName, env, facts, store }) => {
    await checkAccount({ facts, env });
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
    return { envName, released: describeHolder(holder) };
  });
  if (ctx.output === "json") ctx.stdout.write(`${JSON.stringify({ env: envName, unlocked: opts.runId })}\n`);
  else ctx.stdout.write(`released the lock of environment ${envName} held by ${released}\n`);
}
