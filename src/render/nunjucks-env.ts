// One nunjucks environment per project, compiled templates cached in it: rendering 100
// environments compiles each template once.
import { existsSync } from "node:fs";
import path from "node:path";
import nunjucks from "nunjucks";
import { yamlLibrary } from "../config/yaml-lib.js";
import { packageRoot } from "../core/package-root.js";
import { autoescapeYaml, yamlFilter } from "./yaml-escape.js";

const environments = new Map<string, nunjucks.Environment>();

/** More items than any eksctl file needs; a range past it is a mistake, not a config. */
export const MAX_RANGE_ITEMS = 10_000;

/**
 * nunjucks' range() with a ceiling. Rendering is synchronous, so a runaway `range(1e9)` would hang
 * eksbox where not even Ctrl-C gets through; this fails at once, at the template's line.
 */
export function boundedRange(start: number, stop?: number, step?: number): number[] {
  const [from, to, by] = stop === undefined ? [0, start, 1] : [start, stop, step || 1];
  const count = Math.max(0, Math.ceil((to - from) / by));
  if (!Number.isFinite(count) || count > MAX_RANGE_ITEMS) {
    throw new Error(
      `range(${[start, stop, step].filter((v) => v !== undefined).join(", ")}) makes ${Number.isFinite(count) ? count : "endless"} items, more than the ${MAX_RANGE_ITEMS} a template may loop over: loop over values from the config instead`,
    );
  }
  return Array.from({ length: count }, (_, index) => from + index * by);
}

export function templateDirs(projectRoot: string): string[] {
  const own = path.join(projectRoot, "templates");
  const bundled = path.join(packageRoot(), "templates");
  return own === bundled ? [own] : [own, bundled];
}

/** The template file that will be used, relative to the project root when it is the project's. */
export function resolveTemplate(projectRoot: string, name: string): { absolute: string; display: string } {
  for (const dir of templateDirs(projectRoot)) {
    const absolute = path.join(dir, name);
    if (existsSync(absolute)) {
      const relative = path.relative(projectRoot, absolute);
      return { absolute, display: relative.startsWith("..") ? absolute : relative };
    }
  }
  return { absolute: path.join(projectRoot, "templates", name), display: `templates/${name}` };
}

/**
 * nunjucks' FileSystemLoader only checks that a resolved path starts with a template directory's
 * path as a string, so "../templates-private/x" passes for templates/. This one checks containment.
 */
class ContainedLoader extends nunjucks.FileSystemLoader {
  private readonly dirs: string[];
  constructor(dirs: string[], opts: nunjucks.FileSystemLoaderOptions) {
    super(dirs, opts);
    this.dirs = dirs.map((d) => path.resolve(d));
  }
  override getSource(name: string): nunjucks.LoaderSource {
    const inside = this.dirs.some((dir) => {
      const rel = path.relative(dir, path.resolve(dir, name));
      return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
    });
    return inside ? super.getSource(name) : (null as unknown as nunjucks.LoaderSource);
  }
}

export function nunjucksEnvironment(projectRoot: string): nunjucks.Environment {
  const existing = environments.get(projectRoot);
  if (existing) return existing;
  const env = new nunjucks.Environment(new ContainedLoader(templateDirs(projectRoot), { noCache: false }), {
    autoescape: false,
    trimBlocks: true,
    lstripBlocks: true,
    throwOnUndefined: false,
  });
  env.addExtension("yamlAutoescape", { tags: [], parse() {}, preprocess: autoescapeYaml } as unknown as nunjucks.Extension);
  env.addFilter("yaml", yamlFilter);
  env.addGlobal("range", boundedRange);
  // A map as YAML text, for values that are themselves documents (nodeadm's NodeConfig).
  env.addFilter("yamlDocument", (value: unknown) => yamlLibrary().stringify(value, { lineWidth: 0 }));
  environments.set(projectRoot, env);
  return env;
}

export function renderTemplate(projectRoot: string, name: string, context: Record<string, unknown>): Promise<string> {
  const env = nunjucksEnvironment(projectRoot);
  return new Promise((resolve, reject) => {
    env.render(name, context, (error, result) => (error ? reject(error) : resolve(result ?? "")));
  });
}
