import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REGENERATE_COMMAND } from "../../../src/config/json-schema.js";
import { CONFIG_REFERENCE_FILE, configReferenceText } from "../../../src/config/reference-doc.js";
import { repoRoot } from "./project-fixture.js";

describe("the config reference page", () => {
  it(`${CONFIG_REFERENCE_FILE} is up to date with src/config/schema.ts`, async () => {
    const committed = await readFile(path.join(repoRoot, CONFIG_REFERENCE_FILE), "utf8");
    expect(committed === configReferenceText(), `${CONFIG_REFERENCE_FILE} is stale: run \`${REGENERATE_COMMAND}\``).toBe(true);
  });

  it("lists every key with its type, default, allowed values and the schema's description", () => {
    const page = configReferenceText();
    expect(page).toContain(
      "| `aws.assumeRole.durationSeconds` | integer |  | `3600` | ≥ 900; ≤ 43200 | How long each assumed session lasts; eksbox renews it before it ends. |",
    );
    expect(page).toContain("| `worker.zones` | list of string | yes |");
    expect(page).toContain("`selfManaged`, `managed`");
    expect(page).toContain("| `gitops.tokenEnv` |");
  });
});
