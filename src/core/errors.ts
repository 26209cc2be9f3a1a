// The few error types eksbox has. The CLI maps each to an exit code and a rendering:
// user/config errors print without a stack, step failures print the step and the tail of its
// output, aborts print one line, anything else is an internal bug with a stack and "please report".

export const ExitCode = {
  ok: 0,
  stepFailed: 1,
  badInput: 2,
  internal: 70,
  /** EX_UNAVAILABLE from sysexits.h: a service we need (the Docker engine) is not there. */
  unavailable: 69,
  aborted: 130,
  /** 128 + SIGPIPE, what a shell reports for a tool whose reader went away (`eksbox status | head -1`). */
  brokenPipe: 141,
} as const;

export abstract class EksboxError extends Error {
  abstract readonly kind: "user" | "step" | "aborted" | "unavailable" | "internal";
  abstract readonly exitCode: number;
  /** A next step for the user, printed under the message. */
  readonly hint?: string;

  constructor(message: string, options?: { hint?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** The user gave us something we cannot use. The message says what and how to fix it; no stack. */
export class UserError extends EksboxError {
  readonly kind = "user" as const;
  readonly exitCode: number = ExitCode.badInput;
}

/** One problem in a config, tasks or template file, located as precisely as we can. */
export interface ConfigIssue {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted key path, e.g. `worker.desiredCapacity` or `nodeGroups[0].name`. */
  path?: string;
  message: string;
  hint?: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const where = issue.file ? `${issue.file}${issue.line ? `:${issue.line}${issue.column ? `:${issue.column}` : ""}` : ""}` : "";
  const key = issue.path ? `${issue.path}: ` : "";
  const head = where ? `${where}: ${key}${issue.message}` : `${key}${issue.message}`;
  return issue.hint ? `${head}\n    ${issue.hint}` : head;
}

/** Every problem found in the input, reported at once. */
export class ConfigError extends UserError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], summary?: string) {
    const lines = issues.map(formatIssue);
    const head = summary ?? (issues.length === 1 ? "invalid configuration" : `${issues.length} problems in the configuration`);
    super(`${head}:\n  ${lines.join("\n  ")}`);
    this.issues = issues;
  }
}

/** A service eksbox needs is not reachable (the Docker engine). */
export class UnavailableError extends EksboxError {
  readonly kind = "unavailable" as const;
  readonly exitCode = ExitCode.unavailable;
}

const exitMeanings: Record<number, string> = {
  1: "general error",
  2: "misuse of a command or bad arguments",
  125: "the container could not be started",
  126: "command found but not executable",
  127: "command not found in the toolbox image",
  130: "interrupted (SIGINT)",
  137: "killed (SIGKILL; out of memory or stopped by force)",
  143: "terminated (SIGTERM)",
};

export function exitCodeMeaning(code: number): string {
  if (exitMeanings[code]) return exitMeanings[code];
  if (code > 128 && code < 160) return `killed by signal ${code - 128}`;
  return "failed";
}

/** A step's command ran and failed. */
export class StepFailedError extends EksboxError {
  readonly kind = "step" as const;
  readonly exitCode = ExitCode.stepFailed;
  readonly step: string;
  readonly argv: readonly string[];
  readonly commandExitCode: number | undefined;
  readonly outputTail: readonly string[];

  constructor(args: {
    step: string;
    argv?: readonly string[];
    exitCode?: number;
    outputTail?: readonly string[];
    message?: string;
    hint?: string;
    cause?: unknown;
  }) {
    const code = args.exitCode;
    const what = args.message ?? (code === undefined ? "failed" : `exited ${code} (${exitCodeMeaning(code)})`);
    super(`step ${args.step} ${what}`, { hint: args.hint, cause: args.cause });
    this.step = args.step;
    this.argv = args.argv ?? [];
    this.commandExitCode = code;
    this.outputTail = args.outputTail ?? [];
  }
}

/** The user (or a signal) stopped the run. */
export class AbortedError extends EksboxError {
  readonly kind = "aborted" as const;
  readonly exitCode = ExitCode.aborted;
}

/** A bug in eksbox: printed with its stack and a request to report it. */
export class InternalError extends EksboxError {
  readonly kind = "internal" as const;
  readonly exitCode = ExitCode.internal;
}

export function isEksboxError(e: unknown): e is EksboxError {
  return e instanceof EksboxError;
}
