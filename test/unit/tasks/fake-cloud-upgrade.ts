// The lifecycle tests' FakeCloud (test/unit/steps/fake-cloud.ts) plus what upgrade and user tasks need:
// `eksctl upgrade cluster` (one minor version at a time, as eksctl enforces), addons, and plain
// commands (echo, printf, sh, cat, test) that it records and answers.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import type { ToolboxRunRequest, ToolboxRunResult } from "../../../src/runtime/types.js";
import { FakeCloud } from "../steps/fake-cloud.js";

export interface FakeAddon {
  version: string;
  /** Set while a newer version exists for the cluster's Kubernetes version. */
  newer?: string;
}

export class UpgradeFakeCloud extends FakeCloud {
  addons = new Map<string, FakeAddon>();
  /** Step names of every request, in order (to see prefixed ids of inlined tasks). */
  steps: string[] = [];
  /** Commands the fake does not model exit with this code when their argv contains the key. */
  exitCodes = new Map<string, number>();

  private failNext: string[] = [];

  constructor(private readonly root: string) {
    super(root);
  }

  /** Like failOnce, for the commands this class answers itself. */
  failOnceHere(fragment: string): void {
    this.failNext.push(fragment);
  }

  override mutations(): string[][] {
    const base = new Set(super.mutations());
    return this.calls.filter((argv) => base.has(argv) || (argv[0] === "eksctl" && (argv[1] === "upgrade" || argv[1] === "update")));
  }

  override async run(request: ToolboxRunRequest): Promise<ToolboxRunResult> {
    this.steps.push(request.step);
    const argv = [...request.argv];
    const [tool, verb, noun] = argv;
    const ok = (stdout = "") => ({ exitCode: 0, stdout, outputTail: [] });
    const injected = this.failNext.findIndex((f) => argv.join(" ").includes(f));
    if (injected >= 0 && tool === "eksctl" && (verb === "upgrade" || verb === "update" || (verb === "get" && noun === "addon"))) {
      this.failNext.splice(injected, 1);
      this.calls.push(argv);
      return { exitCode: 1, stdout: "", outputTail: [`injected failure: ${argv.join(" ")}`] };
    }
    const fail = (message: string) => ({ exitCode: 1, stdout: "", outputTail: [message] });
    if (tool === "eksctl" && verb === "upgrade" && noun === "cluster") {
      this.calls.push(argv);
      if (argv.includes("--version")) return fail("Error: cannot use --version when --config-file/-f is set");
      const doc = parse(await readFile(join(this.root, argv[argv.indexOf("-f") + 1]!), "utf8")) as {
        metadata: { name: string; version: string };
      };
      const cluster = this.clusters.get(doc.metadata.name);
      if (!cluster) return fail("cluster not found");
      const step = Number(doc.metadata.version.split(".")[1]) - Number(cluster.version.split(".")[1]);
      if (step !== 1)
        return fail(`upgrading more than one version at a time is not supported (${cluster.version} -> ${doc.metadata.version})`);
      cluster.version = doc.metadata.version;
      for (const addon of this.addons.values()) addon.newer = `${addon.version}-k8s${doc.metadata.version}`;
      return ok();
    }
    if (tool === "eksctl" && verb === "get" && noun === "addon") {
      this.calls.push(argv);
      return ok(
        JSON.stringify([...this.addons].map(([Name, a]) => ({ Name, Version: a.version, NewerVersion: a.newer ?? "", Status: "ACTIVE" }))),
      );
    }
    if (tool === "eksctl" && verb === "create" && noun === "addon") {
      this.calls.push(argv);
      this.addons.set(argv[argv.indexOf("--name") + 1]!, { version: "v1.0" });
      return ok();
    }
    if (tool === "eksctl" && verb === "update" && noun === "addon") {
      this.calls.push(argv);
      const doc = parse(await readFile(join(this.root, argv[argv.indexOf("-f") + 1]!), "utf8")) as { addons?: { name: string }[] };
      for (const { name } of doc.addons ?? []) {
        const addon = this.addons.get(name);
        if (addon?.newer) this.addons.set(name, { version: addon.newer });
      }
      return ok();
    }
    if (tool && ["echo", "printf", "sh", "cat", "test"].includes(tool)) {
      const failure = [...this.exitCodes].find(([key]) => argv.join(" ").includes(key));
      this.calls.push(argv);
      return failure ? { exitCode: failure[1], stdout: "", outputTail: [`exit ${failure[1]}`] } : ok();
    }
    this.steps.pop();
    const result = await super.run(request);
    this.steps.push(request.step);
    return result;
  }
}
