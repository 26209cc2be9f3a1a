#!/usr/bin/env node
// The thin CLI: commander options -> one command function each. Command modules are imported only
// when their command runs, so `eksbox --help` does not pay for dockerode, ajv or nunjucks.
import { Command, Option } from "commander";
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import type { CommandContext } from "./core/context.js";
import type { SessionOptions } from "./steps/session.js";
import { ExitCode, UserError } from "./core/errors.js";
import { Interrupter } from "./core/interrupt.js";
import { createRenderer, type OutputMode } from "./output/renderer.js";
import { errorAsJson, exitCodeFor, renderError } from "./output/errors.js";
import { isRunReport, runReportAsJson } from "./output/run-report.js";
import { runReportOf } from "./steps/run-report.js";

interface GlobalOptions {
  env?: string;
  output: "text" | "json";
  tty: boolean;
  image?: string;
  verbose?: boolean;
  project?: string;
}

/** The nearest directory, from here up, that holds config/environments: the project root. */
export function findProjectRoot(start: string): string {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "config", "environments"))) return dir;
    if (dirname(dir) === dir) return resolve(start);
  }
}

/**
 * One run of the CLI: what its command actions share, instead of module state. The command being
 * run (its merged options and context) is known once commander calls its action.
 */
export class Cli {
  readonly interrupter = new Interrupter();
  private current: { options: GlobalOptions; ctx: CommandContext; name: string } | undefined;
  /** Found once: before parsing when user tasks must be registered, else for the first command. */
  private projectRoot: string | undefined;

  /** The project root as found before commander parses (user tasks are registered first); commands then use it. */
  useProjectRoot(root: string): string {
    this.projectRoot = root;
    return root;
  }

  get options(): GlobalOptions {
    if (!this.current) throw new Error("internal: no command is running");
    return this.current.options;
  }

  get events(): CommandContext["events"] | undefined {
    return this.current?.ctx.events;
  }

  /** env and image from the global options, plus a command's --set values; commands that change things take one environment. */
  sessionOptions(opts: { set?: string[] }, manyEnvironments = false): SessionOptions {
    const g = this.options;
    if (!manyEnvironments) this.oneEnvironment();
    return { env: g.env ?? undefined, image: g.image ?? undefined, set: opts.set };
  }

  /** Fleets change through CI, one job per environment: a mutating command never takes a list. */
  oneEnvironment(): void {
    const env = this.options.env;
    const name = this.current?.name ?? "this command";
    if (env?.includes(",")) {
      throw new UserError(`${name} acts on one environment per invocation, not ${env}`, {
        hint: `run it once per environment (eksbox ${name} --env <name>); fleets change through CI, one job per environment (eksbox ci github). status, plan, diff, validate and generate take --env a,b or --all`,
      });
    }
  }

  /** Wraps a command function: builds the context, runs it, and turns errors into output + exit code. */
  action<A extends unknown[]>(run: (ctx: CommandContext, ...args: A) => Promise<unknown>, opts: { errorExitCode?: number } = {}) {
    return async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const options = mergedOptions(command);
      const ctx = this.makeContext(options);
      const names: string[] = [];
      for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
      this.current = { options, ctx, name: names.join(" ") };
      try {
        const result = await run(ctx, ...(args.slice(0, -1) as A));
        // A lifecycle command's result: one object on stdout (the steps already redacted what they say).
        if (ctx.output === "json" && isRunReport(result)) {
          const { Redactor } = await import("./runtime/redact.js");
          const redactor = Redactor.fromEnv(ctx.processEnv);
          process.stdout.write(runReportAsJson(result, undefined, (t) => redactor.redact(t)));
        }
      } catch (error) {
        const { Redactor } = await import("./runtime/redact.js");
        const redactor = Redactor.fromEnv(ctx.processEnv);
        const text = (t: string) => redactor.redact(t);
        const report = runReportOf(error);
        if (ctx.output === "json") process.stdout.write(report ? runReportAsJson(report, error, text) : errorAsJson(error, text));
        else process.stderr.write(renderError(error, text));
        process.exitCode = this.interrupter.level > 0 ? ExitCode.aborted : (opts.errorExitCode ?? exitCodeFor(error));
      }
    };
  }

  private makeContext(opts: GlobalOptions): CommandContext {
    const processEnv = process.env;
    const events = createRenderer(
      outputMode(opts, processEnv),
      { stdout: process.stdout, stderr: process.stderr },
      opts.verbose,
      processEnv,
    );
    const ask = process.stdin.isTTY
      ? async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await rl.question(question);
          } finally {
            rl.close();
          }
        }
      : undefined;
    return {
      projectRoot: (this.projectRoot ??= opts.project
        ? resolve(opts.project)
        : processEnv.EKSBOX_PROJECT
          ? resolve(processEnv.EKSBOX_PROJECT)
          : findProjectRoot(process.cwd())),
      events,
      interrupter: this.interrupter,
      stdout: process.stdout,
      output: opts.output,
      processEnv,
      ask,
    };
  }
}

