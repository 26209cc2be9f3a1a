import { readFile } from "node:fs/promises";
import path from "node:path";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  DEFAULTS_SCHEMA_FILE,
  defaultsSchemaText,
  ENVIRONMENT_SCHEMA_FILE,
  environmentSchemaText,
  REGENERATE_COMMAND,
} from "../../../src/config/json-schema.js";
import { repoRoot } from "./project-fixture.js";

const require = createRequire(import.meta.url);
const Ajv2020 = require("ajv/dist/2020") as typeof import("ajv/dist/2020.js").default;

describe("the editor JSON Schemas", () => {
  it.each([
    [ENVIRONMENT_SCHEMA_FILE, environmentSchemaText],
    [DEFAULTS_SCHEMA_FILE, defaultsSchemaText],
  ])("%s is up to date with src/config/schema.ts", async (file, generate) => {
    const committed = await readFile(path.join(repoRoot, file), "utf8");
    expect(committed === generate(), `${file} is stale: run \`${REGENERATE_COMMAND}\``).toBe(true);
  });

  it("every sample file points the editor at its schema, and passes it", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const envSchema = ajv.compile(JSON.parse(await readFile(path.join(repoRoot, ENVIRONMENT_SCHEMA_FILE), "utf8")));
    const defaultsSchema = ajv.compile(JSON.parse(await readFile(path.join(repoRoot, DEFAULTS_SCHEMA_FILE), "utf8")));
    for (const name of ["prod", "stg", "test", "local"]) {
      const text = await readFile(path.join(repoRoot, `config/environments/${name}.yaml`), "utf8");
      expect(text.split("\n")[0]).toBe("# yaml-language-server: $schema=../schema/environment.schema.json");
      expect(envSchema(parse(text)), JSON.stringify(envSchema.errors)).toBe(true);
    }
    const defaults = await readFile(path.join(repoRoot, "config/defaults.yaml"), "utf8");
    expect(defaults.split("\n")[0]).toBe("# yaml-language-server: $schema=schema/defaults.schema.json");
    expect(defaultsSchema(parse(defaults)), JSON.stringify(defaultsSchema.errors)).toBe(true);
  });

  it("flags unknown keys and wrong types in the editor too", async () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    const envSchema = ajv.compile(JSON.parse(environmentSchemaText()));
    const base = { aws: { region: "ap-northeast-1", accountId: "111111111111" }, worker: { zones: ["ap-northeast-1b"] } };
    expect(envSchema(base)).toBe(true);
    expect(envSchema({ ...base, worker: { ...base.worker, desiredCapacty: 2 } })).toBe(false);
    expect(envSchema({ ...base, cluster: { version: 1.3 } })).toBe(false);
  });
});
