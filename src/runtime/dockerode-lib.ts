// dockerode, without paying at start-up for what a local engine never uses: docker-modem loads
// ssh2 (for ssh:// engines) and dockerode loads gRPC (for BuildKit sessions) when imported, which is
// most of dockerode's import time. Both are replaced by stand-ins that load the real module on
// first call, so ssh:// engines and BuildKit sessions still work, only later.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

type DockerodeClass = typeof import("dockerode");

const require = createRequire(import.meta.url);
let loaded: DockerodeClass | undefined;

function deferModule(path: string): void {
  if (require.cache[path]) return;
  let real: ((...args: unknown[]) => unknown) | undefined;
  const standIn = {
    id: path,
    filename: path,
    loaded: true,
    children: [],
    paths: [],
    exports: function deferred(this: unknown, ...args: unknown[]) {
      if (!real) {
        delete require.cache[path];
        real = require(path) as (...args: unknown[]) => unknown;
      }
      return real.apply(this, args);
    },
  };
  require.cache[path] = standIn as unknown as NodeJS.Module;
}

export function dockerodeClass(): DockerodeClass {
  if (loaded) return loaded;
  const dockerodeDir = dirname(require.resolve("dockerode"));
  deferModule(join(dockerodeDir, "session.js"));
  const modemDir = dirname(require.resolve("docker-modem", { paths: [dockerodeDir] }));
  deferModule(join(modemDir, "ssh.js"));
  loaded = require("dockerode") as DockerodeClass;
  return loaded;
}
