// Measures a command's actual work inside one process, after its modules are loaded: what a start-up
// of eksbox must be compared with (node's own start-up plus this). Prints {"ms": ...} on stdout.
// Usage: node bench/lib/command-work.mjs help|generate|plan PROJECT [ENV]
import { Writable } from "node:stream";
import { dist } from "./report.mjs";
import { nowMs } from "./stats.mjs";

const [what, projectRoot, envName] = process.argv.slice(2);
const sink = new Writable({ write: (_chunk, _enc, done) => done() });
const { Interrupter } = await dist("core/interrupt.js");
const ctx = () => ({ projectRoot, events: { emit() {} }, interrupter: new Interrupter(), stdout: sink, output: "text", processEnv: process.env });

let work;
if (what === "help") {
  const { buildProgram } = await dist("cli.js");
  const { registerUserTasks } = await dist("tasks/cli.js");
  // registerUserTasks imports the tasks file loader itself when there is a file: load it first.
  await dist("tasks/load.js");
  await dist("tasks/args.js");
  work = async () => {
    const program = buildProgram();
    await registerUserTasks(program, { projectRoot, action: () => async () => {}, sessionOptions: () => ({}) });
    sink.write(program.helpInformation());
  };
} else if (what === "generate") {
  const { generateCommand } = await dist("commands/generate.js");
  await dist("render/nunjucks-env.js");
  const { loadValidator } = await dist("render/eksctl-validate.js");
  await loadValidator();
  work = () => generateCommand(ctx(), { env: envName });
} else if (what === "plan") {
  const { planCommand } = await dist("commands/plan.js");
  await dist("render/nunjucks-env.js");
  const { loadValidator } = await dist("render/eksctl-validate.js");
  await loadValidator();
  work = () => planCommand(ctx(), { task: "born", env: envName, args: [] });
} else {
  throw new Error(`unknown command ${what}`);
}
const start = nowMs();
await work();
process.stdout.write(JSON.stringify({ ms: nowMs() - start }) + "\n");
