// The `yaml` library, loaded on first use: most files take the fast path (fast-yaml.ts), so a
// command often never needs it, and loading it costs tens of milliseconds.
import { createRequire } from "node:module";

type YamlLibrary = typeof import("yaml");

let loaded: YamlLibrary | undefined;

export function yamlLibrary(): YamlLibrary {
  loaded ??= createRequire(import.meta.url)("yaml") as YamlLibrary;
  return loaded;
}
