// config/schema/tasks.schema.json, generated from schema.ts so editors and eksbox agree; a unit
// test fails when the committed file is stale. Regenerate with:
//   npx tsx src/tasks/json-schema.ts
import path from "node:path";
import { pathToFileURL } from "node:url";
import { writeFileAtomic } from "../core/files.js";
import { tasksJsonSchema } from "./schema.js";

export const TASKS_SCHEMA_FILE = "config/schema/tasks.schema.json";
export const REGENERATE_TASKS_SCHEMA = "npx tsx src/tasks/json-schema.ts";

export function tasksSchemaText(): string {
  return `${JSON.stringify(tasksJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { packageRoot } = await import("../core/package-root.js");
  await writeFileAtomic(path.join(packageRoot(), TASKS_SCHEMA_FILE), tasksSchemaText());
  console.log(`wrote ${TASKS_SCHEMA_FILE}`);
}
