// The `yaml` library, the one YAML parser of eksbox. A static import lets esbuild bundle it into one chunk of
// dist/: loaded through createRequire it was yaml's CommonJS build, about 70 files read one by one.
import * as yaml from "yaml";

type YamlLibrary = typeof import("yaml");

export function yamlLibrary(): YamlLibrary {
  return yaml;
}
