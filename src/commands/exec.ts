// eksbox exec -- CMD...: any command in the toolbox with the environment's credentials. Its
// output is the command's (stdout stays pipeable: `eksbox exec -- kubectl get pods -o json | jq`),
// masked for secrets; its exit code becomes ours.
import type { CommandContext } from "../core/context.js";
import { UserError } from "../core/errors.js";
import { stdinHasData, terminalSession, toolboxOptionsFor } from "./session-setup.js";
import { openToolbox } from "../runtime/toolbox.js";
import type { ToolboxOptions } from "../runtime/types.js";
import type { InteractiveToolbox } from "../runtime/types.js";

export interface ExecOptions {
  env?: string;
  image?: string;
  /** A terminal for the command (interactive prompts, colours); the CLI passes false for --no-tty or when stdout is not one. */
  tty?: boolean;
  argv: string[];
}

export interface ExecDeps {
  openToolbox: (opts: ToolboxOptions) => Promise<InteractiveToolbox>;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WritableStream;
}

const defaultDeps = (): ExecDeps => ({ openToolbox, stdin: process.stdin, stderr: process.stderr });

/** Runs the command; sets process.exitCode to its exit code and returns it. */
export async function execCommand(ctx: CommandContext, opts: ExecOptions, deps: ExecDeps = defaultDeps()): Promise<number> {
  if (opts.argv.length === 0) {
    throw new UserError("eksbox exec needs a command", { hint: "for example: eksbox exec -- aws sts get-caller-identity" });
  }
  const toolbox = await deps.openToolbox(await toolboxOptionsFor(ctx, opts));
  let exitCode: number;
  try {
    const tty = Boolean(opts.tty && deps.stdin.isTTY);
    if (tty) {
      const terminal = terminalSession(deps.stdin, ctx.stdout as NodeJS.WriteStream);
      try {
        exitCode = await toolbox.session({
          step: "exec",
          argv: opts.argv,
          tty: true,
          stdin: deps.stdin,
          stdout: ctx.stdout,
          stderr: deps.stderr,
          ...terminal.request,
        });
      } finally {
        terminal.restore();
      }
    } else if (stdinHasData(deps.stdin)) {
      exitCode = await toolbox.session({
        step: "exec",
        argv: opts.argv,
        tty: false,
        stdin: deps.stdin,
        stdout: ctx.stdout,
        stderr: deps.stderr,
      });
    } else {
      exitCode = (await toolbox.run({ step: "exec", argv: opts.argv, output: { stdout: ctx.stdout, stderr: deps.stderr } })).exitCode;
    }
  } finally {
    await toolbox.dispose();
  }
  process.exitCode = exitCode;
  return exitCode;
}
