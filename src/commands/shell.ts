// eksbox shell: an interactive shell in the toolbox, with the environment's credentials and
// kubeconfig, in the workspace. On a terminal it runs in raw mode and follows window resizes;
// with piped input it reads commands from it.
import type { CommandContext } from "../core/context.js";
import { terminalSession, toolboxOptionsFor } from "./session-setup.js";
import { openToolbox } from "../runtime/toolbox.js";
import type { ExecDeps } from "./exec.js";

export interface ShellOptions {
  env?: string;
  image?: string;
}

/** bash when the image has it, sh otherwise. */
export const SHELL_ARGV = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi"];

export async function shellCommand(
  ctx: CommandContext,
  opts: ShellOptions,
  deps: ExecDeps = { openToolbox, stdin: process.stdin, stderr: process.stderr },
): Promise<number> {
  const toolbox = await deps.openToolbox(await toolboxOptionsFor(ctx, opts));
  let exitCode: number;
  try {
    const tty = Boolean(deps.stdin.isTTY && (ctx.stdout as NodeJS.WriteStream).isTTY);
    const terminal = tty ? terminalSession(deps.stdin, ctx.stdout as NodeJS.WriteStream) : undefined;
    try {
      exitCode = await toolbox.session({
        step: "shell",
        argv: SHELL_ARGV,
        tty,
        stdin: deps.stdin,
        stdout: ctx.stdout,
        stderr: deps.stderr,
        ...terminal?.request,
      });
    } finally {
      terminal?.restore();
    }
  } finally {
    await toolbox.dispose();
  }
  process.exitCode = exitCode;
  return exitCode;
}
