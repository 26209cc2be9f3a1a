// The AWS CLI's PGP check, exercised for real: a byte-identical copy of the Dockerfile whose context
// trusts a throwaway key instead of the AWS CLI Team key (the stand-in zips cannot carry AWS's
// signature). The real key and fingerprint are checked in pins-and-ref.test.ts.
import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Dockerode from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StepFailedError } from "../../../src/core/errors.js";
import { MemorySink } from "../../../src/core/events.js";
import { readDockerfilePins } from "../../../src/image/pins.js";
import { BUILD_CONTEXT_FILES } from "../../../src/image/toolbox-image.js";
import { buildToolboxImage } from "../../../src/runtime/image-build.js";
import { readImageManifest } from "../../../src/image/verify.js";
import { imageRunner } from "../../../src/runtime/run-in-image.js";
import {
  createStandInRelease,
  createTestSigningKey,
  mirrorBuildArgs,
  serveMirror,
  type Mirror,
  type StandInTool,
  type TestSigningKey,
} from "../../fixtures/image/mirror.js";

const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const docker = new Dockerode();
const tags = ["eksbox-toolbox-test:signed", "eksbox-toolbox-test:wrong-signer", "eksbox-toolbox-test:expired-signer"];
const cleanup: string[] = [];
let contextDir: string;
let trusted: TestSigningKey;
let versions: Record<StandInTool, string>;
const mirrors: Mirror[] = [];

async function signedMirror(signingKey: TestSigningKey, trustedKey: TestSigningKey = trusted): Promise<Record<string, string>> {
  const release = await createStandInRelease({ versions, signingKey });
  cleanup.push(release.dir);
  const mirror = await serveMirror(release.dir);
  mirrors.push(mirror);
  return mirrorBuildArgs(release, mirror.url, { AWSCLI_VERIFY_SIGNATURE: "true", AWSCLI_PGP_FINGERPRINT: trustedKey.fingerprint });
}

beforeAll(async () => {
  versions = Object.fromEntries((await readDockerfilePins(projectRoot)).tools.map((pin) => [pin.tool, pin.version])) as Record<
    StandInTool,
    string
  >;
  trusted = await createTestSigningKey("eksbox trusted signer");
  cleanup.push(trusted.gnupgHome);
  contextDir = await mkdtemp(path.join(tmpdir(), "eksbox-context-"));
  cleanup.push(contextDir);
  for (const file of [...BUILD_CONTEXT_FILES, ".dockerignore"]) {
    await mkdir(path.dirname(path.join(contextDir, file)), { recursive: true });
    await copyFile(path.join(projectRoot, file), path.join(contextDir, file));
  }
  await writeFile(path.join(contextDir, "src/image/awscli-public-key.asc"), trusted.publicKeyArmored);
});

afterAll(async () => {
  for (const mirror of mirrors) await mirror.close();
  for (const tag of tags)
    await docker
      .getImage(tag)
      .remove({ noprune: true })
      .catch(() => undefined);
  for (const dir of cleanup) await rm(dir, { recursive: true, force: true });
});

describe("AWS CLI PGP signature check", () => {
  it("installs the AWS CLI when its zip is signed by the pinned key, and records that in the manifest", async () => {
    const sink = new MemorySink();
    await buildToolboxImage(docker, contextDir, {
      events: sink,
      buildArgs: await signedMirror(trusted),
      tag: tags[0],
      networkMode: "host",
    });
    const lines = sink.events.flatMap((event) => (event.type === "image-build" ? [event.line] : []));
    expect(lines).toContain(`awscli: PGP signature OK (key ${trusted.fingerprint})`);
    const manifest = await readImageManifest(imageRunner(docker), tags[0]!);
    expect(manifest.tools.find((entry) => entry.tool === "awscli")?.signature).toBe(`pgp:${trusted.fingerprint}`);
  });

  it("fails the build when the zip is signed by any other key, even though its sha256 matches", async () => {
    const stranger = await createTestSigningKey("eksbox stranger");
    cleanup.push(stranger.gnupgHome);
    const failure = await buildToolboxImage(docker, contextDir, {
      events: new MemorySink(),
      buildArgs: await signedMirror(stranger),
      tag: tags[1],
      networkMode: "host",
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StepFailedError);
    expect((failure as Error).message).toContain(`awscli: PGP SIGNATURE CHECK FAILED`);
    expect((failure as Error).message).toContain(trusted.fingerprint);
    await expect(docker.getImage(tags[1]!).inspect()).rejects.toThrow();
  });

  it("accepts a good signature by the pinned key after the key's published expiry date", async () => {
    // The AWS CLI Team key's self-signature in src/image has an expiry; the zips signed while it
    // was valid must keep installing, so the check trusts VALIDSIG, not gpg's opinion of the key.
    const expired = await createTestSigningKey("eksbox expired signer", { expired: true });
    cleanup.push(expired.gnupgHome);
    const expiredContext = await mkdtemp(path.join(tmpdir(), "eksbox-context-"));
    cleanup.push(expiredContext);
    for (const file of [...BUILD_CONTEXT_FILES, ".dockerignore"]) {
      await mkdir(path.dirname(path.join(expiredContext, file)), { recursive: true });
      await copyFile(path.join(contextDir, file), path.join(expiredContext, file));
    }
    await writeFile(path.join(expiredContext, "src/image/awscli-public-key.asc"), expired.publicKeyArmored);
    const sink = new MemorySink();
    await buildToolboxImage(docker, expiredContext, {
      events: sink,
      buildArgs: await signedMirror(expired, expired),
      tag: tags[2],
      networkMode: "host",
    });
    const lines = sink.events.flatMap((event) => (event.type === "image-build" ? [event.line] : []));
    expect(lines).toContain(`awscli: PGP signature OK (key ${expired.fingerprint})`);
  });
});
