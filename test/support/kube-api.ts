// The kube-apiserver stand-in (test/doubles/kube-apiserver.py) on the host: the real kubectl in the
// test toolbox reads Ready nodes from it, derived from moto's nodegroups.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { killAtExit, motoInstall, stopChild } from "./moto.js";

export interface KubeApi {
  url: string;
  stop(): Promise<void>;
}

export const kubeApiScript = fileURLToPath(new URL("../doubles/kube-apiserver.py", import.meta.url));

/**
 * Starts the stand-in against moto. `regions` limits which regions it scans for clusters (all of
 * them by default; the first scan of every region takes moto a few seconds).
 */
export async function startKubeApi(
  motoUrl: string,
  options: { regions?: string[]; port?: number; timeoutMs?: number } = {},
): Promise<KubeApi> {
  const args = [kubeApiScript, motoUrl, "--port", String(options.port ?? 0)];
  if (options.regions?.length) args.push("--regions", options.regions.join(","));
  const child = spawn(motoInstall().python, args, { stdio: ["ignore", "pipe", "pipe"] });
  killAtExit(child);
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kube-apiserver stand-in did not start:\n${output}`)), options.timeoutMs ?? 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${motoInstall().python} ${kubeApiScript}: ${e.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kube-apiserver stand-in exited with ${code}:\n${output}`));
    });
  });
  return { url, stop: () => stopChild(child) };
}
