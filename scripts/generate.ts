// npm run generate: writes every committed file that is generated from the source, each checked
// by a unit test that fails when it is stale:
//   config/schema/{environment,defaults,tasks}.schema.json  from the zod schemas (editor completion)
//   docs/config-reference.md                                from the zod schema (every key, documented)
//   generated/eksctl-validator.mjs                          from the vendored eksctl JSON Schema
import { writeFileSync } from "node:fs";
import path from "node:path";
import { writeJsonSchemas } from "../src/config/json-schema.js";
import { CONFIG_REFERENCE_FILE, configReferenceText } from "../src/config/reference-doc.js";
import { packageRoot } from "../src/core/package-root.js";
import { GENERATED_VALIDATOR, generateValidatorSource } from "../src/render/eksctl-validator-build.js";
import { TASKS_SCHEMA_FILE, tasksSchemaText } from "../src/tasks/json-schema.js";

const root = packageRoot();
const written = await writeJsonSchemas(root);
writeFileSync(path.join(root, TASKS_SCHEMA_FILE), tasksSchemaText());
writeFileSync(path.join(root, CONFIG_REFERENCE_FILE), configReferenceText());
writeFileSync(path.join(root, GENERATED_VALIDATOR), generateValidatorSource());
for (const file of [...written, TASKS_SCHEMA_FILE, CONFIG_REFERENCE_FILE, GENERATED_VALIDATOR]) console.log(`wrote ${file}`);
