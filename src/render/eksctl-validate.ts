// Checks rendered documents against eksctl's own ClusterConfig JSON Schema (v0.230.0, vendored).
// Quirks of that schema (see src/vendor/eksctl-v0.230.0/README.md): it only compiles with
// `strict: false`; its `default`s have wrong types, so `useDefaults` must stay off (ajv would
// otherwise write them into our documents). The validator is generated ahead of time
// (eksctl-validator-build.ts); compiling the schema is the fallback when that file is missing.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";
import { ajvOptions, GENERATED_VALIDATOR } from "./eksctl-validator-build.js";
import { eksctlSchemaPath, packageRoot } from "../core/package-root.js";

export interface SchemaFinding {
  path: (string | number)[];
  message: string;
}

let validator: ValidateFunction | undefined;

/** Compiles the vendored schema at runtime: slow, but always matches the schema file. */
export function compileValidatorAtRuntime(): ValidateFunction {
  const require = createRequire(import.meta.url);
  const AjvClass = require("ajv") as typeof import("ajv").default;
  return new AjvClass({ ...ajvOptions }).compile(JSON.parse(readFileSync(eksctlSchemaPath(), "utf8")) as object);
}

/** Loaded once, at the first validation, so commands that never validate do not pay for it. */
export async function loadValidator(): Promise<ValidateFunction> {
  if (validator) return validator;
  const generated = path.join(packageRoot(), GENERATED_VALIDATOR);
  if (existsSync(generated)) {
    const { pathToFileURL } = await import("node:url");
    validator = ((await import(pathToFileURL(generated).href)) as { default: ValidateFunction }).default;
  } else {
    validator = compileValidatorAtRuntime();
  }
  return validator;
}

function compiledValidator(): ValidateFunction {
  validator ??= compileValidatorAtRuntime();
  return validator;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function describe(error: ErrorObject): SchemaFinding {
  const path = pointerToPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties":
      return { path: [...path, String(params.additionalProperty)], message: "is not a field eksctl knows here" };
    case "required":
      return { path: [...path, String(params.missingProperty)], message: "is required by eksctl" };
    case "enum":
      return { path, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    default:
      return { path, message: error.message ?? `fails ${error.keyword}` };
  }
}

export function validateAgainstEksctlSchema(document: unknown): SchemaFinding[] {
  const validate = compiledValidator();
  if (validate(document)) return [];
  const seen = new Set<string>();
  const findings: SchemaFinding[] = [];
  for (const error of validate.errors ?? []) {
    const finding = describe(error);
    const key = `${JSON.stringify(finding.path)} ${finding.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push(finding);
    }
  }
  return findings;
}
