// Measures a command's actual work inside one process, after its modules are loaded: what a start-up
// of eksbox must be compared with (node's own start-up plus this). Prints {"ms": ...} on stdout.
// Usage: node bench/lib/command-work.mjs help|generate|plan PROJECT [ENV]
// The modules come from src/ through tsx (sourceModule): dist/ is one bundle whose modules cannot be
// imported one by one. Only the work after loading is timed, so how they were loaded does not count.
import { Writable } from "node:stream";
import { sourceModule } from "./report.mjs";
import { nowMs } from "./stats.mjs";

const [what, projectRoot, envName] = process.argv.slice(2);
const sink = new Writable({ write: (_chunk, _enc, done) => done() });
const { Interrupter } = await sourceModule("core/interrupt.js");
// Load yaml before timing: where a command needs it, loading it is start-up, not work.
(await sourceModule("config/yaml-lib.js")).yamlLibrary();
const ctx = () => ({
  projectRoot,
  events: { emit() {} },
  interrupter: new Interrupter(),
  stdout: sink,
  output: "text",
  processEnv: process.env,
});

let work;
if (what === "help") {
  const { buildProgram } = await sourceModule("cli.js");
  const { registerUserTasks } = await sourceModule("commands/task.js");
  // registerUserTasks imports what reads the tasks file itself when there is one: load it first.
  // For --help it only lists names and descriptions (tasks/summaries.ts), as `eksbox --help` does.
  await sourceModule("tasks/summaries.js");
  work = async () => {
    const program = buildProgram();
    await registerUserTasks(program, { projectRoot, action: () => async () => {}, sessionOptions: () => ({}), argv: ["--help"] });
    sink.write(program.helpInformation());
  };
} else if (what === "generate") {
  const { generateCommand } = await sourceModule("commands/generate.js");
  await sourceModule("render/nunjucks-env.js");
  const { loadValidator } = await sourceModule("render/eksctl-validate.js");
  await loadValidator();
  work = () => generateCommand(ctx(), { env: envName });
} else if (what === "plan") {
  const { planCommand } = await sourceModule("commands/plan.js");
  await sourceModule("render/nunjucks-env.js");
  const { loadValidator } = await sourceModule("render/eksctl-validate.js");
  await loadValidator();
  work = () => planCommand(ctx(), { task: "born", env: envName, args: [] });
} else {
  throw new Error(`unknown command ${what}`);
}
const start = nowMs();
await work();
process.stdout.write(JSON.stringify({ ms: nowMs() - start }) + "\n");
