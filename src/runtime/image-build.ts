// Builds the toolbox image (image/toolbox-image.ts names it and parses the progress) through the
// Engine API, streaming each output line as an `image-build` event.
import type Dockerode from "dockerode";
import { AbortedError, StepFailedError } from "../core/errors.js";
import type { EventSink } from "../core/events.js";
import {
  BUILD_CONTEXT_FILES,
  BuildProgressParser,
  expectedImageRef,
  imageToolsFromLabels,
  readContextFile,
} from "../image/toolbox-image.js";

const OUTPUT_TAIL_LINES = 25;

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
    const stream = await docker.buildImage({ context: projectRoot, src: [...BUILD_CONTEXT_FILES] }, {
      t: tag,
      buildargs: buildArgs,
      networkmode: opts.networkMode,
      nocache: opts.noCache ?? false,
      rm: true,
      forcerm: true,
      abortSignal: opts.signal,
    } as Dockerode.ImageBuildOptions);
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

/** The id and the tool versions (from its labels) of a local image. */
export async function inspectToolboxImage(docker: Dockerode, ref: string): Promise<{ id: string; tools: Record<string, string> }> {
  const inspected = await docker.getImage(ref).inspect();
  return { id: inspected.Id, tools: imageToolsFromLabels(inspected.Config?.Labels ?? undefined) };
}
