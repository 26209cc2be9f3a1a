// generate for every environment of a project in one process (load, render, validate, write), as a
// loop over `eksbox generate --env` minus the process start-ups. Prints {"ms": ...}.
// Usage: node bench/lib/generate-loop.mjs PROJECT
import { Writable } from "node:stream";
import { sourceModule } from "./report.mjs";
import { nowMs } from "./stats.mjs";

const projectRoot = process.argv[2];
const { generateCommand } = await sourceModule("commands/generate.js");
const { listEnvironments } = await sourceModule("config/load.js");
const { Interrupter } = await sourceModule("core/interrupt.js");
const sink = new Writable({ write: (_c, _e, done) => done() });
const ctx = { projectRoot, events: { emit() {} }, interrupter: new Interrupter(), stdout: sink, output: "text", processEnv: process.env };
const start = nowMs();
for (const env of await listEnvironments(projectRoot)) await generateCommand(ctx, { env });
process.stdout.write(JSON.stringify({ ms: nowMs() - start }) + "\n");
