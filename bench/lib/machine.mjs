// What the figures were measured on: they mean little without the machine and its load.
import { execFileSync } from "node:child_process";
import os from "node:os";

function dockerVersion() {
  try {
    return execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "unavailable";
  }
}

export function loadAverage() {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
}

export function describeMachine() {
  const cpus = os.cpus();
  return {
    cpus: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    docker: dockerVersion(),
    loadAverage: loadAverage(),
    date: new Date().toISOString(),
  };
}

export function machineLine(m = describeMachine()) {
  return `${m.cpus} x ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}, Docker Engine ${m.docker}; load average (1/5/15 min) ${m.loadAverage}`;
}
