// Renders an environment's eksctl files from the templates, checks them against eksctl's schema
// and rules, and writes them. Rendering happens in memory; only writeRendered touches build/.
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Document } from "yaml";
import { ConfigError, type ConfigIssue } from "../core/errors.js";
import { writeFileAtomic } from "../core/files.js";
import { envPaths } from "../core/layout.js";
import { isPlainObject } from "../config/merge.js";
import type { Environment } from "../config/schema.js";
import { describeVersions, resolvePoolVersions, sameVersionForEveryPool } from "../config/worker-version.js";
import { dottedPath, parseYamlSource, type YamlSource } from "../config/yaml-source.js";
import { checkRenderedRules } from "./eksctl-rules.js";
import { loadValidator, validateAgainstEksctlSchema } from "./eksctl-validate.js";
import { configKeyFor, templateLineFor } from "./provenance.js";
import { loadKarpenterModels, renderKarpenterManifests, validateKarpenterManifests, type KarpenterManifest } from "./karpenter.js";
import { addSpecHashTagsToDocument } from "./spec-hash.js";
import { buildViewModel, type NodegroupView } from "./view-model.js";
import { templateLineMarker } from "./yaml-escape.js";

export const CLUSTER_TEMPLATE = "cluster.yaml.njk";
export const NODEGROUPS_TEMPLATE = "nodegroups.yaml.njk";

export interface RenderedFile {
  /** build/<env>/cluster.yaml */
  relativePath: string;
  text: string;
  document: Record<string, unknown>;
  /** The template it came from, as shown to the user, and its source (to locate problems). */
  template?: string;
  templateSource?: string;
}

export interface RenderedEnvironment {
  env: string;
  /** The version suffix, as one reads it: "20261125", or "system 20261125, workers 20261126". */
  workerVersion: string;
  /** Each pool's version suffix. */
  versions: Record<string, string>;
  /** Which pool each nodegroup belongs to. */
  nodegroupPools: Record<string, string>;
  cluster: RenderedFile;
  nodegroups: RenderedFile;
  nodegroupNames: string[];
  /** Each nodegroup's launch-time spec hash (also written as its eksbox.io/spec-hash tag). */
  specHashes: Map<string, string>;
  /** Karpenter mode: a NodePool and EC2NodeClass per pool but `system` (build/<env>/karpenter/<pool>.yaml). */
  karpenter: KarpenterManifest[];
  /** Where the config files are, to point problems at the config line that caused them. */
  projectRoot?: string;
}

/** Each template's source, read once per process: nunjucks compiles each template once per process too. */
const templateSources = new Map<string, string | undefined>();

function templateSourceOf(absolute: string): string | undefined {
  if (!templateSources.has(absolute)) {
    let source: string | undefined;
    try {
      source = readFileSync(absolute, "utf8");
    } catch {
      source = undefined;
    }
    templateSources.set(absolute, source);
  }
  return templateSources.get(absolute);
}

/** A rendered file and yaml's Document of its text (the caller's to edit: it is parsed, not cached). */
async function renderFile(
  projectRoot: string,
  templateName: string,
  outputName: string,
  envName: string,
  context: Record<string, unknown>,
): Promise<{ file: RenderedFile; yaml: Document }> {
  const { renderTemplate, resolveTemplate } = await import("./nunjucks-env.js");
  const template = resolveTemplate(projectRoot, templateName);
  const relativePath = `${envPaths(envName).dir}/${outputName}`;
  let text: string;
  try {
    text = await renderTemplate(projectRoot, templateName, context);
  } catch (error) {
    throw new ConfigError([templateErrorIssue(error, template.display)], `cannot render ${template.display} for ${envName}`);
  }
  const templateSource = templateSourceOf(template.absolute);
  const parsed = parseYamlSource(text, relativePath);
  if (parsed.issues.length > 0) {
    throw new ConfigError(
      parsed.issues.map((issue) => ({
        ...issue,
        hint: `the output of ${template.display} is not valid YAML (a value printed with | safe?)`,
      })),
      `${template.display} rendered invalid YAML for ${envName}`,
    );
  }
  if (!isPlainObject(parsed.value) || !parsed.document) {
    throw new ConfigError([{ file: template.display, message: "must render a YAML map (apiVersion:, kind:, metadata:, ...)" }]);
  }
  return { file: { relativePath, text, document: parsed.value, template: template.display, templateSource }, yaml: parsed.document };
}

