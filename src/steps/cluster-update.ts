// EKS's UpdateClusterConfig is asynchronous: it answers {"update": {"id", "status": "InProgress"}} and
// applies the change over minutes, the cluster UPDATING meanwhile. Until then EKS refuses another
// UpdateClusterConfig (ResourceInUseException) and, after an authenticationMode change, access
// entries. So every `aws eks update-cluster-config` eksbox runs goes through here (runPlannedCommands):
// it is run, and its update waited for with describe-update until Successful.
//
// A cluster already UPDATING before the command is refused with a hint rather than waited for: the
// step decided from a cluster mid-update, and the update in flight may be this very change from an
// interrupted run (EKS would then refuse it as already made). A rerun once the cluster is ACTIVE
// decides from the settled cluster, and is a no-op when that update did the work.
import { AbortedError, StepFailedError, UserError } from "../core/errors.js";
import { pollUntilDone } from "../core/sleep.js";
import type { EventSink } from "../core/events.js";
import type { Toolbox } from "../runtime/types.js";
import { runJson } from "./cloud.js";

/** The part of a step's context the wait uses (model.ts's StepContext has it; that module runs this one). */
export interface UpdateWaitContext {
  toolbox: Toolbox;
  events: EventSink;
  signal: AbortSignal;
  pollIntervalMs?: number;
}

/** EKS applies an authenticationMode or upgrade policy change in minutes; this bounds the wait. */
export const CLUSTER_UPDATE_TIMEOUT_MS = 30 * 60_000;
const DEFAULT_POLL_INTERVAL_MS = 5_000;

interface EksUpdate {
  id?: string;
  status?: string;
  type?: string;
  errors?: { errorCode?: string; errorMessage?: string }[];
}

export function isClusterConfigUpdate(argv: readonly string[]): boolean {
  return argv[0] === "aws" && argv[1] === "eks" && argv[2] === "update-cluster-config";
}

function flag(argv: readonly string[], name: string): string {
  const i = argv.indexOf(name);
  const value = i >= 0 ? argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`internal: ${argv.slice(0, 3).join(" ")} without ${name}`);
  return value;
}

/** Runs one `aws eks update-cluster-config` (built with --output json) and waits until EKS has applied it. */
export async function runClusterConfigUpdate(ctx: UpdateWaitContext, step: string, argv: readonly string[]): Promise<void> {
  const cluster = flag(argv, "--name");
  const region = flag(argv, "--region");
  const described = await runJson<{ cluster?: { status?: string } }>(ctx.toolbox, step, [
    "aws",
    "eks",
    "describe-cluster",
    "--name",
    cluster,
    "--region",
    region,
    "--output",
    "json",
  ]);
  if (described.cluster?.status === "UPDATING") {
    throw new UserError(`cluster ${cluster} is UPDATING: EKS takes no other configuration change until the update in progress is done`, {
      hint: `wait until it is ACTIVE (aws eks wait cluster-active --name ${cluster} --region ${region}), then rerun: the rerun decides from the finished update`,
    });
  }
  const { update } = await runJson<{ update?: EksUpdate }>(ctx.toolbox, step, [...argv]);
  if (!update?.id) {
    throw new StepFailedError({ step, argv, exitCode: 0, message: "answered no update id (the AWS CLI's JSON output has update.id)" });
  }
  await waitForClusterUpdate(ctx, step, { cluster, region, id: update.id, type: update.type });
}

async function waitForClusterUpdate(
  ctx: UpdateWaitContext,
  step: string,
  target: { cluster: string; region: string; id: string; type?: string },
): Promise<void> {
  const { cluster, region, id, type } = target;
  const what = `EKS update ${id}${type ? ` (${type})` : ""} of cluster ${cluster}`;
  const argv = ["aws", "eks", "describe-update", "--name", cluster, "--region", region, "--update-id", id, "--output", "json"];
  await pollUntilDone<string>({
    signal: ctx.signal,
    events: ctx.events,
    timeoutMs: CLUSTER_UPDATE_TIMEOUT_MS,
    intervalMs: ctx.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
    look: async () => {
      const update = (await runJson<{ update?: EksUpdate }>(ctx.toolbox, step, argv)).update ?? {};
      const status = update.status ?? "(no status)";
      if (status === "Successful") return undefined;
      if (status === "Failed" || status === "Cancelled") {
        const errors = (update.errors ?? []).map((e) => `${e.errorCode ?? "error"}: ${e.errorMessage ?? "(no message)"}`);
        throw new StepFailedError({
          step,
          argv,
          message: `waited for ${what}: ${status}${errors.length > 0 ? `: ${errors.join("; ")}` : ""}`,
          outputTail: errors,
          hint: `the cluster keeps its configuration from before the update; fix the cause EKS names, then rerun`,
        });
      }
      return status;
    },
    waiting: (status) => `waiting for ${what}: ${status}`,
    aborted: () =>
      new AbortedError(`stopped waiting for ${what}: interrupted; EKS carries the update on, and a rerun once it is done finds it made`),
    timedOut: (status) =>
      new StepFailedError({
        step,
        argv,
        message: `timed out after ${CLUSTER_UPDATE_TIMEOUT_MS / 60_000} minutes waiting for ${what}: still ${status}`,
        hint: `look at it with aws eks describe-update --name ${cluster} --region ${region} --update-id ${id}; rerun once it is Successful`,
      }),
  });
}
