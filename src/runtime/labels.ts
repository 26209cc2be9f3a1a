// Labels on every container eksbox creates: they make leftovers findable (and sweepable) after a
// crash, and tell `docker ps` readers which run and environment a container belongs to.
import { hostname } from "node:os";
import type Dockerode from "dockerode";
import type { EventSink } from "../core/events.js";
import { log } from "../core/events.js";
import { processIsAlive } from "../core/process.js";

export const LABEL_TOOL = "io.eksbox.tool";
export const LABEL_RUN_ID = "io.eksbox.run-id";
export const LABEL_ENV = "io.eksbox.env";
export const LABEL_STEP = "io.eksbox.step";
/** `<hostname>:<pid>` of the eksbox process that owns the container. */
export const LABEL_OWNER = "io.eksbox.owner";
export const TOOL_NAME = "eksbox";

export function ownerLabel(): string {
  return `${hostname()}:${process.pid}`;
}

export function containerLabels(args: { runId: string; envName?: string; step: string }): Record<string, string> {
  return {
    [LABEL_TOOL]: TOOL_NAME,
    [LABEL_RUN_ID]: args.runId,
    [LABEL_ENV]: args.envName ?? "",
    [LABEL_STEP]: args.step,
    [LABEL_OWNER]: ownerLabel(),
  };
}

/**
 * A container is stale when its owner was an eksbox process on this host that has gone (whatever
 * the container's state: it may be mid-start for a live owner). With a foreign or unknown owner (a
 * CI job, eksbox in another container) only a container that has exited is stale, since a running
 * or just-created one may belong to a live run.
 */
export function isStale(container: Pick<Dockerode.ContainerInfo, "State" | "Labels">): boolean {
  const owner = container.Labels?.[LABEL_OWNER] ?? "";
  const separator = owner.lastIndexOf(":");
  const host = separator < 0 ? "" : owner.slice(0, separator);
  const pid = Number(owner.slice(separator + 1));
  if (host === hostname() && Number.isInteger(pid) && pid > 0) return pid !== process.pid && !processIsAlive(pid);
  return container.State === "exited" || container.State === "dead";
}

/** Removes containers left by crashed earlier runs. Returns the ids removed. */
export async function sweepStaleContainers(docker: Dockerode, events?: EventSink): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`] } });
  const removed: string[] = [];
  for (const info of containers) {
    if (!isStale(info)) continue;
    try {
      await docker.getContainer(info.Id).remove({ force: true });
      removed.push(info.Id);
      if (events)
        log.info(
          events,
          `removed container ${info.Id.slice(0, 12)} left by an earlier run (${info.Labels?.[LABEL_RUN_ID] ?? "unknown run"})`,
        );
    } catch (error) {
      // Another eksbox may be sweeping the same container right now.
      if ((error as { statusCode?: number }).statusCode !== 404 && (error as { statusCode?: number }).statusCode !== 409) throw error;
    }
  }
  return removed;
}
