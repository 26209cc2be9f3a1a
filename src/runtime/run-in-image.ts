// Throwaway containers of an image, for `image verify` and reading an image's manifest. They carry
// the labels every eksbox container carries, so one left by a crash is swept like any other.
import type Dockerode from "dockerode";
import { newRunId } from "../core/layout.js";
import type { CommandResult, ImageRunner } from "../image/verify.js";
import { containerLabels } from "./labels.js";

export const IMAGE_VERIFY_STEP = "image-verify";

/** The create options of one throwaway container: no network, eksbox's labels. */
export function throwawayContainerSpec(image: string, argv: readonly string[]): Dockerode.ContainerCreateOptions {
  return {
    Image: image,
    Cmd: [...argv],
    Entrypoint: [],
    Tty: false,
    HostConfig: { NetworkMode: "none" },
    Labels: { ...containerLabels({ runId: newRunId(), step: IMAGE_VERIFY_STEP }), "io.eksbox.purpose": IMAGE_VERIFY_STEP },
  };
}

/** Runs one command in a throwaway container of `image` (no network, removed afterwards). */
export async function runInImage(docker: Dockerode, image: string, argv: readonly string[]): Promise<CommandResult> {
  const container = await docker.createContainer(throwawayContainerSpec(image, argv));
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const raw = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
    return { exitCode: StatusCode, ...demultiplex(raw) };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** Splits the engine's multiplexed log format (8-byte header: stream, 0, 0, 0, big-endian size). */
export function demultiplex(raw: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const kind = raw[offset]!;
    const size = raw.readUInt32BE(offset + 4);
    const payload = raw.subarray(offset + 8, offset + 8 + size);
    (kind === 2 ? err : out).push(payload);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

export function imageRunner(docker: Dockerode): ImageRunner {
  return {
    hasImage: (image) =>
      docker
        .getImage(image)
        .inspect()
        .then(
          () => true,
          () => false,
        ),
    run: (image, argv) => runInImage(docker, image, argv),
  };
}
