// Which toolbox image a run uses and making sure it is there: the project's content-tagged image
// (built when missing), or an explicit --image / EKSBOX_IMAGE override (pulled when missing).
import type Dockerode from "dockerode";
import { StepFailedError, UnavailableError, UserError } from "../core/errors.js";
import { log, type EventSink } from "../core/events.js";
import { BuildProgressParser, expectedImageRef, imageToolsFromLabels } from "../image/toolbox-image.js";
import { buildToolboxImage } from "./image-build.js";
import type { ImageInfo } from "./types.js";

/** Tags that are moved on purpose: running one means the toolbox can change under the same name. */
const movingTags = new Set([
  "latest",
  "stable",
  "edge",
  "main",
  "master",
  "nightly",
  "dev",
  "develop",
  "head",
  "current",
  "lts",
  "slim",
  "alpine",
]);

export interface ParsedRef {
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(ref: string): ParsedRef {
  const [nameAndTag, digest] = ref.split("@", 2) as [string, string | undefined];
  const lastSlash = nameAndTag.lastIndexOf("/");
  const colon = nameAndTag.indexOf(":", lastSlash + 1);
  return colon < 0
    ? { repository: nameAndTag, digest }
    : { repository: nameAndTag.slice(0, colon), tag: nameAndTag.slice(colon + 1), digest };
}

/** True when the reference can point at different images over time: no digest and a moving or absent tag. */
export function isMutableRef(ref: string): boolean {
  const { tag, digest } = parseImageRef(ref);
  if (digest) return false;
  if (!tag) return true;
  return movingTags.has(tag.toLowerCase()) || /^v?\d+(\.\d+)?$/.test(tag);
}

export interface ResolveImageOptions {
  projectRoot: string;
  /** --image */
  imageRef?: string;
  processEnv: NodeJS.ProcessEnv;
  events: EventSink;
  signal?: AbortSignal;
  /** Use the image only if it is here already: never build or pull (for commands that only ask, such as generate). */
  onlyIfPresent?: boolean;
}

async function inspectOrUndefined(docker: Dockerode, ref: string): Promise<Dockerode.ImageInspectInfo | undefined> {
  try {
    return await docker.getImage(ref).inspect();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

export async function pullImage(docker: Pick<Dockerode, "pull">, ref: string, events: EventSink): Promise<void> {
  const stream = (await docker.pull(ref)) as NodeJS.ReadableStream;
  const tail: string[] = [];
  const progress = new BuildProgressParser((line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    events.emit({ type: "image-build", line });
  });
  for await (const chunk of stream as AsyncIterable<Buffer>) progress.push(chunk);
  progress.end();
  // The engine answers 200 and reports a failed pull only inside the progress stream.
  if (progress.error !== undefined) throw new Error(progress.error);
}

/** Finds the image (building or pulling it when missing) and logs its identity and tool versions. */
export async function resolveToolboxImage(docker: Dockerode, opts: ResolveImageOptions): Promise<ImageInfo> {
  const explicit = opts.imageRef || opts.processEnv.EKSBOX_IMAGE || undefined;
  const projectRef = explicit ? undefined : await expectedImageRef(opts.projectRoot);
  const ref = explicit ?? projectRef!;
  if (explicit) {
    const source = opts.imageRef ? "--image" : "EKSBOX_IMAGE";
    log.info(opts.events, `using toolbox image ${ref} from ${source} instead of the project's`);
    if (isMutableRef(ref)) {
      log.warn(
        opts.events,
        `image ${ref} is a mutable tag: the tools can change between runs; pin it by digest (${parseImageRef(ref).repository}@sha256:...) or use the project's toolbox`,
      );
    }
  }

  let inspected = await inspectOrUndefined(docker, ref);
  if (!inspected && opts.onlyIfPresent) {
    throw new UnavailableError(`toolbox image ${ref} is not here`, {
      hint: projectRef ? "build it with eksbox image build" : `pull it: docker pull ${ref}`,
    });
  }
  if (!inspected) {
    if (projectRef) {
      log.info(opts.events, `toolbox image ${ref} is not here yet: building it (once per Dockerfile change)`);
      await buildToolboxImage(docker, opts.projectRoot, { events: opts.events, tag: ref, signal: opts.signal });
    } else {
      log.info(opts.events, `image ${ref} is not here: pulling it`);
      try {
        await pullImage(docker, ref, opts.events);
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        throw new UserError(`image ${ref} is not available locally and could not be pulled: ${why.split("\n")[0]}`, {
          hint: `pull or build it first (\`docker pull ${ref}\`, or \`docker build -t ${ref} .\`), or drop --image/EKSBOX_IMAGE to use the project's toolbox (\`eksbox image build\`)`,
        });
      }
    }
    inspected = await inspectOrUndefined(docker, ref);
    if (!inspected) {
      throw new StepFailedError({
        step: "image",
        message: `image ${ref} is still missing after ${projectRef ? "building" : "pulling"} it`,
      });
    }
  }

  const info: ImageInfo = {
    ref,
    id: inspected.Id,
    digest: inspected.RepoDigests?.[0],
    tools: imageToolsFromLabels(inspected.Config?.Labels ?? undefined),
  };
  opts.events.emit({ type: "image", ref: info.ref, id: info.id, digest: info.digest, tools: info.tools });
  return info;
}
