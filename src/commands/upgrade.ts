import type { CommandContext } from "../core/context.js";
import { confirmDestructive, destructiveActions } from "../steps/guard.js";
import { loadSessionEnvironment, runLifecycleTask, unchangedReport, type RunReport, type SessionOptions } from "../steps/session.js";
import { planFirst } from "./plan-first.js";
import { readyTimeoutMs } from "./shared-options.js";
import { parseKubernetesVersion, upgradeTask } from "../steps/upgrade.js";

export interface UpgradeCommandOptions extends SessionOptions {
  /** Target Kubernetes version (default: cluster.version from the config). */
  to?: string;
  /** Do not ask before upgrading. */
  yes?: boolean;
  allowProtected?: boolean;
  readyTimeout?: string;
  /** Upgrade despite ERROR upgrade insights (recorded in the run). */
  force?: boolean;
}

/**
 * eksbox upgrade: shows the plan, asks (unless --yes), then upgrades the control plane one minor
 * version at a time, updates the addons and rolls the nodegroups. Resumable: rerun the same command.
 */
export async function upgradeCommand(ctx: CommandContext, opts: UpgradeCommandOptions): Promise<RunReport> {
  if (opts.to !== undefined) parseKubernetesVersion(opts.to, "--to");
  const timeoutMs = readyTimeoutMs(opts.readyTimeout);
  const session = await loadSessionEnvironment(ctx, opts);
  const build = () => upgradeTask({ to: opts.to, readyTimeoutMs: timeoutMs, force: opts.force });
  const { entries, changes } = await planFirst(ctx, session, build(), opts, "upgrade");
  if (!changes) return unchangedReport("upgrade", session.envName, entries);
  // Everything an upgrade changes is asked for, the one-way and draining steps by what they do.
  const destructive = destructiveActions(entries);
  const others = entries
    .filter((e) => e.id !== "preflight" && e.decision?.action === "run" && e.decision.destructive === undefined)
    .map((e) => `${e.id}: ${(e.decision as { done?: string; reason: string }).done ?? e.decision!.reason}`);
  const target = (opts.to ? ` --to ${opts.to}` : "") + (opts.force ? " --force" : "");
  const command = `eksbox upgrade --env ${session.envName}${target}`;
  await confirmDestructive({
    env: { name: session.envName, protected: session.env.config.protected },
    actions: [...destructive, ...others],
    confirmWord: session.env.config.cluster.name,
    command,
    yes: opts.yes,
    allowProtected: opts.allowProtected,
    prompt: ctx.ask,
  });
  const resume = `${command} --yes${session.env.config.protected ? " --allow-protected" : ""}`;
  return runLifecycleTask({ ctx, session, task: build(), opts, resumeCommand: resume });
}
