// The toolbox image named after its inputs, so a changed pin or Dockerfile means a new tag and the
// runtime never runs a stale toolbox by accident; runtime/image-build.ts builds it.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.js";

export const TOOLBOX_REPOSITORY = "eksbox-toolbox";
/** Label holding a JSON object tool -> pinned version. */
export const TOOLS_LABEL = "io.eksbox.tools";
/** Where the image records what it installed: [{tool, version, sha256, ...}]. */
export const MANIFEST_PATH = "/etc/eksbox/tools.json";

/** Everything the Dockerfile reads from the context; .dockerignore lets exactly these through. */
export const BUILD_CONTEXT_FILES = ["Dockerfile", "src/image/fetch-verified.sh", "src/image/awscli-public-key.asc"] as const;

/**
 * `eksbox-toolbox:<12 hex>`: sha256 over the build context files and any build-arg overrides, so
 * the tag changes exactly when what would be built changes.
 */
export async function expectedImageRef(
  projectRoot: string,
  buildArgs: Record<string, string> = {},
  repository = TOOLBOX_REPOSITORY,
): Promise<string> {
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

/** A build context file, or a UserError naming it when it cannot be read. */
export async function readContextFile(projectRoot: string, file: string): Promise<Buffer> {
  try {
    return await readFile(path.join(projectRoot, file));
  } catch (error) {
    throw new UserError(`cannot read ${file} under ${projectRoot}: the toolbox image is built from it`, {
      hint: "run eksbox from the project's checkout (the directory holding the Dockerfile)",
      cause: error,
    });
  }
}
