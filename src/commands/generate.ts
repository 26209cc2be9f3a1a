// `eksbox generate`: writes build/<env>/cluster.yaml and nodegroups.yaml for eksctl.
import path from "node:path";
import type { CommandContext } from "../core/context.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import { generateEnvironment } from "../render/render.js";

export async function generateCommand(ctx: CommandContext, opts: { env?: string; out?: string; set?: string[] }): Promise<void> {
  const name = await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const env = await loadEnvironment(ctx.projectRoot, name, { sets: opts.set });
  const { rendered, written } = await generateEnvironment(ctx.projectRoot, env, { outDir: opts.out });
  const shown = written.map((file) => path.relative(ctx.projectRoot, file) || file);
  if (ctx.output === "json") {
    ctx.stdout.write(`${JSON.stringify({ env: name, workerVersion: rendered.workerVersion, nodegroups: rendered.nodegroupNames, written })}\n`);
  } else {
    ctx.stdout.write(`${shown.map((file) => `wrote ${file}`).join("\n")}\n`);
  }
}
