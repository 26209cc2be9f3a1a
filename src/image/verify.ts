// `image verify`: asks every tool in a built image for its version and compares three things that
// must agree: the pins in this checkout's Dockerfile, the manifest the build wrote into the image,
// and what the binaries themselves report.
import { StepFailedError, UserError } from "../core/errors.js";
import type { DockerfilePins, ToolboxArch } from "./pins.js";
import { MANIFEST_PATH } from "./toolbox-image.js";

export interface ManifestEntry {
  tool: string;
  version: string;
  sha256: string | null;
  arch?: string;
  url?: string;
  signature?: string;
  skipped?: string;
}

export interface ToolboxManifest {
  schemaVersion: number;
  arch: string;
  tools: ManifestEntry[];
}

/** How each tool reports its version, and how to find the version in that output. */
export const VERSION_PROBES: Record<string, { argv: string[]; pattern: RegExp }> = {
  eksctl: { argv: ["eksctl", "version"], pattern: /(\d+\.\d+\.\d+)/ },
  awscli: { argv: ["aws", "--version"], pattern: /aws-cli\/(\d+\.\d+\.\d+)/ },
  kubectl: { argv: ["kubectl", "version", "--client"], pattern: /Client Version:\s*v?(\d+\.\d+\.\d+)/ },
  flux: { argv: ["flux", "--version"], pattern: /flux version v?(\d+\.\d+\.\d+)/ },
  fluxctl: { argv: ["fluxctl", "version"], pattern: /(\d+\.\d+\.\d+)/ },
};

export type CheckStatus = "ok" | "mismatch" | "skipped" | "missing";

export interface ToolCheck {
  tool: string;
  pinnedVersion: string;
  pinnedSha256?: string;
  manifestVersion?: string;
  manifestSha256?: string | null;
  reportedVersion?: string;
  signature?: string;
  status: CheckStatus;
  problems: string[];
  note?: string;
}

export interface VerifyReport {
  image: string;
  arch: string;
  ok: boolean;
  tools: ToolCheck[];
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** How verify runs commands in an image: src/runtime/run-in-image.ts, the only code that knows the engine. */
export interface ImageRunner {
  hasImage(image: string): Promise<boolean>;
  /** One command in a throwaway container of `image` (no network, removed afterwards). */
  run(image: string, argv: readonly string[]): Promise<CommandResult>;
}

export async function readImageManifest(runner: ImageRunner, image: string): Promise<ToolboxManifest> {
  const result = await runner.run(image, ["cat", MANIFEST_PATH]);
  if (result.exitCode !== 0) {
    throw new UserError(
      `${image} has no readable ${MANIFEST_PATH} (cat exited ${result.exitCode}): it was not built from eksbox's Dockerfile`,
      {
        hint: "build it with `eksbox image build`",
      },
    );
  }
  try {
    return JSON.parse(result.stdout) as ToolboxManifest;
  } catch (error) {
    throw new UserError(`${MANIFEST_PATH} in ${image} is not valid JSON`, { cause: error });
  }
}

export async function verifyToolboxImage(runner: ImageRunner, image: string, pins: DockerfilePins): Promise<VerifyReport> {
  if (!(await runner.hasImage(image))) {
    throw new UserError(`image ${image} is not in the local engine`, {
      hint: "build it with `eksbox image build`, or pull the prebuilt image by digest",
    });
  }
  const manifest = await readImageManifest(runner, image);
  const arch = manifest.arch as ToolboxArch;
  const checks: ToolCheck[] = [];
  for (const pin of pins.tools) {
    const entry = manifest.tools.find((candidate) => candidate.tool === pin.tool);
    const check: ToolCheck = {
      tool: pin.tool,
      pinnedVersion: pin.version,
      pinnedSha256: pin.sha256[arch],
      manifestVersion: entry?.version,
      manifestSha256: entry?.sha256,
      signature: entry?.signature,
      status: "ok",
      problems: [],
    };
    checks.push(check);
    if (!entry) {
      check.status = "missing";
      check.problems.push(`not in ${MANIFEST_PATH}`);
      continue;
    }
    if (entry.version !== pin.version) check.problems.push(`manifest says version ${entry.version}, the Dockerfile pins ${pin.version}`);
    if (entry.skipped) {
      check.status = pin.sha256[arch] ? "mismatch" : "skipped";
      check.note = entry.skipped;
      if (pin.sha256[arch]) check.problems.push(`skipped in the image although the Dockerfile now pins a ${arch} sha256`);
      continue;
    }
    if (entry.sha256 !== pin.sha256[arch]) {
      check.problems.push(
        `manifest sha256 ${entry.sha256 ?? "none"} differs from the Dockerfile's ${arch} pin ${pin.sha256[arch] ?? "none"}`,
      );
    }
    const probe = VERSION_PROBES[pin.tool];
    if (!probe) {
      check.problems.push(`eksbox does not know how to ask ${pin.tool} for its version`);
    } else {
      const result = await runner.run(image, probe.argv);
      const output = `${result.stdout}\n${result.stderr}`;
      check.reportedVersion = probe.pattern.exec(output)?.[1];
      if (result.exitCode !== 0) {
        check.problems.push(`\`${probe.argv.join(" ")}\` exited ${result.exitCode}: ${lastLine(output)}`);
      } else if (check.reportedVersion === undefined) {
        check.problems.push(`no version found in the output of \`${probe.argv.join(" ")}\`: ${lastLine(output)}`);
      } else if (check.reportedVersion !== entry.version) {
        check.problems.push(`\`${probe.argv.join(" ")}\` reports ${check.reportedVersion}, the manifest says ${entry.version}`);
      }
    }
    if (check.problems.length > 0) check.status = "mismatch";
  }
  for (const entry of manifest.tools) {
    if (!pins.tools.some((pin) => pin.tool === entry.tool)) {
      checks.push({
        tool: entry.tool,
        pinnedVersion: "",
        manifestVersion: entry.version,
        status: "mismatch",
        problems: ["in the image but not pinned in the Dockerfile"],
      });
    }
  }
  return { image, arch: manifest.arch, ok: checks.every((check) => check.status === "ok" || check.status === "skipped"), tools: checks };
}

/** The StepFailedError `image verify` throws for a report that is not ok. */
export function verifyFailure(report: VerifyReport): StepFailedError {
  const problems = report.tools.flatMap((check) => check.problems.map((problem) => `${check.tool}: ${problem}`));
  return new StepFailedError({
    step: "image-verify",
    message: `found ${problems.length} problem(s) in ${report.image}: ${problems.join("; ")}`,
    outputTail: problems,
    hint: "rebuild with `eksbox image build`; if you passed --build-arg overrides to the build, pass the same ones to verify",
  });
}

function lastLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines[lines.length - 1] ?? "";
}