function outputMode(opts: GlobalOptions, env: NodeJS.ProcessEnv): OutputMode {
  if (opts.output === "json") return "json";
  if (!opts.tty || !process.stderr.isTTY || env.CI) return "plain";
  return "tty";
}

function installSignalHandlers(cli: Cli): void {
  const { interrupter } = cli;
  const messages = {
    1: "interrupt: asking the running steps to stop (SIGINT) and waiting for them; press Ctrl-C again to stop the containers",
    2: "interrupt: stopping the containers; press Ctrl-C again to kill them",
    3: "interrupt: killing the containers",
  } as const;
  const onSignal = () => {
    // Nothing running in a toolbox (validate, generate, a prompt): stop now. Files are written
    // atomically, so none is left half-written.
    if (!interrupter.hasListeners) {
      process.stderr.write("interrupted\n");
      process.exit(ExitCode.aborted);
    }
    const level = interrupter.escalate();
    if (level > 0) cli.events?.emit({ type: "interrupt", level: level as 1 | 2 | 3, message: messages[level as 1 | 2 | 3] });
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("SIGHUP", onSignal);
}

/**
 * The reader of our stdout went away (`eksbox task list | head -1`). A Unix tool would die of
 * SIGPIPE; eksbox stops as it does for Ctrl-C instead, so a run still stops its steps, removes its
 * container and releases its lock, and exits 141 as the shell expects.
 */
function installBrokenPipeHandler(cli: Cli): void {
  const { interrupter } = cli;
  let handled = false;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (handled) return;
    handled = true;
    if (!interrupter.hasListeners) process.exit(ExitCode.brokenPipe);
    process.once("exit", () => (process.exitCode = ExitCode.brokenPipe));
    if (interrupter.escalate() === 1)
      cli.events?.emit({ type: "interrupt", level: 1, message: "stdout was closed: stopping the run as for Ctrl-C" });
  });
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** --set, declared once for every command that loads an environment's config. */
function setOption(): Option {
  return new Option("--set <path=value>", "override a config value (repeatable)").argParser(collect);
}

/** --ready-timeout, for the commands that wait for new nodes (commands/shared-options.ts parses it). */
function readyTimeoutOption(): Option {
  return new Option("--ready-timeout <minutes>", "how long to wait for the new nodes").default("20");
}

