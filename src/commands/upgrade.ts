import type { CommandContext } from "../core/context.js";
import { planAsText } from "../output/plan.js";
import { loadSessionEnvironment, planLifecycleTask, runLifecycleTask, type SessionOptions } from "../steps/session.js";
import { parseKubernetesVersion, upgradeTask } from "../steps/upgrade.js";
import { confirmOrFail, readyTimeoutMs } from "./shared-options.js";

export interface UpgradeCommandOptions extends SessionOptions {
  /** Target Kubernetes version (default: cluster.version from the config). */
  to?: string;
  /** Do not ask before upgrading. */
  yes?: boolean;
  readyTimeout?: string;
}

/**
 * eksbox upgrade: shows the plan, asks (unless --yes), then upgrades the control plane one minor
 * version at a time, updates the addons and rolls the nodegroups. Resumable: rerun the same command.
 */
export async function upgradeCommand(ctx: CommandContext, opts: UpgradeCommandOptions): Promise<void> {
  if (opts.to !== undefined) parseKubernetesVersion(opts.to, "--to");
  const timeoutMs = readyTimeoutMs(opts.readyTimeout);
  const session = await loadSessionEnvironment(ctx, opts);
  const build = () => upgradeTask({ to: opts.to, readyTimeoutMs: timeoutMs });
  const entries = await planLifecycleTask({ ctx, session, task: build(), opts });
  const header = { task: "upgrade", env: session.envName, account: session.env.config.aws.accountId, region: session.env.config.aws.region };
  if (ctx.output === "text") ctx.stdout.write(planAsText(header, entries));
  const failed = entries.find((e) => e.error !== undefined);
  if (failed) throw failed.error;
  // preflight always "runs" (it only reads); anything else that would run changes the cluster or the state.
  if (entries.every((e) => e.id === "preflight" || e.decision?.action === "skip")) return;
  await confirmOrFail(ctx, {
    command: "upgrade",
    yes: opts.yes,
    question: `Upgrade cluster ${session.env.config.cluster.name} as planned above? [y/N] `,
    accepts: (answer) => ["y", "yes"].includes(answer.toLowerCase()),
    withoutTerminal: "read the plan above, then pass --yes",
    refused: () => "not upgraded; nothing was changed",
  });
  const target = opts.to ? ` --to ${opts.to}` : "";
  await runLifecycleTask({ ctx, session, task: build(), opts, resumeCommand: `eksbox upgrade --env ${session.envName}${target} --yes` });
}
