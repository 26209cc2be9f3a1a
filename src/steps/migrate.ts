// migrate pod-identity: the IRSA service accounts (cluster.serviceAccounts, eksctl's
// iamserviceaccount stacks) moved to EKS Pod Identity by eksctl's own `utils migrate-to-pod-identity`:
// it installs the eks-pod-identity-agent addon if missing, lets each role trust pods.eks.amazonaws.com
// and creates one association per service account. Resumable: the step decides from the live
// associations, so a rerun migrates only what is left, and a finished migration is a no-op.
import { log } from "../core/events.js";
import { preflightStep } from "./common-steps.js";
import { associationKey, livePodIdentityAssociations } from "./converge/identity-state.js";
import { clusterArgs, clusterMissing, type LifecycleContext } from "./lifecycle.js";
import { runDecision, runPlannedCommands, skipDecision, stepId, type Step, type Task } from "./model.js";

const migrateStep: Step<LifecycleContext> = {
  id: "migrate",
  description: "move the IRSA service accounts to pod identity associations",
  needs: ["preflight"],
  async decide(ctx) {
    if (!(await ctx.facts.cluster())) throw clusterMissing(ctx, "migrate pod-identity");
    const irsa = await ctx.facts.serviceAccounts();
    const associated = new Set((await livePodIdentityAssociations(ctx, stepId(ctx), [])).map(associationKey));
    const left = irsa.filter((sa) => !associated.has(`${sa.namespace}/${sa.name}`));
    if (left.length === 0) {
      return skipDecision(
        irsa.length === 0
          ? "no IRSA service accounts in the cluster"
          : `all ${irsa.length} IRSA service account(s) have pod identity associations`,
      );
    }
    return runDecision(`to migrate: ${left.map((sa) => `${sa.namespace}/${sa.name}`).join(", ")}`, [
      ["eksctl", "utils", "migrate-to-pod-identity", ...clusterArgs(ctx), "--approve"],
    ]);
  },
  async run(ctx, decision) {
    await runPlannedCommands(ctx, decision);
    const migrated = await livePodIdentityAssociations(ctx, stepId(ctx), []);
    const irsa = ctx.env.config.cluster.serviceAccounts;
    for (const sa of irsa) {
      const association = migrated.find((a) => a.namespace === sa.namespace && a.serviceAccount === sa.name);
      if (!association) continue;
      log.warn(
        ctx.events,
        `update your config: move ${sa.namespace}/${sa.name} from cluster.serviceAccounts to cluster.podIdentityAssociations ` +
          `(namespace: ${sa.namespace}, serviceAccountName: ${sa.name}, roleARN: ${association.roleArn})`,
      );
    }
  },
};

export function migratePodIdentityTask(): Task<LifecycleContext> {
  return { name: "migrate-pod-identity", concurrency: 1, steps: [preflightStep, migrateStep] };
}
