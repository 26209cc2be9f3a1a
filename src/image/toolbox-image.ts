// Builds the toolbox image through the Engine API and names it after its inputs, so a changed pin
// or Dockerfile means a new tag and the runtime never runs a stale toolbox by accident.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type Dockerode from "dockerode";
import { AbortedError, StepFailedError, UserError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";

export const TOOLBOX_REPOSITORY = "eksbox-toolbox";
/** Label holding a JSON object tool -> pinned version. */
export const TOOLS_LABEL = "io.eksbox.tools";
/** Where the image records what it installed: [{tool, version, sha256, ...}]. */
export const MANIFEST_PATH = "/etc/eksbox/tools.json";

/** Everything the Dockerfile reads from the context; .dockerignore lets exactly these through. */
export const BUILD_CONTEXT_FILES = ["Dockerfile", "src/image/fetch-verified.sh", "src/image/awscli-public-key.asc"] as const;

const OUTPUT_TAIL_LINES = 25;

/**
 * `eksbox-toolbox:<12 hex>`: sha256 over the build context files and any build-arg overrides, so
 * the tag changes exactly when what would be built changes.
 */
export async function expectedImageRef(projectRoot: string, buildArgs: Record<string, string> = {}, repository = TOOLBOX_REPOSITORY): Promise<string> {
  const hash = createHash("sha256").update("eksbox-toolbox/1\n");
  for (const file of [...BUILD_CONTEXT_FILES].sort()) {
    const content = await readContextFile(projectRoot, file);
    hash.update(`${file}\0${createHash("sha256").update(content).digest("hex")}\n`);
  }
  for (const [key, value] of Object.entries(buildArgs).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`arg\0${key}\0${value}\n`);
  }
  return `${repository}:${hash.digest("hex").slice(0, 12)}`;
}

export interface BuildToolboxOptions {
  events: EventSink;
  buildArgs?: Record<string, string>;
  /** Defaults to expectedImageRef(projectRoot, buildArgs). */
  tag?: string;
  /** "host" lets the build reach servers on the host's 127.0.0.1 (the tests' mirror). */
  networkMode?: string;
  /** Re-run every step instead of using the engine's layer cache. */
  noCache?: boolean;
  signal?: AbortSignal;
}

/** Builds the Dockerfile in projectRoot, streaming each output line as an `image-build` event. */
export async function buildToolboxImage(docker: Dockerode, projectRoot: string, opts: BuildToolboxOptions): Promise<void> {
  const buildArgs = opts.buildArgs ?? {};
  const tag = opts.tag ?? (await expectedImageRef(projectRoot, buildArgs));
  for (const file of BUILD_CONTEXT_FILES) await readContextFile(projectRoot, file);

  const tail: string[] = [];
  const progress = new BuildProgressParser((line) => {
    tail.push(line);
    if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
    opts.events.emit({ type: "image-build", line });
  });
  try {
    const stream = await docker.buildImage(
      { context: projectRoot, src: [...BUILD_CONTEXT_FILES] },
      {
        t: tag,
        buildargs: buildArgs,
        networkmode: opts.networkMode,
        nocache: opts.noCache ?? false,
        rm: true,
        forcerm: true,
        abortSignal: opts.signal,
      } as Dockerode.ImageBuildOptions,
    );
    for await (const chunk of stream as AsyncIterable<Buffer>) progress.push(chunk);
    progress.end();
  } catch (error) {
    if (opts.signal?.aborted) throw new AbortedError(`image build of ${tag} interrupted`, { cause: error });
    // The engine refused the request itself (a Dockerfile syntax error, a missing base image).
    const why = error instanceof Error ? error.message.replace(/^\(HTTP code \d+\)[^-]*- /, "").trim() : String(error);
    throw new StepFailedError({ step: "image-build", message: `failed building ${tag}: ${why}`, outputTail: tail, cause: error });
  }

  if (progress.error !== undefined) {
    const causes = tail.filter((line) => /CHECKSUM MISMATCH|SIGNATURE CHECK FAILED|NOT INSTALLED|fetch-verified: .*:/.test(line));
    const why = causes.length > 0 ? causes.join("; ") : progress.error;
    throw new StepFailedError({
      step: "image-build",
      message: `failed building ${tag}: ${why}`,
      outputTail: tail,
      hint: /CHECKSUM MISMATCH/.test(why)
        ? "a downloaded artifact does not match its sha256 pin in the Dockerfile: check the pin and the download URL; never bypass the check"
        : "see the build output above; `eksbox image build` re-runs it",
    });
  }
}

/** Splits the engine's JSON progress stream into output lines and notes an error object. */
export class BuildProgressParser {
  error: string | undefined;
  imageId: string | undefined;
  private json = "";
  private text = "";

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.json += chunk.toString();
    let newline: number;
    while ((newline = this.json.indexOf("\n")) >= 0) {
      const record = this.json.slice(0, newline).trim();
      this.json = this.json.slice(newline + 1);
      if (record) this.handle(record);
    }
  }

  end(): void {
    if (this.json.trim()) this.handle(this.json.trim());
    this.json = "";
    if (this.text) this.onLine(this.text);
    this.text = "";
  }

  private handle(record: string): void {
    let message: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
    try {
      message = JSON.parse(record) as typeof message;
    } catch {
      this.emitText(`${record}\n`);
      return;
    }
    if (message.stream) this.emitText(message.stream);
    if (message.status) this.emitText(`${message.status}\n`);
    if (message.aux?.ID) this.imageId = message.aux.ID;
    if (message.error !== undefined || message.errorDetail !== undefined) {
      this.error = message.errorDetail?.message ?? message.error ?? "unknown build error";
      this.emitText(`ERROR: ${this.error}\n`);
    }
  }

  private emitText(text: string): void {
    this.text += text;
    let newline: number;
    while ((newline = this.text.indexOf("\n")) >= 0) {
      const line = this.text.slice(0, newline).replace(/\r$/, "");
      this.text = this.text.slice(newline + 1);
      this.onLine(line);
    }
  }
}

/** tool -> version from the image's labels; empty when the image predates the label or it is unreadable. */
export function imageToolsFromLabels(labels: Record<string, string> | undefined): Record<string, string> {
  const raw = labels?.[TOOLS_LABEL];
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return {};
    const tools: Record<string, string> = {};
    for (const [tool, version] of Object.entries(parsed)) {
      if (typeof version === "string" && version !== "") tools[tool] = version;
    }
    return tools;
  } catch {
    return {};
  }
}

/** Turns `KEY=VALUE` flags into build args, refusing anything else with the offending flag named. */
export function parseBuildArgFlags(flags: readonly string[] = []): Record<string, string> {
  const args: Record<string, string> = {};
  for (const flag of flags) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(flag);
    if (!match) throw new UserError(`--build-arg "${flag}" is not KEY=VALUE`, { hint: "for example --build-arg KUBECTL_VERSION=1.34.11" });
    args[match[1]!] = match[2]!;
  }
  return args;
}

async function readContextFile(projectRoot: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.join(projectRoot, file));
  } catch (error) {
    throw new UserError(`cannot read ${file} under ${projectRoot}: the toolbox image is built from it`, {
      hint: "run eksbox from the project's checkout (the directory holding the Dockerfile)",
      cause: error,
    });
  }
}
