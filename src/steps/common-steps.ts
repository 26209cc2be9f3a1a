// Steps that several lifecycle tasks begin with.
import { ConfigError, formatIssue, UserError } from "../core/errors.js";
import { resolvePoolVersions, sameVersionForEveryPool } from "../config/worker-version.js";
import { envPaths } from "../core/layout.js";
import { recordPoolVersions } from "../core/state.js";
import { renderEnvironment, validateRendered, writeRendered } from "../render/render.js";
import { runJson } from "./cloud.js";
import { prefetchLive } from "./converge/converge.js";
import { liveNodegroups, newestVersion, type LifecycleContext } from "./lifecycle.js";
import { runDecision, type Step, stepId } from "./model.js";

/** Refuses credentials for any account but aws.accountId (the lock and every step rely on it). */
export async function checkAccount(ctx: Pick<LifecycleContext, "facts" | "env">): Promise<{ Account: string }> {
  const { aws } = ctx.env.config;
  const identity = await ctx.facts.identity();
  if (identity.Account !== aws.accountId) {
    throw new UserError(
      `refusing to act: the credentials are for account ${identity.Account}, but environment ${ctx.env.name} is in account ${aws.accountId} (aws.accountId)`,
      {
        hint: aws.assumeRole
          ? `aws.assumeRole.roleArn (${aws.assumeRole.roleArn}) gave credentials for ${identity.Account}: point it at a role in ${aws.accountId}`
          : `use the profile for ${aws.accountId} (aws.profile in config/environments/${ctx.env.name}.yaml or AWS_PROFILE), or set aws.assumeRole`,
      },
    );
  }
  return identity;
}

/**
 * Refuses to act anywhere but the configured account and region, and checks that the configured
 * subnets exist in the zones the config puts them in. It only reads, so it decides (and fails)
 * under `plan` too.
 */
export const preflightStep: Step<LifecycleContext> = {
  id: "preflight",
  description: "check the AWS account, region, zones and subnets",
  needs: [],
  async decide(ctx) {
    const { aws, cluster, nodePools } = ctx.env.config;
    // born compares the whole environment with AWS: start those reads now, beside these checks.
    if (ctx.converge) prefetchLive(ctx);
    const identity = await checkAccount(ctx);
    const zones = await runJson<{ AvailabilityZones?: { ZoneName: string }[] }>(ctx.toolbox, stepId(ctx), [
      "aws",
      "ec2",
      "describe-availability-zones",
      "--region",
      aws.region,
      "--output",
      "json",
    ]);
    const known = new Set((zones.AvailabilityZones ?? []).map((z) => z.ZoneName));
    const subnetZones = { ...cluster.vpc.subnets.public, ...cluster.vpc.subnets.private };
    const wanted = new Set([...Object.values(nodePools).flatMap((pool) => pool.zones), ...Object.keys(subnetZones)]);
    const unknownZones = [...wanted].filter((z) => !known.has(z));
    if (unknownZones.length > 0) {
      throw new UserError(`zone(s) ${unknownZones.join(", ")} are not in region ${aws.region}`, {
        hint: `the region has ${[...known].sort().join(", ") || "no zones visible to these credentials"}; fix the pools' zones (worker.zones / nodePools.<pool>.zones), cluster.vpc.subnets or aws.region`,
      });
    }
    const subnets = Object.entries({
      ...Object.fromEntries(Object.entries(cluster.vpc.subnets.public).map(([z, s]) => [`public.${z}`, { zone: z, id: s.id }])),
      ...Object.fromEntries(Object.entries(cluster.vpc.subnets.private).map(([z, s]) => [`private.${z}`, { zone: z, id: s.id }])),
    });
    const commands: string[][] = [
      ["aws", "sts", "get-caller-identity"],
      ["aws", "ec2", "describe-availability-zones"],
    ];
    if (subnets.length > 0) {
      const argv = [
        "aws",
        "ec2",
        "describe-subnets",
        "--region",
        aws.region,
        "--subnet-ids",
        ...subnets.map(([, s]) => s.id),
        "--output",
        "json",
      ];
      commands.push(argv);
      const found = await ctx.toolbox.run({ step: stepId(ctx), argv, captureStdout: true });
      const live =
        found.exitCode === 0
          ? ((JSON.parse(found.stdout || "{}") as { Subnets?: { SubnetId: string; AvailabilityZone: string }[] }).Subnets ?? [])
          : [];
      const byId = new Map(live.map((s) => [s.SubnetId, s.AvailabilityZone]));
      const problems = subnets.flatMap(([key, s]) => {
        const zone = byId.get(s.id);
        if (zone === undefined)
          return [`cluster.vpc.subnets.${key}: subnet ${s.id} does not exist in ${aws.region} (or is not visible to these credentials)`];
        if (zone !== s.zone) return [`cluster.vpc.subnets.${key}: subnet ${s.id} is in ${zone}, not ${s.zone}`];
        return [];
      });
      if (problems.length > 0) {
        throw new ConfigError(
          problems.map((message) => ({ file: `config/environments/${ctx.env.name}.yaml`, message })),
          "the configured subnets do not match AWS",
        );
      }
    }
    return runDecision(`account ${identity.Account}, region ${aws.region}, ${subnets.length} subnet(s) checked`, commands, {
      done: `account ${identity.Account}, region ${aws.region}, ${subnets.length} subnet(s) checked`,
    });
  },
  async run() {
    // Everything was checked while deciding.
  },
};