function templateErrorIssue(error: unknown, templateDisplay: string): ConfigIssue {
  const message = error instanceof Error ? error.message : String(error);
  const marked = templateLineMarker.exec(message);
  const located = /\[Line (\d+), Column (\d+)\]/.exec(message);
  const detail =
    message
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("(") && !l.startsWith("[Line"))
      .pop() ?? message;
  return {
    file: templateDisplay,
    line: marked ? Number(marked[1]) : located ? Number(located[1]) : undefined,
    column: marked ? undefined : located ? Number(located[2]) : undefined,
    message: detail
      .replace(/^Error: /, "")
      .replace(templateLineMarker, "")
      .trim(),
  };
}

/** The file with its text printed from `yaml` at the first read. */
function withTextOnDemand(file: RenderedFile, yaml: Document): RenderedFile {
  let text: string | undefined;
  return {
    ...file,
    get text() {
      return (text ??= yaml.toString({ lineWidth: 0 }));
    },
    set text(value: string) {
      text = value;
    },
  };
}

/** The versions to render with: per pool, or one for every pool. */
export type VersionChoice = { versions: Record<string, string> } | { workerVersion: string };

export async function renderEnvironment(projectRoot: string, env: Environment, opts: VersionChoice): Promise<RenderedEnvironment> {
  const versions = "versions" in opts ? opts.versions : sameVersionForEveryPool(env, opts.workerVersion);
  const context = buildViewModel(env, versions);
  const [{ file: cluster }, { file: nodegroups, yaml: nodegroupsYaml }] = await Promise.all([
    renderFile(projectRoot, CLUSTER_TEMPLATE, "cluster.yaml", env.name, context),
    renderFile(projectRoot, NODEGROUPS_TEMPLATE, "nodegroups.yaml", env.name, context),
    // validateRendered is synchronous: have the validator ready for it.
    loadValidator(),
  ]);
  const nodegroupNames = ["nodeGroups", "managedNodeGroups"].flatMap((kind) => {
    const list = nodegroups.document[kind];
    return Array.isArray(list) ? list.filter(isPlainObject).map((ng) => String(ng.name)) : [];
  });
  const views = context.nodegroups as NodegroupView[];
  const nodegroupPools = Object.fromEntries(views.map((ng) => [ng.name, ng.poolName]));
  // In the config's pool order, whichever list (managed or self-managed) a group is in.
  const order = new Map(views.map((ng, index) => [ng.name, index]));
  nodegroupNames.sort((a, b) => (order.get(a) ?? views.length) - (order.get(b) ?? views.length));
  // The tags go into the Document rendering already parsed; it is printed when someone reads the
  // text (validate reads it only to point at a problem).
  const tagged = addSpecHashTagsToDocument(() => nodegroupsYaml, nodegroups.document);
  const nodegroupsFile = tagged.yaml ? withTextOnDemand(nodegroups, tagged.yaml) : nodegroups;
  const karpenter = renderKarpenterManifests(env);
  if (karpenter.length > 0) await loadKarpenterModels();
  return {
    env: env.name,
    workerVersion: describeVersions(versions),
    versions,
    nodegroupPools,
    cluster,
    nodegroups: nodegroupsFile,
    nodegroupNames,
    specHashes: tagged.hashes,
    karpenter,
    projectRoot,
  };
}

/** Every problem in the rendered files: eksctl's schema, then the rules it does not express. */
export function validateRendered(rendered: RenderedEnvironment, env: Environment): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const files = { cluster: rendered.cluster, nodegroups: rendered.nodegroups };
  const ruleFindings = checkRenderedRules(rendered.cluster.document, rendered.nodegroups.document, {
    mode: env.config.autoscaling.mode,
    // Which nodegroups cluster-autoscaler must discover: per-zone groups of pools that ask for it.
    discoverable: (name) => {
      const pool = env.config.nodePools[rendered.nodegroupPools[name] ?? ""];
      return pool !== undefined && pool.clusterAutoscaler && pool.perZone;
    },
  });
  // A rule that explains a field better than the schema's "not a field eksctl knows here" wins.
  const explained = new Set(ruleFindings.map((f) => `${f.document} ${JSON.stringify(f.path)}`));
  const configSource = configSourceFinder(rendered, env);
  // A nodegroup's keys come from its pool: nodePools.<pool>.<key>, or `worker` (the shorthand, or what every pool inherits).
  const poolKey = (keyPath: (string | number)[], key: string | undefined): string | undefined => {
    if (!key || env.config.worker !== undefined || (keyPath[0] !== "nodeGroups" && keyPath[0] !== "managedNodeGroups")) return key;
    const list = rendered.nodegroups.document[keyPath[0]];
    const ng: unknown = Array.isArray(list) ? list[keyPath[1] as number] : undefined;
    const pool = isPlainObject(ng) ? rendered.nodegroupPools[String(ng.name)] : undefined;
    if (!pool) return key;
    return key
      .split(" / ")
      .flatMap((k) => (k.startsWith("worker.") ? [`nodePools.${pool}.${k.slice("worker.".length)}`, k] : [k]))
      .join(" / ");
  };
  const locate = (file: RenderedFile, keyPath: (string | number)[], message: string, hint?: string) =>
    locateFinding(file, configSource, keyPath, poolKey(keyPath, configKeyFor(keyPath)), message, hint);
  for (const which of ["cluster", "nodegroups"] as const) {
    for (const finding of validateAgainstEksctlSchema(files[which].document)) {
      if (explained.has(`${which} ${JSON.stringify(finding.path)}`)) continue;
      issues.push(locate(files[which], finding.path, `eksctl schema: ${finding.message}`));
    }
  }
  for (const finding of ruleFindings) {
    issues.push(locate(files[finding.document], finding.path, finding.message, finding.hint));
  }
  issues.push(...validateKarpenterManifests(rendered.karpenter));
  return issues;
}

