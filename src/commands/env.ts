// `eksbox env list|set|get`: which environment later commands act on.
import type { CommandContext } from "../core/context.js";
import { getStoredEnv, resolveEnvSelection, setStoredEnv, STORED_ENV_FILE } from "../config/env-selection.js";
import { listEnvironments } from "../config/load.js";
import { UserError } from "../core/errors.js";

function write(ctx: CommandContext, json: unknown, text: string): void {
  ctx.stdout.write(ctx.output === "json" ? `${JSON.stringify(json)}\n` : text);
}

export async function envListCommand(ctx: CommandContext): Promise<void> {
  const environments = await listEnvironments(ctx.projectRoot);
  const current = ctx.processEnv.EKSBOX_ENV || (await getStoredEnv(ctx.projectRoot));
  const text =
    environments.length === 0
      ? "no environments: add config/environments/<name>.yaml\n"
      : environments.map((name) => `${name === current ? "*" : " "} ${name}\n`).join("");
  if (ctx.output !== "json") return write(ctx, undefined, text);
  // For CI matrices (`eksbox ci github`): what a job needs to know before it runs eksbox.
  const { loadEnvironment } = await import("../config/load.js");
  const details = await Promise.all(
    environments.map(async (name) => {
      try {
        const { config } = await loadEnvironment(ctx.projectRoot, name);
        return {
          name,
          region: config.aws.region,
          accountId: config.aws.accountId,
          protected: config.protected,
          assumeRole: config.aws.assumeRole?.roleArn ?? null,
        };
      } catch (error) {
        return { name, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
  write(ctx, { environments, current: current ?? null, details }, text);
}

export async function envSetCommand(ctx: CommandContext, opts: { name: string }): Promise<void> {
  await setStoredEnv(ctx.projectRoot, opts.name);
  const overridden = ctx.processEnv.EKSBOX_ENV && ctx.processEnv.EKSBOX_ENV !== opts.name;
  write(
    ctx,
    { env: opts.name, file: STORED_ENV_FILE },
    `environment set to ${opts.name} (in ${STORED_ENV_FILE})\n` +
      (overridden ? `note: EKSBOX_ENV=${ctx.processEnv.EKSBOX_ENV} is set in this shell and wins over it\n` : ""),
  );
}

const sourceText = { flag: "from --env", EKSBOX_ENV: "from EKSBOX_ENV", stored: `from ${STORED_ENV_FILE}` } as const;

export async function envGetCommand(ctx: CommandContext, opts: { env?: string }): Promise<void> {
  const { name, source } = await resolveEnvSelection(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const known = await listEnvironments(ctx.projectRoot);
  if (!known.includes(name)) {
    throw new UserError(`environment ${name} (${sourceText[source]}) does not exist`, {
      hint: `environments: ${known.join(", ") || "none yet"} (config/environments/<name>.yaml)`,
    });
  }
  write(ctx, { env: name, source }, ctx.output === "json" ? "" : `${name} (${sourceText[source]})\n`);
}
