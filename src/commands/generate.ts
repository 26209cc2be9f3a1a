// `eksbox generate`: writes build/<env>/cluster.yaml and nodegroups.yaml for eksctl.
import path from "node:path";
import type { CommandContext } from "../core/context.js";
import { resolveEnvName } from "../config/env-selection.js";
import { loadEnvironment } from "../config/load.js";
import { generateEnvironment } from "../render/render.js";
import { fleetEnvironments, runFleet } from "./fleet.js";

export async function generateCommand(ctx: CommandContext, opts: { env?: string; out?: string; set?: string[]; all?: boolean }): Promise<void> {
  const names = await fleetEnvironments(ctx, opts);
  if (names) {
    // CPU-bound rendering: one at a time gains nothing from running side by side.
    await runFleet(ctx, names, 1, {
      name: "generate",
      runOne: (child, env) => generateCommand(child, { ...opts, all: undefined, env, out: opts.out ? path.join(opts.out, env) : undefined }),
      columns: ["WORKER VERSION", "NODEGROUPS"],
      row(r) {
        const result = r.result as { workerVersion: string; nodegroups: string[] };
        return [result.workerVersion, result.nodegroups.join(", ")];
      },
    });
    return;
  }
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
