// Time to import one module in a fresh node process (everything it pulls in included), printed as
// {"ms": ...}. Usage: node bench/lib/import-cost.mjs SPECIFIER   (a package name or a file path)
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";

const specifier = process.argv[2];
const start = performance.now();
await import(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier);
process.stdout.write(JSON.stringify({ ms: performance.now() - start }) + "\n");
