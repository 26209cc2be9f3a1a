// Builds the real Dockerfile on the real engine against a local mirror of stand-in artifacts, then
// checks what the image holds, `image verify`, a tampered artifact, and per-tool layer caching.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageBuildCommand, imageRefCommand, imageVerifyCommand } from "../../../src/commands/image.js";
import { AbortedError, StepFailedError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { readDockerfilePins } from "../../../src/image/pins.js";
import { expectedImageRef, imageToolsFromLabels } from "../../../src/image/toolbox-image.js";
import { buildToolboxImage } from "../../../src/runtime/image-build.js";
import { readImageManifest } from "../../../src/image/verify.js";
import { imageRunner, runInImage } from "../../../src/runtime/run-in-image.js";
import { buildSteps, workSteps } from "../../fixtures/image/build-steps.js";
import { testContext } from "../../fixtures/image/context.js";
import {
  createStandInRelease,
  mirrorBuildArgs,
  serveMirror,
  STANDIN_TOOLS,
  type Mirror,
  type StandInRelease,
  type StandInTool,
} from "../../fixtures/image/mirror.js";

const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const TEST_REPOSITORY = "eksbox-toolbox-test";
const docker = new Dockerode();

let versions: Record<StandInTool, string>;
let release: StandInRelease;
let mirror: Mirror;
let buildArgs: Record<string, string>;
let image: string;
let firstBuild: MemorySink;
const imagesToRemove = new Set<string>();
const dirsToRemove = new Set<string>();

function buildLines(sink: MemorySink): string[] {
  return sink.events.flatMap((event) => (event.type === "image-build" ? [event.line] : []));
}

async function build(args: Record<string, string>, tag?: string): Promise<{ tag: string; sink: MemorySink }> {
  const sink = new MemorySink();
  const ref = tag ?? (await expectedImageRef(projectRoot, args, TEST_REPOSITORY));
  imagesToRemove.add(ref);
  await buildToolboxImage(docker, projectRoot, { events: sink, buildArgs: args, tag: ref, networkMode: "host" });
  return { tag: ref, sink };
}

beforeAll(async () => {
  const pins = await readDockerfilePins(projectRoot);
  versions = Object.fromEntries(pins.tools.map((pin) => [pin.tool, pin.version])) as Record<StandInTool, string>;
  release = await createStandInRelease({ versions });
  dirsToRemove.add(release.dir);
  mirror = await serveMirror(release.dir);
  buildArgs = mirrorBuildArgs(release, mirror.url);
  const built = await build(buildArgs);
  image = built.tag;
  firstBuild = built.sink;
});

afterAll(async () => {
  await mirror?.close();
  // noprune keeps the untagged parent layers: they are the build cache the next run starts from.
  for (const tag of imagesToRemove)
    await docker
      .getImage(tag)
      .remove({ noprune: true })
      .catch(() => undefined);
  for (const dir of dirsToRemove) await rm(dir, { recursive: true, force: true });
});

describe("toolbox image built from the real Dockerfile", () => {
  it("downloads each tool's artifact from the mirror and checks its sha256 before use", () => {
    const lines = buildLines(firstBuild);
    const paths = mirror.requests;
    expect(paths).toEqual(
      expect.arrayContaining([
        `/eksctl/v${versions.eksctl}/eksctl_Linux_amd64.tar.gz`,
        `/awscli/awscli-exe-linux-x86_64-${versions.awscli}.zip`,
        `/kubectl/v${versions.kubectl}/bin/linux/amd64/kubectl`,
        `/flux/v${versions.flux}/flux_${versions.flux}_linux_amd64.tar.gz`,
        `/fluxctl/${versions.fluxctl}/fluxctl_linux_amd64`,
      ]),
    );
    for (const tool of STANDIN_TOOLS) {
      expect(lines).toContain(`fetch-verified: ${tool} ${versions[tool]} sha256 OK (${release.sha256[tool].amd64})`);
    }
    expect(lines).toContain("awscli: PGP signature NOT checked (AWSCLI_VERIFY_SIGNATURE=false)");
  });

  it("records tool, version and sha256 of every artifact in /etc/eksbox/tools.json", async () => {
    const manifest = await readImageManifest(imageRunner(docker), image);
    expect(manifest.schemaVersion).toBe(1);
    expect(manifest.arch).toBe("amd64");
    expect(manifest.tools.map((entry) => entry.tool)).toEqual([...STANDIN_TOOLS].sort());
    for (const entry of manifest.tools) {
      const tool = entry.tool as StandInTool;
      expect(entry).toMatchObject({ version: versions[tool], sha256: release.sha256[tool].amd64, arch: "amd64" });
    }
    expect(manifest.tools.find((entry) => entry.tool === "awscli")?.signature).toBe("not-checked");
  });

  it("labels the image with its tool versions and OCI metadata, and runs as a non-root user", async () => {
    const info = await docker.getImage(image).inspect();
    const labels = info.Config.Labels ?? {};
    expect(imageToolsFromLabels(labels)).toEqual(versions);
    expect(labels["org.opencontainers.image.title"]).toBe("eksbox-toolbox");
    expect(labels["org.opencontainers.image.base.name"]).toBe(buildArgs.BASE_IMAGE);
    const id = await runInImage(docker, image, ["id", "-u"]);
    expect(id.stdout.trim()).toBe("10001");
    const runtimeDeps = await runInImage(docker, image, [
      "sh",
      "-c",
      "command -v git ssh less jq && ls /etc/ssl/certs/ca-certificates.crt",
    ]);
    expect(runtimeDeps.exitCode).toBe(0);
  });

  it("`image build` builds through the engine, prints the reference and reports the image's tools", async () => {
    const ctx = testContext(projectRoot, "json");
    const tag = `${TEST_REPOSITORY}:command`;
    imagesToRemove.add(tag);
    const flags = Object.entries(buildArgs).map(([key, value]) => `${key}=${value}`);
    const result = await imageBuildCommand(ctx, { buildArgs: flags, tag, networkMode: "host" });
    expect(JSON.parse(ctx.stdoutText())).toEqual({ ref: tag, id: result.id, tools: versions });
    expect(ctx.events.events).toContainEqual({ type: "image", ref: tag, id: result.id, tools: versions });
    expect(ctx.events.events.filter((event) => event.type === "image-build").length).toBeGreaterThan(50);
  });

  it("`image ref` prints the tag this checkout expects, which changes with the build args", async () => {
    const ctx = testContext(projectRoot);
    const ref = await imageRefCommand(ctx);
    expect(ctx.stdoutText()).toBe(`${ref}\n`);
    expect(ref).toBe(await expectedImageRef(projectRoot));
    expect(await imageRefCommand(testContext(projectRoot), { buildArgs: ["KUBECTL_VERSION=1.34.12"] })).not.toBe(ref);
  });

  it("`image verify` runs every tool's version command and finds them matching the pins the image was built with", async () => {
    const ctx = testContext(projectRoot);
    const flags = Object.entries(buildArgs).map(([key, value]) => `${key}=${value}`);
    const report = await imageVerifyCommand(ctx, { image, buildArgs: flags });
    expect(report.ok).toBe(true);
    expect(report.tools.map((check) => [check.tool, check.reportedVersion, check.status])).toEqual(
      STANDIN_TOOLS.map((tool) => [tool, versions[tool], "ok"]),
    );
    expect(ctx.stdoutText()).toMatch(/: verified\n/);
  });

  it("`image verify` against this checkout's real pins fails and names the sha256 that differs", async () => {
    const ctx = testContext(projectRoot);
    const failure = await imageVerifyCommand(ctx, { image }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    const message = (failure as StepFailedError).message;
    expect(message).toMatch(/kubectl: manifest sha256 [0-9a-f]{64} differs from the Dockerfile's amd64 pin 8efbb943/);
    expect(ctx.stdoutText()).toContain("PROBLEMS FOUND");
  });

  it("`image verify` catches a binary that reports another version than the manifest", async () => {
    const tag = `${TEST_REPOSITORY}:wrong-kubectl`;
    imagesToRemove.add(tag);
    const dockerfile = `FROM ${image}\nUSER root\nRUN printf '#!/bin/sh\\necho "Client Version: v1.33.0"\\n' >/usr/local/bin/kubectl\nUSER 10001:10001\n`;
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(`${tmpdir()}/eksbox-derived-`);
    dirsToRemove.add(dir);
    await writeFile(`${dir}/Dockerfile`, dockerfile);
    const stream = await docker.buildImage({ context: dir, src: ["Dockerfile"] }, { t: tag });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (error) => (error ? reject(error) : resolve(undefined))));

    const ctx = testContext(projectRoot);
    const flags = Object.entries(buildArgs).map(([key, value]) => `${key}=${value}`);
    const failure = await imageVerifyCommand(ctx, { image: tag, buildArgs: flags }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as Error).message).toContain("kubectl: `kubectl version --client` reports 1.33.0, the manifest says 1.34.11");
    expect((failure as Error).message).not.toMatch(/eksctl|awscli|fluxctl/);
  });

  it("refuses a tampered artifact: the build fails on its checksum and names the tool", async () => {
    const tampered = await createStandInRelease({ versions, tamper: ["kubectl"] });
    dirsToRemove.add(tampered.dir);
    const tamperedMirror = await serveMirror(tampered.dir);
    try {
      // The pinned sha256 is the genuine artifact's; the mirror serves altered bytes.
      expect(tampered.sha256.kubectl.amd64).toBe(release.sha256.kubectl.amd64);
      const tag = `${TEST_REPOSITORY}:tampered`;
      const failure = await build(mirrorBuildArgs(tampered, tamperedMirror.url), tag).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StepFailedError);
      const error = failure as StepFailedError;
      expect(error.message).toMatch(
        /fetch-verified: kubectl: CHECKSUM MISMATCH for 1\.34\.11 .*expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/,
      );
      expect(error.outputTail.join("\n")).toContain("CHECKSUM MISMATCH");
      await expect(docker.getImage(tag).inspect()).rejects.toThrow();
    } finally {
      await tamperedMirror.close();
    }
  });

  it("stops the build when interrupted and says so", async () => {
    const controller = new AbortController();
    const tag = `${TEST_REPOSITORY}:interrupted`;
    imagesToRemove.add(tag);
    const sink = { emit: () => controller.abort() };
    const failure = await buildToolboxImage(docker, projectRoot, {
      events: sink,
      buildArgs,
      tag,
      networkMode: "host",
      noCache: true,
      signal: controller.signal,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AbortedError);
    expect((failure as Error).message).toBe(`image build of ${tag} interrupted`);
    await expect(docker.getImage(tag).inspect()).rejects.toThrow();
  });

  it("rebuilds only the changed tool's stage when one pin changes, and downloads only that tool", async () => {
    const warm = await build(buildArgs);
    expect(workSteps(buildSteps(buildLines(warm.sink))).filter((step) => !step.cached)).toEqual([]);

    const bumped = await createStandInRelease({ versions: { ...versions, kubectl: "1.34.12" }, dir: release.dir });
    const requestsBefore = mirror.requests.length;
    const changed = await build(mirrorBuildArgs(bumped, mirror.url));
    expect(mirror.requests.slice(requestsBefore)).toEqual(["/kubectl/v1.34.12/bin/linux/amd64/kubectl"]);

    const steps = buildSteps(buildLines(changed.sink));
    const rebuilt = workSteps(steps).filter((step) => !step.cached);
    expect(rebuilt.some((step) => step.stage === "kubectl" && step.instruction.startsWith("RUN "))).toBe(true);
    expect(rebuilt.filter((step) => !["kubectl", "manifest", "toolbox"].includes(step.stage))).toEqual([]);
    for (const stage of ["fetcher", "eksctl", "awscli", "flux", "fluxctl"]) {
      expect(
        workSteps(steps)
          .filter((step) => step.stage === stage)
          .every((step) => step.cached),
      ).toBe(true);
    }
    // In the final stage the layers before kubectl's COPY (base packages, the AWS CLI, eksctl) stay
    // cached. (kubectl's COPY itself may hit too: the builder keys COPY on content, and an earlier
    // run may have built the same stand-in.)
    const finalStage = workSteps(steps).filter((step) => step.stage === "toolbox");
    const kubectlCopy = finalStage.findIndex((step) => step.instruction.startsWith("COPY --from=kubectl"));
    expect(kubectlCopy).toBeGreaterThan(0);
    expect(finalStage.slice(0, kubectlCopy).every((step) => step.cached)).toBe(true);

    const manifest = await readImageManifest(imageRunner(docker), changed.tag);
    expect(manifest.tools.find((entry) => entry.tool === "kubectl")).toMatchObject({
      version: "1.34.12",
      sha256: bumped.sha256.kubectl.amd64,
    });
  });
});
