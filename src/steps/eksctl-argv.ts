// The one way eksbox removes a nodegroup (roll, converge, a mode switch, destroy): its pods are
// evicted first, and the call returns only once the nodegroup is gone.

export function drainAndDeleteNodegroupArgv(cluster: string, region: string, name: string): string[] {
  return ["eksctl", "delete", "nodegroup", "--cluster", cluster, "--region", region, "--name", name, "--drain", "--approve", "--wait"];
}

/** The nodegroup a drainAndDeleteNodegroupArgv command deletes. */
export function nodegroupDeletedBy(argv: readonly string[]): string | undefined {
  const at = argv.indexOf("--name");
  return at >= 0 ? argv[at + 1] : undefined;
}
