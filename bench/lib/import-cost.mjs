// Time to import one module in a fresh node process (everything it pulls in included), printed as
// {"ms": ...}. Usage: node bench/lib/import-cost.mjs SPECIFIER [EXPORT]   (a package name or a file
// path; EXPORT: a function of the module to call too, for modules that load their library on first use)
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";

const [specifier, exportToCall] = process.argv.slice(2);
const start = performance.now();
const module = await import(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier);
if (exportToCall) module[exportToCall]();
process.stdout.write(JSON.stringify({ ms: performance.now() - start }) + "\n");
