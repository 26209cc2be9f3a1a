// Where eksbox's verdict and real eksctl's differ on purpose, each with its reason. oracle.test.ts
// fails on a disagreement that no entry explains, and on an entry that no longer explains anything.
export interface OracleException {
  /** eksbox refuses what eksctl accepts, or the other way round. */
  side: "eksbox-refuses" | "eksctl-refuses";
  /** Which cases it covers (matched against the case id). */
  cases: RegExp;
  /** Matched against eksbox's findings (eksbox-refuses) or eksctl's error (eksctl-refuses). */
  because: RegExp;
  reason: string;
}

export const ORACLE_EXCEPTIONS: OracleException[] = [
  {
    side: "eksbox-refuses",
    cases: /^example\/27-oidc-provider\.yaml$/,
    because: /^identityProviders\.0.*eksctl schema/,
    reason:
      "a bug in eksctl's JSON Schema (v0.230.0): IdentityProvider requires `type: oidc`, then its oneOf points to " +
      "OIDCIdentityProvider, which has no `type` and additionalProperties false, so no entry can pass; eksctl's Go code accepts it",
  },
  {
    side: "eksbox-refuses",
    cases: /^example\/43-hybrid-nodes\.yaml$/,
    because: /^remoteNetworkConfig\.vpcGatewayID: eksctl schema: is required/,
    reason: "eksctl's JSON Schema marks remoteNetworkConfig.vpcGatewayID required; eksctl's Go validation treats it as optional",
  },
  {
    side: "eksctl-refuses",
    // The sample environments set cluster.upgradePolicy.supportType (STANDARD off prod), rendered to upgradePolicy.
    cases: /^(example\/4[4-8]-|sample\/)/,
    because: /unknown field "(maxParallelNodesRepairedPercentage|upgradePolicy|controlPlaneScalingConfig|capabilities)"/,
    reason:
      "fields added to eksctl after v0.215.0 (the newest eksctl on the Go module proxy, the judge here); eksctl 0.230.0, " +
      "which the toolbox pins and whose schema eksbox ships, knows them",
  },
  {
    side: "eksctl-refuses",
    cases: /^example\/33-local-zones\.yaml$/,
    because: /failed to find all local zones/,
    reason: "the dry run looks the Local Zones up in EC2; moto has none, real AWS has them",
  },
  {
    side: "eksctl-refuses",
    cases: /^example\/3[5-7]-outposts/,
    because: /^timed out after/,
    reason: "the dry run asks the Outposts API about the outpost; moto does not emulate Outposts, and eksctl waits for an answer",
  },
  {
    side: "eksbox-refuses",
    cases: /^generated\//,
    because: /spotInstancePools: only applies with spotAllocationStrategy lowest-price/,
    reason:
      "eksctl passes spotInstancePools with price-capacity-optimized on to the Auto Scaling group, and AWS refuses it " +
      '("SpotInstancePools option is only available with the lowest-price allocation strategy"): eksbox says so before anything is created',
  },
  {
    side: "eksbox-refuses",
    cases: /^generated\//,
    because:
      /^config: worker\.spot(\.spotInstancePools)?: (is for self-managed nodegroups only|a managed nodegroup is all spot or all on-demand)/,
    reason:
      "config keys that would have no effect: managed nodegroups have no instancesDistribution, so the rendered file lacks " +
      "them and eksctl has nothing to refuse; eksbox refuses the config so that it says what is deployed",
  },
  {
    side: "eksbox-refuses",
    cases: /^invalid\/(desiredCapacity above maxSize|volumeSize 0)$/,
    because: /^nodegroups: nodeGroups\.0\.(desiredCapacity: is \d+, outside|volumeSize: must be at least 1)/,
    reason:
      "eksctl checks sizes only for managed nodegroups; for a self-managed one the Auto Scaling group (desired above max) " +
      "or EBS (a 0 GiB volume) refuses it half-way through the create: eksbox says so first",
  },
];