export function buildProgram(cli = new Cli()): Command {
  const action = cli.action.bind(cli);
  const globals = () => cli.options;
  const sessionOptions = (opts: { set?: string[] }, manyEnvironments = false) => cli.sessionOptions(opts, manyEnvironments);
  const program = addCommonOptions(
    new Command("eksbox").description(
      "EKS clusters from per-environment config in git; every cloud command runs in a pinned toolbox image",
    ),
  )
    .showHelpAfterError()
    .enablePositionalOptions();

  const env = program.command("env").description("choose the environment commands act on");
  env
    .command("list")
    .description("list the environments in config/environments")
    .action(action(async (ctx) => (await import("./commands/env.js")).envListCommand(ctx)));
  env
    .command("set <name>")
    .description("remember an environment for later commands (in .eksbox/env, not in git)")
    .action(action(async (ctx, name: string) => (await import("./commands/env.js")).envSetCommand(ctx, { name })));
  env
    .command("get")
    .description("print the environment commands would act on")
    .action(action(async (ctx) => (await import("./commands/env.js")).envGetCommand(ctx, { env: globals().env })));

  program
    .command("generate")
    .description("write build/<env>/cluster.yaml and nodegroups.yaml")
    .option("--out <dir>", "write here instead of build/<env> (with several environments: <dir>/<env>)")
    .option("--all", "every environment (or --env a,b)")
    .addOption(setOption())
    .option("--offline", "do not ask AWS for the live nodegroups' version (use the recorded one, or today's)")
    .action(
      action(async (ctx, opts: { out?: string; set?: string[]; all?: boolean; offline?: boolean }) =>
        (await import("./commands/generate.js")).generateCommand(ctx, {
          ...sessionOptions(opts),
          out: opts.out,
          all: opts.all,
          offline: opts.offline,
        }),
      ),
    );

  program
    .command("validate")
    .description("render in memory and report every problem")
    .option("--all", "every environment")
    .addOption(setOption())
    .action(
      action(async (ctx, opts: { all?: boolean; set?: string[] }) =>
        (await import("./commands/validate.js")).validateCommand(ctx, { env: globals().env, all: opts.all, set: opts.set }),
      ),
    );

  program
    .command("plan <task> [args...]")
    .description(
      "show what a task would do (born, roll, destroy, upgrade or one of config/tasks.yaml, with its arguments), changing nothing",
    )
    .addOption(setOption())
    .option("--to-version <version>", "for roll: the nodegroup version to roll to")
    .option("--all", "every environment (or --env a,b), side by side")
    .option("--parallel <n>", "environments at once with --all or --env a,b (default 10)")
    .option("--pool <name>", "for roll: roll only this node pool (repeatable)", (value: string, previous: string[] = []) => [
      ...previous,
      value,
    ])
    .option("--out <file>", "for born: save the plan, to apply exactly it with eksbox born --plan <file>")
    .option("--roll", "for born: plan as born --roll")
    .option("--prune", "for born: plan as born --prune")
    .option("--reset-desired", "for born: plan as born --reset-desired")
    .allowUnknownOption()
    .action(
      action(
        async (
          ctx,
          task: string,
          args: string[],
          opts: {
            set?: string[];
            toVersion?: string;
            pool?: string[];
            all?: boolean;
            parallel?: string;
            out?: string;
            roll?: boolean;
            prune?: boolean;
            resetDesired?: boolean;
          },
        ) =>
          (await import("./commands/plan.js")).planCommand(ctx, {
            ...sessionOptions(opts, true),
            task,
            args,
            toVersion: opts.toVersion,
            pool: opts.pool,
            all: opts.all,
            parallel: opts.parallel,
            out: opts.out,
            converge: { roll: opts.roll, prune: opts.prune, resetDesired: opts.resetDesired },
          }),
      ),
    );

  program
    .command("diff")
    .description("only the differences between the config and the live environment; --exit-code: 0 none, 2 some, 1 error")
    .option(
      "--exit-code",
      "exit 2 when there are differences (for a scheduled drift check); with several environments, 1 when any could not be checked",
    )
    .option("--all", "every environment (or --env a,b), side by side, one table")
    .option("--parallel <n>", "environments at once with --all or --env a,b (default 10)")
    .addOption(setOption())
    .action(
      action(
        async (ctx, opts: { set?: string[]; exitCode?: boolean; all?: boolean; parallel?: string }) => {
          const code = await (
            await import("./commands/diff.js")
          ).diffCommand(ctx, { ...sessionOptions(opts, true), exitCode: opts.exitCode, all: opts.all, parallel: opts.parallel });
          if (code !== 0) process.exitCode = code;
        },
        { errorExitCode: 1 },
      ),
    );

  program
    .command("upgrade")
    .description("upgrade Kubernetes one minor version at a time: control plane, addons, then a nodegroup roll (shows the plan first)")
    .option("--to <version>", "target Kubernetes version, such as 1.35 (default: cluster.version in the config)")
    .option("--yes", "do not ask after showing the plan (required without a terminal)")
    .option("--allow-protected", "allow upgrading an environment marked protected: true")
    .option("--force", "upgrade even when an upgrade insight is in ERROR (recorded in the run)")
    .addOption(readyTimeoutOption())
    .addOption(setOption())
    .action(
      action(
        async (
          ctx,
          opts: { to?: string; yes?: boolean; allowProtected?: boolean; force?: boolean; readyTimeout?: string; set?: string[] },
        ) =>
          (await import("./commands/upgrade.js")).upgradeCommand(ctx, {
            ...sessionOptions(opts),
            to: opts.to,
            yes: opts.yes,
            allowProtected: opts.allowProtected,
            force: opts.force,
            readyTimeout: opts.readyTimeout,
          }),
      ),
    );

  program
    .command("task")
    .description("tasks from config/tasks.yaml")
    .command("list")
    .description("list the tasks in config/tasks.yaml with their usage")
    .action(action(async (ctx) => (await import("./commands/task.js")).taskListCommand(ctx)));

  program
    .command("born")
    .description(
      "create the whole cluster (or finish an earlier run) and bring what exists to the config: cluster, nodegroups, service accounts, addons, kubeconfig, Flux",
    )
    .addOption(setOption())
    .option("--roll", "replace nodegroups whose launch spec changed (a blue/green roll)")
    .option("--prune", "delete what eksbox manages but the config no longer names (destructive)")
    .option("--yes", "confirm destructive and one-way changes (a zone's nodegroup, --prune, authenticationMode)")
    .option("--allow-protected", "allow destructive and one-way changes on an environment marked protected: true")
    .option("--reset-desired", "set nodegroups' desired capacity to the config's (normally the autoscaler's)")
    .option("--plan <file>", "apply exactly a plan saved by eksbox plan born --out; refused when the cluster changed since")
    .addOption(readyTimeoutOption())
    .action(
      action(
        async (
          ctx,
          opts: {
            set?: string[];
            roll?: boolean;
            prune?: boolean;
            yes?: boolean;
            allowProtected?: boolean;
            resetDesired?: boolean;
            plan?: string;
            readyTimeout?: string;
          },
        ) =>
          (await import("./commands/born.js")).bornCommand(ctx, {
            ...sessionOptions(opts),
            roll: opts.roll,
            prune: opts.prune,
            yes: opts.yes,
            allowProtected: opts.allowProtected,
            resetDesired: opts.resetDesired,
            plan: opts.plan,
            readyTimeout: opts.readyTimeout,
          }),
      ),
    );

  program
    .command("migrate")
    .description("move to newer EKS features")
    .command("pod-identity")
    .description("move the IRSA service accounts to EKS Pod Identity (eksctl utils migrate-to-pod-identity); resumable")
    .action(action(async (ctx) => (await import("./commands/migrate.js")).migratePodIdentityCommand(ctx, sessionOptions({}))));

  const nodegroup = program.command("nodegroup").description("nodegroup operations");
  nodegroup
    .command("roll")
    .description("blue/green: create the next version's nodegroups, wait for Ready nodes, drain and delete the old ones")
    .option("--to-version <version>", "version suffix for the new nodegroups (default: a roll in progress, the pool's version, or today)")
    .option(
      "--pool <name>",
      "roll only this node pool (repeatable; default: every pool made of nodegroups)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(readyTimeoutOption())
    .option("--yes", "do not ask before draining and deleting the old nodegroups (required without a terminal)")
    .option("--allow-protected", "allow rolling an environment marked protected: true")
    .addOption(setOption())
    .action(
      action(
        async (
          ctx,
          opts: { toVersion?: string; pool?: string[]; readyTimeout?: string; yes?: boolean; allowProtected?: boolean; set?: string[] },
        ) =>
          (await import("./commands/roll.js")).rollCommand(ctx, {
            ...sessionOptions(opts),
            toVersion: opts.toVersion,
            pool: opts.pool,
            readyTimeout: opts.readyTimeout,
            yes: opts.yes,
            allowProtected: opts.allowProtected,
          }),
      ),
    );

  program
    .command("destroy")
    .description("delete the nodegroups, then the cluster")
    .option("--yes", "do not ask for the cluster's name")
    .option("--allow-protected", "allow destroying an environment marked protected: true")
    .action(
      action(async (ctx, opts: { yes?: boolean; allowProtected?: boolean }) =>
        (await import("./commands/destroy.js")).destroyCommand(ctx, {
          ...sessionOptions({}),
          yes: opts.yes,
          allowProtected: opts.allowProtected,
        }),
      ),
    );

  program
    .command("unlock <run-id>")
    .description("release the environment's lock held by a run that is certainly gone (like terraform force-unlock)")
    .action(
      action(async (ctx, runId: string) => (await import("./commands/unlock.js")).unlockCommand(ctx, { ...sessionOptions({}), runId })),
    );

  program
    .command("status")
    .description("cluster, nodegroups, toolbox image and the last run")
    .option("--all", "every environment (or --env a,b), side by side, one table")
    .option("--parallel <n>", "environments at once with --all or --env a,b (default 10)")
    .action(
      action(async (ctx, opts: { all?: boolean; parallel?: string }) =>
        (await import("./commands/status.js")).statusCommand(ctx, { ...sessionOptions({}, true), all: opts.all, parallel: opts.parallel }),
      ),
    );

  program
    .command("exec")
    .description("run a command in the toolbox with the environment's credentials: eksbox exec -- aws sts get-caller-identity")
    .argument("<argv...>", "the command and its arguments (after --)")
    .passThroughOptions()
    .action(
      action(async (ctx, argv: string[]) => {
        const g = globals();
        cli.oneEnvironment();
        await (
          await import("./commands/exec.js")
        ).execCommand(ctx, { env: g.env, image: g.image, tty: g.tty && process.stdout.isTTY === true, argv });
      }),
    );

  program
    .command("shell")
    .description("an interactive shell in the toolbox")
    .action(
      action(async (ctx) => {
        cli.oneEnvironment();
        await (await import("./commands/shell.js")).shellCommand(ctx, { env: globals().env, image: globals().image });
      }),
    );

  program
    .command("completion <shell>")
    .description("print a completion script for bash, zsh or fish: source <(eksbox completion bash)")
    .action(
      action(async (ctx, shell: string) => {
        const { SHELLS, completionScript } = await import("./cli-completion.js");
        if (!(SHELLS as readonly string[]).includes(shell)) {
          const { UserError } = await import("./core/errors.js");
          throw new UserError(`no completion for shell ${JSON.stringify(shell)}`, { hint: `eksbox completion ${SHELLS.join("|")}` });
        }
        ctx.stdout.write(completionScript(shell as (typeof SHELLS)[number]));
      }),
    );

  program
    .command("ci")
    .description("CI for the fleet")
    .command("github")
    .description("write .github/workflows/eksbox.yml: plan on pull requests, apply on merge, nightly drift check")
    .option("--branch <name>", "the branch whose pushes apply", "main")
    .option("--cron <schedule>", "when the drift check runs (UTC)", "17 3 * * *")
    .option("--node <version>", "Node.js version on the runner", "20")
    .option("--force", "replace a workflow file eksbox did not write")
    .action(
      action(async (ctx, opts: { branch?: string; cron?: string; node?: string; force?: boolean }) =>
        (await import("./commands/ci.js")).ciGithubCommand(ctx, opts),
      ),
    );

  const image = program.command("image").description("the toolbox image");
  image
    .command("build")
    .description("build the toolbox image from the Dockerfile (live output)")
    .option("--build-arg <KEY=VALUE>", "a Docker build argument (repeatable)", collect)
    .option("--tag <ref>", "tag to give the image (default: eksbox image ref)")
    .option("--network <mode>", "network for the build's RUN steps (e.g. host, to reach a local mirror)")
    .option("--no-cache", "build every layer again")
    .action(
      action(async (ctx, opts: { buildArg?: string[]; tag?: string; network?: string; cache: boolean }) =>
        (await import("./commands/image.js")).imageBuildCommand(ctx, {
          buildArgs: opts.buildArg,
          tag: opts.tag,
          networkMode: opts.network,
          noCache: !opts.cache,
        }),
      ),
    );
  image
    .command("ref")
    .description("print the toolbox reference this checkout expects")
    .option("--build-arg <KEY=VALUE>", "a build argument the image is built with (repeatable)", collect)
    .action(
      action(async (ctx, opts: { buildArg?: string[] }) =>
        (await import("./commands/image.js")).imageRefCommand(ctx, { buildArgs: opts.buildArg }),
      ),
    );
  image
    .command("verify")
    .description("run each tool's version command in the image and compare with the pins")
    .option("--build-arg <KEY=VALUE>", "a build argument the image was built with (repeatable)", collect)
    .action(
      action(async (ctx, opts: { buildArg?: string[] }) =>
        (await import("./commands/image.js")).imageVerifyCommand(ctx, { image: globals().image, buildArgs: opts.buildArg }),
      ),
    );

  return program;
}

/** The options every command takes, before or after its name: `eksbox born --env prod` and `eksbox --env prod born`. */
function addCommonOptions(command: Command): Command {
  return command
    .option("-e, --env <name>", "environment (beats EKSBOX_ENV and `eksbox env set`)")
    .addOption(new Option("-o, --output <format>", "text or json").choices(["text", "json"]).default("text"))
    .option("--no-tty", "plain output lines and no terminal in the toolbox (for CI and hooks)")
    .option("--image <ref>", "toolbox image for this run (beats EKSBOX_IMAGE)")
    .option("--project <dir>", "project root (default: the nearest directory with config/environments)")
    .option("-v, --verbose", "show debug messages");
}

/** Root to leaf, a value the user gave beats a default, and the nearer command wins. */
function mergedOptions(command: Command): GlobalOptions {
  const chain: Command[] = [];
  for (let c: Command | null = command; c; c = c.parent) chain.unshift(c);
  const merged: Record<string, unknown> = {};
  for (const c of chain) {
    for (const [key, value] of Object.entries(c.opts())) {
      if (value === undefined) continue;
      if (c.getOptionValueSource(key) === "default" && key in merged) continue;
      merged[key] = value;
    }
  }
  return merged as unknown as GlobalOptions;
}

function allCommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(allCommands)];
}

