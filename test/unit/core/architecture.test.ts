// The house rules for src/, read from the import statements themselves: every import goes to the
// same layer or a lower one (cli → commands → tasks → output → steps → render/runtime →
// config/image → core), dockerode only inside runtime/, and no circle among the modules' imports.
// A circle of runtime imports can load a module half-initialised; one through type-only imports
// vanishes at run time but still ties the modules together, so it is refused too (move the type to
// its lowest user).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../../../src/", import.meta.url));

const LAYER_OF: Record<string, number> = {
  cli: 7,
  commands: 6,
  tasks: 5,
  output: 4,
  steps: 3,
  render: 2,
  runtime: 2,
  config: 1,
  image: 1,
  core: 0,
  vendor: 0,
};

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function importsOf(file: string, text = readFileSync(file, "utf8")): Import[] {
  const found: Import[] = [];
  const staticImport = /^(?:import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']/gms;
  for (const match of text.matchAll(staticImport)) {
    const statement = match[0];
    // `import { type A, type B }` is type-only too; `import { a, type B }` is not.
    const names = /\{([^}]*)\}/.exec(statement)?.[1];
    const allTypes =
      names !== undefined &&
      !/^\s*import\s+[A-Za-z_$]/.test(statement) &&
      names
        .split(",")
        .map((n) => n.trim())
        .filter(Boolean)
        .every((n) => n.startsWith("type "));
    found.push({ from: file, to: match[2]!, typeOnly: match[1] !== undefined || allTypes, dynamic: false });
  }
  for (const match of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
    found.push({ from: file, to: match[1]!, typeOnly: false, dynamic: true });
  }
  return found;
}

function circlesIn(edges: Map<string, string[]>): string[] {
  const circles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (module: string) => {
    state.set(module, "open");
    stack.push(module);
    for (const next of edges.get(module) ?? []) {
      if (state.get(next) === "open") circles.push([...stack.slice(stack.indexOf(next)), next].join(" -> "));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(module, "done");
  };
  for (const module of edges.keys()) if (!state.has(module)) visit(module);
  return circles;
}

function moduleName(file: string): string {
  return path.relative(SRC, file).replace(/\.ts$/, "");
}

function layerOf(module: string): number {
  const top = module.split("/")[0]!;
  // cli.ts and cli-completion.ts sit at the top of src/.
  return LAYER_OF[top.startsWith("cli") ? "cli" : top]!;
}

const files = sourceFiles(SRC);
const imports = files.flatMap((file) => importsOf(file));
const local = imports
  .filter((i) => i.to.startsWith("."))
  .map((i) => ({ ...i, module: moduleName(i.from), target: moduleName(path.resolve(path.dirname(i.from), i.to.replace(/\.js$/, ".ts"))) }));

describe("src/ layering", () => {
  it("reads every file and resolves every relative import to a file in src/", () => {
    expect(files.length).toBeGreaterThan(50);
    const known = new Set(files.map(moduleName));
    expect(local.filter((i) => !known.has(i.target)).map((i) => `${i.module} -> ${i.to}`)).toEqual([]);
    for (const module of known) expect(layerOf(module), module).toBeTypeOf("number");
  });

  it("imports only go to the same layer or a lower one", () => {
    const upward = local.filter((i) => layerOf(i.target) > layerOf(i.module)).map((i) => `${i.module} -> ${i.target}`);
    expect(upward).toEqual([]);
  });

  it("dockerode is imported only inside runtime/", () => {
    const outside = imports.filter((i) => i.to === "dockerode" && !moduleName(i.from).startsWith("runtime/") && !i.typeOnly);
    expect(outside.map((i) => moduleName(i.from))).toEqual([]);
  });

  it("no circle among the modules' runtime imports", () => {
    const edges = new Map<string, string[]>();
    for (const i of local) {
      if (i.typeOnly || i.dynamic) continue;
      edges.set(i.module, [...(edges.get(i.module) ?? []), i.target]);
    }
    expect(edges.size).toBeGreaterThan(50);
    expect(circlesIn(edges)).toEqual([]);
  });

  it("no circle among the modules' imports, type-only ones included", () => {
    const edges = new Map<string, string[]>();
    for (const i of local) {
      if (i.dynamic) continue;
      edges.set(i.module, [...(edges.get(i.module) ?? []), i.target]);
    }
    expect(circlesIn(edges)).toEqual([]);
  });

  it("the circle check finds a circle, however long", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
    ]);
    expect(circlesIn(graph)).toEqual(["a -> b -> c -> a"]);
    expect(
      circlesIn(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
        ]),
      ),
    ).toEqual([]);
  });

  it("import statements are classed as type-only exactly when they are", () => {
    const typeOnly = (line: string) => importsOf("x.ts", line)[0]!.typeOnly;
    expect(typeOnly('import type { A } from "./a.js";')).toBe(true);
    expect(typeOnly('import { type A, type B } from "./a.js";')).toBe(true);
    expect(typeOnly('import { a, type B } from "./a.js";')).toBe(false);
    expect(typeOnly('import x, { type B } from "./a.js";')).toBe(false);
    expect(typeOnly('import {\n  a,\n  b,\n} from "./a.js";')).toBe(false);
    expect(typeOnly('export { a } from "./a.js";')).toBe(false);
  });
});
