// Loads one environment: config/defaults.yaml, then config/environments/<env>.yaml, then `--set`
// overrides, checked as a whole so the user sees every problem in one run.
import path from "node:path";
import { ConfigError, UserError, type ConfigIssue } from "../core/errors.js";
import { locateIssue, zodIssuesToConfigIssues, type Provenance } from "./issues.js";
import { applySetOverride, deepMerge, isPlainObject, parseSetOverride, type SetOverride } from "./merge.js";
import { checkConfigRules } from "./rules.js";
import { environmentSchema, type Environment, type EnvironmentConfig } from "./schema.js";
import { findSecrets } from "./secrets.js";
import { readYamlSource, type YamlSource } from "./yaml-source.js";

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
  const merged = structuredClone([...files].reverse().reduce<unknown>((acc, file) => deepMerge(acc, file.value), {})) as Record<string, unknown>;
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

  const result = environmentSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(zodIssuesToConfigIssues(result.error.issues, merged, provenance), `invalid configuration for ${name}`);
  }
  const parsed = result.data;
  const ruleIssues = checkConfigRules(parsed).map((finding) =>
    locateIssue(provenance, finding.path, { message: finding.message, hint: finding.hint }),
  );
  if (ruleIssues.length > 0) throw new ConfigError(ruleIssues, `invalid configuration for ${name}`);

  const config: EnvironmentConfig = {
    ...parsed,
    cluster: { ...parsed.cluster, name: parsed.cluster.name ?? name },
  };
  if (parsed.gitops) config.gitops = { ...parsed.gitops, path: parsed.gitops.path ?? `clusters/${name}` };
  return { name, config, sources: [...files].reverse().map((f) => f.file) };
}
