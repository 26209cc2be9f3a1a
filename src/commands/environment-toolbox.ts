// What `eksbox status` and `eksbox unlock` share: one environment's toolbox, with its account's
// credentials (assumeRole included), the cloud facts and the environment's state store (lock, last
// run) read through it; the toolbox is removed when they are done.
import type { CommandContext } from "../core/context.js";
import { newRunId } from "../core/layout.js";
import type { Environment } from "../config/schema.js";
import { openToolbox } from "../runtime/toolbox.js";
import type { Toolbox } from "../runtime/types.js";
import { CloudFacts } from "../steps/cloud.js";
import { environmentStateStore } from "../steps/cloud-lock.js";
import type { EnvironmentStateStore } from "../steps/cloud-state.js";
import { loadSessionEnvironment, type SessionOptions } from "../steps/session.js";

export interface EnvironmentToolbox {
  envName: string;
  env: Environment;
  toolbox: Toolbox;
  /** The cloud's answers, run under `step` (as a lifecycle step's would be). */
  facts: CloudFacts;
  store: EnvironmentStateStore;
}

/** Loads the environment, opens its toolbox, runs `use`, and removes the toolbox whatever happened. */
export async function withEnvironmentToolbox<T>(
  ctx: CommandContext,
  opts: SessionOptions,
  step: string,
  use: (session: EnvironmentToolbox) => Promise<T>,
): Promise<T> {
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
    credentials: { assumeRole: aws.assumeRole },
  });
  try {
    return await use({
      envName,
      env,
      toolbox,
      facts: new CloudFacts(toolbox, cluster.name, aws.region).forStep(step),
      store: environmentStateStore(toolbox, ctx.events, env),
    });
  } finally {
    await toolbox.dispose();
  }
}