/** `eksbox __complete <words...>`: the candidates for the last word, one a line (what the completion scripts call). */
async function complete(words: string[]): Promise<void> {
  const cli = new Cli();
  const program = buildProgram(cli);
  const builtins = program.commands.map((c) => c.name());
  const { registerUserTasks, projectRootFromArgv } = await import("./commands/task.js");
  const projectRoot = projectRootFromArgv(words, process.env, () => findProjectRoot(process.cwd()));
  // A tasks file with problems still completes everything else.
  await registerUserTasks(program, {
    projectRoot: cli.useProjectRoot(projectRoot),
    action: cli.action.bind(cli),
    sessionOptions: (opts) => cli.sessionOptions(opts),
    argv: [],
  }).catch(() => {});
  for (const command of allCommands(program)) if (command !== program && command.commands.length === 0) addCommonOptions(command);
  const { completeWords } = await import("./cli-completion.js");
  const candidates = await completeWords(program, words, projectRoot, builtins).catch(() => []);
  process.stdout.write(candidates.map((c) => `${c}\n`).join(""));
}

async function main(argv: string[]): Promise<void> {
  if (argv[2] === "__complete") return complete(argv.slice(3));
  const cli = new Cli();
  const program = buildProgram(cli);
  // Built-in commands do not pay for reading config/tasks.yaml; --help and user tasks do.
  const first = argv.slice(2).find((arg) => !arg.startsWith("-"));
  if (first === undefined || !program.commands.some((c) => c.name() === first)) {
    const { registerUserTasks, projectRootFromArgv } = await import("./commands/task.js");
    await registerUserTasks(program, {
      projectRoot: cli.useProjectRoot(projectRootFromArgv(argv, process.env, () => findProjectRoot(process.cwd()))),
      action: cli.action.bind(cli),
      sessionOptions: (opts) => cli.sessionOptions(opts),
      argv: argv.slice(2),
    });
  }
  installSignalHandlers(cli);
  installBrokenPipeHandler(cli);
  for (const command of allCommands(program)) {
    if (command !== program && command.commands.length === 0) addCommonOptions(command);
    // commander's own usage errors are bad input (2); --help and --version are not errors.
    command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : ExitCode.badInput));
  }
  await program.parseAsync(argv);
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(`file://${realpathSync(process.argv[1])}`).href;
if (invokedDirectly || process.env.EKSBOX_CLI_MAIN === "1") {
  main(process.argv).catch((error) => {
    process.stderr.write(renderError(error));
    process.exitCode = exitCodeFor(error);
  });
}
