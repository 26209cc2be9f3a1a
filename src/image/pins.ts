// Reads the toolbox pins (version and sha256 per arch) from the Dockerfile's global ARGs, so the
// Dockerfile stays the one place a version is bumped and `image verify` checks against it.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ConfigError, type ConfigIssue } from "../core/errors.js";

export const TOOLBOX_ARCHES = ["amd64", "arm64"] as const;
export type ToolboxArch = (typeof TOOLBOX_ARCHES)[number];

export interface ToolPin {
  /** Lower-case ARG prefix: eksctl, awscli, kubectl, flux, fluxctl. */
  tool: string;
  version: string;
  /** Missing for an arch without a published checksum (fluxctl arm64). */
  sha256: Partial<Record<ToolboxArch, string>>;
  baseUrl?: string;
  /** The `# renovate:` line above the version, for humans and update bots. */
  renovate?: string;
  /** 1-based line of `ARG <TOOL>_VERSION=` in the Dockerfile. */
  line: number;
}

export interface DockerfilePins {
  file: string;
  /** Global ARG defaults (before the first FROM). */
  args: Record<string, string>;
  tools: ToolPin[];
}

const SHA256 = /^[0-9a-f]{64}$/;

export function parseDockerfilePins(text: string, file = "Dockerfile"): DockerfilePins {
  const args: Record<string, string> = {};
  const argLines: Record<string, number> = {};
  const renovateAbove: Record<string, string> = {};
  const lines = text.split("\n");
  let previousComment: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (/^FROM\s/i.test(line)) break;
    const arg = /^ARG\s+([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(line);
    if (arg) {
      const name = arg[1]!;
      args[name] = unquote(arg[2] ?? "");
      argLines[name] = index + 1;
      if (previousComment?.startsWith("renovate:")) renovateAbove[name] = previousComment;
    }
    previousComment = line.startsWith("#") ? line.replace(/^#\s*/, "") : undefined;
  }

  const issues: ConfigIssue[] = [];
  const tools: ToolPin[] = [];
  for (const [name, version] of Object.entries(args)) {
    const match = /^([A-Z0-9]+)_VERSION$/.exec(name);
    if (!match) continue;
    const prefix = match[1]!;
    const sha256: Partial<Record<ToolboxArch, string>> = {};
    for (const arch of TOOLBOX_ARCHES) {
      const key = `${prefix}_SHA256_${arch.toUpperCase()}`;
      const value = args[key];
      if (value === undefined) {
        issues.push({
          file,
          path: key,
          message: `missing: every tool needs a sha256 ARG per arch`,
          hint: `add ARG ${key}=<64 hex digits> (empty only when no checksum is published)`,
        });
      } else if (value !== "") {
        if (SHA256.test(value)) sha256[arch] = value;
        else issues.push({ file, line: argLines[key], path: key, message: `"${value}" is not a sha256 (64 lowercase hex digits)` });
      }
    }
    if (!version) issues.push({ file, line: argLines[name], path: name, message: "empty version" });
    tools.push({
      tool: prefix.toLowerCase(),
      version,
      sha256,
      baseUrl: args[`${prefix}_BASE_URL`],
      renovate: renovateAbove[name],
      line: argLines[name]!,
    });
  }
  if (tools.length === 0) issues.push({ file, message: "no ARG <TOOL>_VERSION=... found before the first FROM" });
  if (issues.length > 0) throw new ConfigError(issues, `the toolbox pins in ${file} are unusable`);
  return { file, args, tools };
}

export async function readDockerfilePins(projectRoot: string): Promise<DockerfilePins> {
  const file = path.join(projectRoot, "Dockerfile");
  return parseDockerfilePins(await readFile(file, "utf8"), file);
}

/**
 * The pins a build actually used: the Dockerfile's defaults overridden by `--build-arg`s, so a
 * build against a mirror with other artifacts is verified against what it was given.
 */
export function withBuildArgOverrides(pins: DockerfilePins, buildArgs: Record<string, string> = {}): DockerfilePins {
  const args = { ...pins.args, ...buildArgs };
  const tools = pins.tools.map((pin) => {
    const prefix = pin.tool.toUpperCase();
    const sha256: Partial<Record<ToolboxArch, string>> = {};
    for (const arch of TOOLBOX_ARCHES) {
      const value = args[`${prefix}_SHA256_${arch.toUpperCase()}`];
      if (value) sha256[arch] = value;
    }
    return { ...pin, version: args[`${prefix}_VERSION`] ?? pin.version, sha256, baseUrl: args[`${prefix}_BASE_URL`] };
  });
  return { ...pins, args, tools };
}

function unquote(value: string): string {
  const quoted = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
  return quoted ? quoted[1]! : value;
}
