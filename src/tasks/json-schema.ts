// config/schema/tasks.schema.json, generated from schema.ts so editors and eksbox agree; a unit
// test fails when the committed file is stale. Regenerate with `npm run generate`.
import { tasksJsonSchema } from "./schema.js";

export const TASKS_SCHEMA_FILE = "config/schema/tasks.schema.json";
export const REGENERATE_TASKS_SCHEMA = "npm run generate";

export function tasksSchemaText(): string {
  return `${JSON.stringify(tasksJsonSchema(), null, 2)}\n`;
}
