// Where eksbox keeps things in a project, relative to its root: what it renders for eksctl under
// build/<env>/, and its own bookkeeping under .eksbox/ (state, locks, run records, the chosen env).
// Nothing else spells these paths out.
import { randomBytes } from "node:crypto";
import { UserError } from "./errors.js";

/** An environment name: also a file name under build/ and .eksbox/ (schema.ts envNamePattern is the same rule). */
export const envNamePattern = /^[a-z][a-z0-9-]{0,39}$/;

/** Refuses names that could escape config/environments (`../x`, `a/b`) or are not plain names. */
export function assertEnvName(name: string): void {
  if (!envNamePattern.test(name)) {
    throw new UserError(
      `invalid environment name ${JSON.stringify(name)}: use a plain name of lower-case letters, digits and '-', starting with a letter (such as prod)`,
    );
  }
}

/** The version suffix of nodegroup names (worker-1b-20261125): the config, state and live names agree on it. */
export const NODEGROUP_VERSION_SOURCE = "[a-z0-9]{1,16}";
export const NODEGROUP_VERSION_PATTERN = new RegExp(`^${NODEGROUP_VERSION_SOURCE}$`);

/** build/<env>/: what eksbox renders for an environment, and the kubeconfig it writes there. */
export function envPaths(envName: string) {
  const dir = `build/${envName}`;
  return {
    dir,
    cluster: `${dir}/cluster.yaml`,
    nodegroups: `${dir}/nodegroups.yaml`,
    kubeconfig: `${dir}/kubeconfig`,
    /** Karpenter mode: one NodePool and EC2NodeClass per pool. */
    karpenterDir: `${dir}/karpenter`,
    karpenterPool: (pool: string) => `${dir}/karpenter/${pool}.yaml`,
    /** The cluster file for one upgrade hop (eksctl takes the version from the file). */
    upgradeHop: (version: string) => `${dir}/upgrade/cluster-${version}.yaml`,
  };
}

const EKSBOX_DIR = ".eksbox";

export const eksboxPaths = {
  /** The environment chosen with `eksbox env set` (gitignored, so each checkout chooses its own). */
  storedEnv: `${EKSBOX_DIR}/env`,
  stateDir: `${EKSBOX_DIR}/state`,
  locksDir: `${EKSBOX_DIR}/locks`,
  lock: (envName: string) => `${EKSBOX_DIR}/locks/${envName}.lock`,
  run: (runId: string) => `${EKSBOX_DIR}/runs/${runId}`,
  latestRun: (envName: string) => `${EKSBOX_DIR}/runs/latest-${envName}.json`,
} as const;

/** A run's id: its UTC start to the second, then a random part (20261125T101500Z-1a2b3c). */
export function newRunId(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}
