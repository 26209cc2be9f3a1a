// Loads one environment: config/defaults.yaml, then config/environments/<env>.yaml, then `--set`
// overrides, checked as a whole so the user sees every problem in one run.
import path from "node:path";
import { ConfigError, UserError, type ConfigIssue } from "../core/errors.js";
import { locateIssue, valueAt, zodIssuesToConfigIssues, type Provenance } from "./issues.js";
import { applySetOverride, isPlainObject, mergeLayer, parseSetOverride, type SetOverride } from "./merge.js";
import { dedupeIssues, expandNodePools, karpenterIgnoredKeys, sourcePathOf } from "./node-pools.js";
import { checkConfigRules, type RuleFinding } from "./rules.js";
import { environmentSchema, type Environment, type EnvironmentConfig, type NodePoolConfig } from "./schema.js";
import { findSecrets } from "./secrets.js";
import { dottedPath, readYamlSource, type KeyPath, type YamlSource } from "./yaml-source.js";

export const DEFAULTS_FILE = "config/defaults.yaml";
export { ENVIRONMENTS_DIR, assertEnvName, environmentFile, listEnvironments } from "./env-names.js";
import { assertEnvName, environmentFile, listEnvironments, ENVIRONMENTS_DIR } from "./env-names.js";

/** The file's YAML, or undefined when it does not exist (one read, no separate existence check). */
async function readIfPresent(absolute: string, display: string): Promise<YamlSource | undefined> {
  try {
    return await readYamlSource(absolute, display);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

type ParsedEnvironment = ReturnType<typeof environmentSchema.parse>;

/** The key paths a schema issue refuses: the value there (or, in a list, the list) is not usable. */
function refusedPaths(issue: { code: string; path: PropertyKey[]; keys?: string[] }): KeyPath[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") return (issue.keys ?? []).map((key) => [...path, key]);
  const listAt = path.findIndex((segment) => typeof segment === "number");
  return [listAt >= 0 ? path.slice(0, listAt) : path];
}

/** The merged config with the refused values removed, parsed (defaults fill them); undefined when it still fails. */
function withoutRefused(merged: Record<string, unknown>, refused: readonly KeyPath[]): ParsedEnvironment | undefined {
  if (refused.some((path) => path.length === 0)) return undefined;
  const repaired = structuredClone(merged);
  for (const path of refused) {
    const parent = valueAt(repaired, path.slice(0, -1));
    if (parent && typeof parent === "object") delete (parent as Record<string | number, unknown>)[path[path.length - 1]!];
  }
  const second = environmentSchema.safeParse(repaired);
  return second.success ? second.data : undefined;
}

/** Either path lies inside the other. */
function overlaps(a: KeyPath, b: KeyPath): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (String(a[i]) !== String(b[i])) return false;
  return true;
}

/**
 * A rule finding is shown against the key it names, unless a `--set` argument changed a key it
 * depends on: then against that argument, which is what the user has to change (the key's own
 * place in the files goes into the hint).
 */
function locateRuleFinding(provenance: Provenance, finding: RuleFinding): ConfigIssue {
  const issue = locateIssue(provenance, finding.path, { message: finding.message, hint: finding.hint });
  if (issue.file?.startsWith("--set ")) return issue;
  const cause = (finding.causes ?? []).find((path) => provenance.sets.some((s) => overlaps(path, s.path)));
  if (!cause) return issue;
  const set = provenance.sets.find((s) => overlaps(cause, s.path))!;
  const where = issue.file ? ` (${[issue.file, issue.line, issue.column].filter((p) => p !== undefined).join(":")})` : "";
  return {
    file: `--set ${dottedPath(set.path)}`,
    path: issue.path,
    message: issue.message,
    hint: [issue.hint, `${issue.path} is set${where}; the --set made it a problem`].filter(Boolean).join("; "),
  };
}

export async function loadEnvironment(projectRoot: string, name: string, opts: { sets?: string[] } = {}): Promise<Environment> {
  assertEnvName(name);
  const envPath = environmentFile(name);
  const [envSource, defaultsSource] = await Promise.all([
    readIfPresent(path.join(projectRoot, envPath), envPath),
    readIfPresent(path.join(projectRoot, DEFAULTS_FILE), DEFAULTS_FILE),
  ]);
  if (!envSource) {
    const known = await listEnvironments(projectRoot);
    throw new UserError(
      `unknown environment ${JSON.stringify(name)}: there is no ${envPath}. ` +
        (known.length > 0 ? `Environments: ${known.join(", ")}` : `No environments exist yet in ${ENVIRONMENTS_DIR}/`),
    );
  }
  const files: YamlSource[] = defaultsSource ? [envSource, defaultsSource] : [envSource];
  const issues: ConfigIssue[] = files.flatMap((f) => f.issues);
  for (const file of files) {
    if (file.issues.length === 0 && !isPlainObject(file.value)) {
      issues.push({ file: file.file, line: 1, message: "must be a map of keys (aws:, cluster:, worker:, ...)" });
    }
  }

  const sets: SetOverride[] = [];
  for (const text of opts.sets ?? []) {
    const parsed = parseSetOverride(text);
    if ("message" in parsed) issues.push(parsed);
    else sets.push(parsed);
  }
  if (issues.length > 0) throw new ConfigError(issues, `cannot read the configuration of ${name}`);

  // Lowest precedence first. Cloned: the parsed files are cached and shared.
  const merged = structuredClone([...files].reverse().reduce<unknown>((acc, file) => mergeLayer(acc, file.value), {})) as Record<
    string,
    unknown
  >;
  const provenance: Provenance = { sets: sets.map((s) => ({ path: s.path })), files };
  for (const set of sets) {
    const problem = applySetOverride(merged, set);
    if (problem) issues.push(problem);
  }

  for (const secret of findSecrets(merged)) {
    issues.push(locateIssue(provenance, secret.path, { message: secret.message, hint: secret.hint }));
  }
  // Nothing else is reported when a secret is there: other messages might quote the value.
  if (issues.length > 0) throw new ConfigError(issues, `refusing the configuration of ${name}`);

  // worker and nodePools combine before the schema sees them (config/node-pools.ts); problems are
  // found on the combined config and reported where their values came from.
  const expansion = expandNodePools(merged);
  const toSource = (finding: RuleFinding): RuleFinding => ({
    ...finding,
    path: sourcePathOf(expansion, finding.path),
    causes: finding.causes?.map((cause) => sourcePathOf(expansion, cause)),
  });

  // Schema problems and rule problems are reported together. When the schema refuses keys, the rules
  // run on the config with those keys back at their defaults, and any finding that reads one of them
  // is left out (it would be judging a default, not what the user wrote).
  const result = environmentSchema.safeParse(merged);
  const schemaIssues = result.success ? [] : result.error.issues;
  const refused = schemaIssues.flatMap(refusedPaths);
  const parsed = result.success ? result.data : withoutRefused(merged, refused);
  // The shorthand's pool is the worker object itself: one truth, named by its namePrefix.
  const nodePools: Record<string, NodePoolConfig> =
    parsed?.nodePools ?? (parsed?.worker ? { [parsed.worker.namePrefix]: parsed.worker } : {});
  const poolPath = (pool: string): KeyPath => (expansion.shorthand ? ["worker"] : ["nodePools", pool]);
  const ruleIssues = parsed
    ? checkConfigRules({ ...parsed, nodePools }, poolPath)
        .filter((finding) => ![finding.path, ...(finding.causes ?? [])].some((read) => refused.some((bad) => overlaps(read, bad))))
        .map((finding) => locateRuleFinding(provenance, toSource(finding)))
    : [];
  const schemaFindings = zodIssuesToConfigIssues(schemaIssues, merged, provenance, (path) => sourcePathOf(expansion, path));
  const allIssues = dedupeIssues([...schemaFindings, ...ruleIssues]);
  if (allIssues.length > 0 || !parsed) throw new ConfigError(allIssues, `invalid configuration for ${name}`);

  const config: EnvironmentConfig = {
    ...parsed,
    nodePools,
    cluster: { ...parsed.cluster, name: parsed.cluster.name ?? name },
  };
  const warnings = karpenterIgnoredKeys(expansion, config).map((found) => locateIssue(provenance, found.path, { message: found.message }));
  if (parsed.gitops) config.gitops = { ...parsed.gitops, path: parsed.gitops.path ?? `clusters/${name}` };
  return { name, config, sources: [...files].reverse().map((f) => f.file), ...(warnings.length > 0 ? { warnings } : {}) };
}