function locateFinding(
  file: RenderedFile,
  configSource: (key: string) => string | undefined,
  keyPath: (string | number)[],
  configKey: string | undefined,
  message: string,
  hint?: string,
): ConfigIssue {
  const renderedAt = parseYamlSource(file.text, file.relativePath).locate(keyPath);
  const templateLine = file.templateSource ? templateLineFor(file.templateSource, keyPath) : undefined;
  const where = configKey ? configSource(configKey) : undefined;
  const notes = [
    hint,
    `rendered at ${file.relativePath}${renderedAt ? `:${renderedAt.line}` : ""}`,
    configKey ? `value from ${configKey}${where ? ` (${where})` : ""}` : undefined,
  ].filter(Boolean);
  return {
    file: file.template ?? file.relativePath,
    line: templateLine,
    path: dottedPath(keyPath),
    message,
    hint: notes.join("; "),
  };
}

/**
 * Finds the config line a key was set on (the environment file first, then defaults), or says
 * it is a default of eksbox. Reads the files only when there is a problem to report.
 */
function configSourceFinder(rendered: RenderedEnvironment, env: Environment): (key: string) => string | undefined {
  let sources: YamlSource[] | undefined;
  return (key) => {
    if (!rendered.projectRoot) return undefined;
    sources ??= [...env.sources].reverse().flatMap((file) => {
      try {
        return [parseYamlSource(readFileSync(path.join(rendered.projectRoot!, file), "utf8"), file)];
      } catch {
        return [];
      }
    });
    for (const candidate of key.split(" / ")) {
      for (const source of sources) {
        const pos = source.locate(candidate.split("."));
        if (pos?.exact) return `${source.file}:${pos.line}`;
      }
    }
    return "eksbox's default";
  };
}

/** Writes cluster.yaml, nodegroups.yaml and karpenter/<pool>.yaml (to outDir when given, else build/<env>/); returns absolute paths. */
export async function writeRendered(projectRoot: string, rendered: RenderedEnvironment, outDir?: string): Promise<string[]> {
  const dir = outDir ? path.resolve(projectRoot, outDir) : path.join(projectRoot, envPaths(rendered.env).dir);
  const written: string[] = [];
  for (const file of [rendered.cluster, rendered.nodegroups]) {
    const target = path.join(dir, path.basename(file.relativePath));
    await writeFileAtomic(target, file.text);
    written.push(target);
  }
  for (const manifest of rendered.karpenter) {
    const target = path.join(dir, "karpenter", path.basename(manifest.relativePath));
    await writeFileAtomic(target, manifest.text);
    written.push(target);
  }
  return written;
}

/** Resolves the pools' versions, renders, validates (ConfigError with every issue) and writes. */
export async function generateEnvironment(
  projectRoot: string,
  env: Environment,
  opts: { outDir?: string; workerVersion?: string; versions?: Record<string, string>; now?: Date } = {},
): Promise<{ rendered: RenderedEnvironment; written: string[] }> {
  const versions =
    opts.versions ??
    (opts.workerVersion
      ? sameVersionForEveryPool(env, opts.workerVersion)
      : await resolvePoolVersions(projectRoot, env, { now: opts.now }));
  const rendered = await renderEnvironment(projectRoot, env, { versions });
  const issues = validateRendered(rendered, env);
  if (issues.length > 0) throw new ConfigError(issues, `the eksctl files for ${env.name} are not valid`);
  const written = await writeRendered(projectRoot, rendered, opts.outDir);
  return { rendered, written };
}
