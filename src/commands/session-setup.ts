// What `eksbox exec` and `eksbox shell` share: which environment (optional for them), the
// toolbox options it implies, and a real terminal's raw mode and size.
import { fstatSync } from "node:fs";
import type { CommandContext } from "../core/context.js";
import { log } from "../core/events.js";
import { newRunId } from "../core/layout.js";
import { getStoredEnv, resolveEnvName } from "../config/env-selection.js";
import type { SessionRequest, ToolboxOptions } from "../runtime/types.js";

/**
 * exec and shell work without any environment (a bare toolbox); when one is chosen (--env,
 * EKSBOX_ENV or `eksbox env set`) they get its profile, region, endpoint and kubeconfig.
 */
export async function toolboxOptionsFor(ctx: CommandContext, opts: { env?: string; image?: string }): Promise<ToolboxOptions> {
  const chosen = opts.env || ctx.processEnv.EKSBOX_ENV || (await getStoredEnv(ctx.projectRoot));
  const base: ToolboxOptions = {
    projectRoot: ctx.projectRoot,
    imageRef: opts.image,
    runId: newRunId(),
    events: ctx.events,
    interrupter: ctx.interrupter,
    processEnv: ctx.processEnv,
  };
  if (!chosen) {
    log.info(
      ctx.events,
      "no environment chosen: the toolbox gets your AWS variables and ~/.aws but no environment's profile, region or kubeconfig",
    );
    return base;
  }
  const envName = await resolveEnvName(ctx.projectRoot, { flag: opts.env, processEnv: ctx.processEnv });
  const { loadEnvironment } = await import("../config/load.js");
  const { config } = await loadEnvironment(ctx.projectRoot, envName);
  return {
    ...base,
    envName,
    aws: { profile: config.aws.profile || undefined, region: config.aws.region, endpointUrl: config.aws.endpointUrl },
    credentials: { assumeRole: config.aws.assumeRole },
  };
}

/** Piped or redirected input is forwarded; a terminal or an inherited CI descriptor is not. */
export function stdinHasData(stdin: NodeJS.ReadStream & { fd?: number }): boolean {
  if (stdin.isTTY) return false;
  try {
    const stat = fstatSync(stdin.fd ?? 0);
    return stat.isFIFO() || stat.isFile();
  } catch {
    return false;
  }
}

/** Raw mode and size tracking for a session on a real terminal; returns the restore function. */
export function terminalSession(
  stdin: NodeJS.ReadStream,
  stdout: NodeJS.WriteStream,
): {
  request: Pick<SessionRequest, "size" | "onResize">;
  restore: () => void;
} {
  const wasRaw = stdin.isRaw;
  stdin.setRawMode?.(true);
  stdin.resume();
  const size = () => ({ columns: stdout.columns ?? 80, rows: stdout.rows ?? 24 });
  return {
    request: {
      size: size(),
      onResize: (listener) => {
        const onResize = () => listener(size());
        stdout.on("resize", onResize);
        return () => stdout.off("resize", onResize);
      },
    },
    restore: () => {
      stdin.setRawMode?.(wasRaw ?? false);
      stdin.pause();
    },
  };
}