/**
 * Renders and validates the environment's eksctl files. Each pool's nodegroup version is, in order:
 * what the task asks for (a roll's target), the pool's `version` in config, the newest version among
 * the pool's live nodegroups, the recorded one, or today.
 */
export function generateStep(
  opts: { workerVersion?: (ctx: LifecycleContext) => Promise<string | Record<string, string> | undefined> } = {},
): Step<LifecycleContext> {
  return {
    id: "generate",
    description: "render and validate the eksctl files",
    needs: ["preflight"],
    async decide(ctx) {
      for (const warning of ctx.env.warnings ?? []) ctx.events.emit({ type: "log", level: "warn", message: formatIssue(warning) });
      const asked = await opts.workerVersion?.(ctx);
      const current = await liveOrResolvedVersions(ctx);
      const versions = typeof asked === "string" ? sameVersionForEveryPool(ctx.env, asked) : { ...current, ...asked };
      const rendered = await renderEnvironment(ctx.projectRoot, ctx.env, { versions });
      const issues = validateRendered(rendered, ctx.env);
      if (issues.length > 0) throw new ConfigError(issues, `the rendered eksctl files for ${ctx.env.name} are not valid`);
      ctx.rendered = rendered;
      const paths = envPaths(ctx.env.name);
      const version = rendered.workerVersion;
      return runDecision(`nodegroup version ${version}`, [], {
        files: [paths.cluster, paths.nodegroups, ...rendered.karpenter.map((m) => m.relativePath)],
        done: `wrote ${paths.cluster} and ${paths.nodegroups}${rendered.karpenter.length > 0 ? ` and ${paths.karpenterDir}/` : ""} (nodegroup version ${version})`,
      });
    },
    async run(ctx) {
      if (ctx.planning) return;
      const written = await writeRendered(ctx.projectRoot, ctx.rendered!);
      // The toolbox opened before these were written: a copied-in workspace (remote engine) lacks them.
      await ctx.toolbox.shareFiles(written);
      for (const path of written) ctx.events.emit({ type: "file-written", path });
    },
  };
}

async function liveOrResolvedVersions(ctx: LifecycleContext): Promise<Record<string, string>> {
  const live = await liveNodegroups(ctx);
  const resolved = await resolvePoolVersions(ctx.projectRoot, ctx.env, { record: false });
  const versions: Record<string, string> = {};
  const chosenNow: Record<string, string> = {};
  for (const [name, pool] of Object.entries(ctx.env.config.nodePools)) {
    const newestLive = newestVersion([...live.values()].filter((ng) => ng.pool === name).map((ng) => ng.version));
    versions[name] = pool.version ?? newestLive ?? (chosenNow[name] = resolved[name]!);
  }
  // Recorded at once, so a rerun tomorrow renders the same names.
  if (!ctx.planning) await recordPoolVersions(ctx.projectRoot, ctx.env.name, chosenNow);
  return versions;
}
