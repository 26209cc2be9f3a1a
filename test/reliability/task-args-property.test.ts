// Cross-check of the shell rendering at the CLI level, in the real toolbox: arbitrary strings given
// to a user task reach its script (`for v in {{ args.values }}`) and its argv step unchanged, one
// word each: no splitting, globbing, command substitution or template re-rendering on the way.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureTestToolboxImage } from "../support/test-toolbox.js";
import { makeTestProject, removeOurContainers, type TestProject } from "./support/project.js";
import { recordCount } from "./support/counts.js";

const ENV = "chaos-args";
let project: TestProject;
let image: string;
let valuesChecked = 0;

const TASKS = `tasks:
  echo-args:
    description: write each argument, NUL-terminated, from a script and from an argv step
    preflight: false
    parameters:
    - name: values
      type: list
      required: true
    steps:
    - id: script
      script: |
        for v in {{ args.values }}; do printf '%s\\0' "$v"; done > out/script.bin
    - id: argv
      needs: [script]
      run: [sh, -c, 'printf "%s\\0" "$@" > out/argv.bin', sh, "{{ args.values }}"]
`;

beforeAll(async () => {
  image = await ensureTestToolboxImage();
  project = await makeTestProject("eksbox-args-prop-");
  await project.writeEnv(ENV);
  await writeFile(join(project.root, "config", "tasks.yaml"), TASKS);
}, 900_000);
afterAll(async () => {
  recordCount("task arguments round-tripped through the shell", valuesChecked);
  await removeOurContainers([ENV]);
  await project?.cleanup();
});

// argv cannot carry NUL, and only what survives UTF-8 can reach a process.
const argument = fc
  .oneof(
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.string({ unit: fc.constantFrom(..."$`\"'\\;|&<>(){}[]*?!~#%= \t\n-".split("")), maxLength: 10 }),
    fc.constantFrom("$(id)", "`id`", "${HOME}", "*", "-n", "--help", "{{ env }}", "{% raw %}", "a b", "", "'", '"'),
  )
  .filter((v) => !v.includes("\0") && Buffer.from(v, "utf8").toString("utf8") === v);

const decode = (bytes: string) => bytes.split("\0").slice(0, -1);

it("arbitrary task arguments reach the script and the argv step exactly", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(argument, { minLength: 1, maxLength: 10 }), async (values) => {
      await rm(join(project.root, "out"), { recursive: true, force: true });
      await mkdir(join(project.root, "out"));
      const result = await project.run(["echo-args", "--env", ENV, "--", ...values], { env: { EKSBOX_IMAGE: image }, timeoutMs: 120_000 });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(decode(await readFile(join(project.root, "out", "script.bin"), "utf8"))).toEqual(values);
      expect(decode(await readFile(join(project.root, "out", "argv.bin"), "utf8"))).toEqual(values);
      valuesChecked += values.length;
    }),
    { numRuns: 8 },
  );
});
