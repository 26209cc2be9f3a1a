// An in-process toolbox on the test image, for the resource checks: the real runtime, the real engine.
import { openToolbox, type DockerToolbox } from "../../../src/runtime/toolbox.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import type { EksboxEvent, EventSink } from "../../../src/core/events.js";
import { ensureTestToolboxImage } from "../../support/test-toolbox.js";

/** Counts events instead of keeping them: a sink that held every line would itself look like a leak. */
export class CountingSink implements EventSink {
  readonly counts = new Map<string, number>();
  lines = 0;
  emit(event: EksboxEvent): void {
    this.counts.set(event.type, (this.counts.get(event.type) ?? 0) + 1);
    if (event.type === "step-output") this.lines++;
  }
}

export async function openTestToolbox(
  projectRoot: string,
  envName: string,
  runId: string,
  events: EventSink,
): Promise<{ toolbox: DockerToolbox; interrupter: Interrupter }> {
  const image = await ensureTestToolboxImage();
  const interrupter = new Interrupter();
  const toolbox = await openToolbox({
    projectRoot,
    envName,
    imageRef: image,
    runId,
    events,
    interrupter,
    processEnv: { PATH: process.env.PATH, HOME: projectRoot },
    aws: { region: "us-east-1" },
  });
  return { toolbox, interrupter };
}
