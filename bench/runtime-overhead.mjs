#!/usr/bin/env node
// Per-step overhead of the three ways to run a step in the toolbox, measured in the same run:
//   baseline:             `docker run --rm IMAGE true` through the docker CLI
//   container-per-step:   create + start + wait + remove through the Engine API
//   exec-per-step:        one long-lived container, one exec per step through the Engine API
// Usage: node bench/runtime-overhead.mjs [IMAGE] [ROUNDS]   (default eksbox-test/debian:bookworm, 15)
// Prints medians and ratios to the baseline as JSON and Markdown.
import { execFileSync } from "node:child_process";
import os from "node:os";
import Dockerode from "dockerode";

const image = process.argv[2] ?? "eksbox-test/debian:bookworm";
const rounds = Number(process.argv[3] ?? 15);
const docker = new Dockerode({ socketPath: process.env.DOCKER_SOCKET ?? "/var/run/docker.sock" });
const labels = {
  "io.eksbox.tool": "eksbox",
  "io.eksbox.run-id": `bench-${process.pid}`,
  "io.eksbox.owner": `${os.hostname()}:${process.pid}`,
};

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function time(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function drain(stream) {
  await new Promise((resolve, reject) => {
    stream.on("data", () => {});
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
}

async function containerPerStep() {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: labels,
    HostConfig: { Init: true, NetworkMode: "host" },
  });
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  await container.start();
  await drain(stream);
  const { StatusCode } = await container.wait();
  await container.remove({ force: true });
  if (StatusCode !== 0) throw new Error(`exit ${StatusCode}`);
}

async function execPerStep(container) {
  const exec = await container.exec({
    Cmd: ["/bin/sh", "-c", 'echo $$ > /tmp/pid && exec "$@"', "sh", "true"],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  await drain(stream);
  for (;;) {
    const info = await exec.inspect();
    if (!info.Running) {
      if (info.ExitCode !== 0) throw new Error(`exit ${info.ExitCode}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const samples = { baseline: [], containerPerStep: [], execPerStep: [] };
const toolbox = await docker.createContainer({
  Image: image,
  Entrypoint: ["sleep"],
  Cmd: ["infinity"],
  Labels: labels,
  HostConfig: { Init: true, NetworkMode: "host" },
});
let startup;
try {
  startup = await time(() => toolbox.start());
  // Interleaved rounds so drift on a busy machine hits every method alike; one warm-up each.
  for (let round = -1; round < rounds; round++) {
    const b = await time(async () => execFileSync("docker", ["run", "--rm", "--init", "--network", "host", image, "true"]));
    const c = await time(containerPerStep);
    const e = await time(() => execPerStep(toolbox));
    if (round >= 0) {
      samples.baseline.push(b);
      samples.containerPerStep.push(c);
      samples.execPerStep.push(e);
    }
  }
} finally {
  await toolbox.remove({ force: true });
}

const base = median(samples.baseline);
const result = {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}`,
  engine: (await docker.version()).Version,
  image,
  rounds,
  toolboxStartMs: Math.round(startup),
  medianMs: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 10) / 10])),
  ratioToBaseline: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round((median(v) / base) * 100) / 100])),
};
console.log(JSON.stringify(result, null, 2));
console.log(`
| method | median per step (ms) | ratio to \`docker run --rm\` |
|---|---|---|
| \`docker run --rm IMAGE true\` (CLI, baseline) | ${result.medianMs.baseline} | 1.00 |
| container per step (API: create, start, wait, remove) | ${result.medianMs.containerPerStep} | ${result.ratioToBaseline.containerPerStep} |
| exec per step in one toolbox container (API) | ${result.medianMs.execPerStep} | ${result.ratioToBaseline.execPerStep} |`);
