// `eksbox image build|ref|verify`: the toolbox image every step runs in.
import { log } from "../core/events.js";
import type { CommandContext } from "../core/context.js";
import { readDockerfilePins, withBuildArgOverrides } from "../image/pins.js";
import { expectedImageRef, parseBuildArgFlags } from "../image/toolbox-image.js";
import { verifyFailure, verifyToolboxImage, type VerifyReport } from "../image/verify.js";
import { connectEngine } from "../runtime/engine.js";
import { buildToolboxImage, inspectToolboxImage } from "../runtime/image-build.js";
import { imageRunner } from "../runtime/run-in-image.js";

export interface ImageBuildOptions {
  /** KEY=VALUE, as for `docker build --build-arg`. */
  buildArgs?: string[];
  tag?: string;
  networkMode?: string;
  noCache?: boolean;
}

export async function imageBuildCommand(
  ctx: CommandContext,
  options: ImageBuildOptions = {},
): Promise<{ ref: string; id: string; tools: Record<string, string> }> {
  const buildArgs = parseBuildArgFlags(options.buildArgs);
  const ref = options.tag ?? (await expectedImageRef(ctx.projectRoot, buildArgs));
  const { docker, description } = await connectEngine(ctx.processEnv);
  log.info(ctx.events, `building ${ref} on ${description}`);
  await buildToolboxImage(docker, ctx.projectRoot, {
    events: ctx.events,
    buildArgs,
    tag: ref,
    networkMode: options.networkMode,
    noCache: options.noCache,
    signal: ctx.interrupter.signal,
  });
  const { id, tools } = await inspectToolboxImage(docker, ref);
  ctx.events.emit({ type: "image", ref, id, tools });
  const result = { ref, id, tools };
  ctx.stdout.write(ctx.output === "json" ? `${JSON.stringify(result)}\n` : `${ref}\n`);
  return result;
}

export async function imageRefCommand(ctx: CommandContext, options: { buildArgs?: string[] } = {}): Promise<string> {
  const ref = await expectedImageRef(ctx.projectRoot, parseBuildArgFlags(options.buildArgs));
  ctx.stdout.write(ctx.output === "json" ? `${JSON.stringify({ ref })}\n` : `${ref}\n`);
  return ref;
}

export interface ImageVerifyOptions {
  /** Defaults to the reference this checkout expects. */
  image?: string;
  /** The overrides the image was built with: pins are the Dockerfile's defaults plus these. */
  buildArgs?: string[];
}

export async function imageVerifyCommand(ctx: CommandContext, options: ImageVerifyOptions = {}): Promise<VerifyReport> {
  const buildArgs = parseBuildArgFlags(options.buildArgs);
  const image = options.image ?? (await expectedImageRef(ctx.projectRoot, buildArgs));
  const pins = withBuildArgOverrides(await readDockerfilePins(ctx.projectRoot), buildArgs);
  const { docker } = await connectEngine(ctx.processEnv);
  const report = await verifyToolboxImage(imageRunner(docker), image, pins);
  ctx.stdout.write(ctx.output === "json" ? `${JSON.stringify(report)}\n` : renderReport(report));
  if (!report.ok) throw verifyFailure(report);
  return report;
}

function renderReport(report: VerifyReport): string {
  const rows = report.tools.map((check) => {
    const reported = check.reportedVersion ?? (check.status === "skipped" ? "-" : "?");
    const detail = [check.signature ? `signature: ${check.signature}` : "", check.note ?? "", ...check.problems].filter(Boolean).join("; ");
    return [check.tool, check.pinnedVersion, check.manifestVersion ?? "-", reported, check.status, detail];
  });
  const header = ["TOOL", "PINNED", "MANIFEST", "REPORTS", "STATUS", "DETAIL"];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ")
      .trimEnd();
  return `${report.image} (${report.arch}): ${report.ok ? "verified" : "PROBLEMS FOUND"}\n${[header, ...rows].map(format).join("\n")}\n`;
}
