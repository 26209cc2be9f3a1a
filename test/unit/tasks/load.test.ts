import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/core/errors.js";
import { parseYamlSource } from "../../../src/config/yaml-source.js";
import { argumentSpecs, bindArguments } from "../../../src/tasks/args.js";
import { parseTasksSource } from "../../../src/tasks/load.js";
import { tasksSchemaText, REGENERATE_TASKS_SCHEMA, TASKS_SCHEMA_FILE } from "../../../src/tasks/json-schema.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");
const parse = (text: string) => parseTasksSource(parseYamlSource(text, "config/tasks.yaml"));

function problems(text: string): string[] {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map(
      (i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}${i.hint ? ` (${i.hint})` : ""}`,
    );
  }
  throw new Error("expected problems");
}

describe("config/tasks.yaml", () => {
  it("reads the sample file in config/", async () => {
    const file = parse(await readFile(join(repoRoot, "config/tasks.yaml"), "utf8"));
    expect(Object.keys(file.tasks)).toEqual(["smoke-test", "install-addon", "weekly-roll"]);
    expect(file.tasks["smoke-test"]!.options.timeout).toMatchObject({ type: "number", default: 120, required: false });
  });

  it("names file, line, column and key for a misspelt key, with a suggestion", () => {
    expect(
      problems(`tasks:
  hello:
    description: hi
    steps:
    - id: a
      runn: [echo, hi]
`),
    ).toEqual(["config/tasks.yaml:6:7: tasks.hello.steps[0].runn: unknown key (did you mean `run`?)"]);
  });

  it("reports a step that does two things, and a bad type, at their lines", () => {
    expect(
      problems(`tasks:
  hello:
    description: hi
    concurrency: two
    steps:
    - id: a
      run: [echo]
      script: echo
`),
    ).toEqual(["config/tasks.yaml:4:5: tasks.hello.concurrency: Invalid input: expected number, received string"]);
    expect(
      problems(`tasks:
  hello:
    description: hi
    steps:
    - id: a
      run: [echo]
      script: echo
`),
    ).toEqual(["config/tasks.yaml:5:7: tasks.hello.steps[0]: a step does one thing; it has run and script"]);
  });

  it("names a cycle in needs", () => {
    expect(
      problems(`tasks:
  loop:
    description: goes round
    steps:
    - id: a
      needs: [c]
      run: [echo, a]
    - id: b
      needs: [a]
      run: [echo, b]
    - id: c
      needs: [b]
      run: [echo, c]
`),
    ).toEqual([
      "config/tasks.yaml:6:7: tasks.loop.steps[0].needs: the steps' needs form a cycle: a -> c -> b -> a (remove one of these needs)",
    ]);
  });

  it("names a cycle of tasks calling each other", () => {
    expect(
      problems(`tasks:
  one:
    description: calls two
    steps: [{ id: x, task: two }]
  two:
    description: needs one
    needs: [one]
    steps: [{ id: y, run: [echo] }]
`),
    ).toEqual([
      "config/tasks.yaml:2:3: tasks.one: tasks call each other in a cycle: one -> two -> one (break the cycle: one of them must not call or need the next)",
    ]);
  });

  it("refuses a name that clashes with a built-in, unknown steps and tasks, and destroy", () => {
    expect(
      problems(`tasks:
  upgrade:
    description: mine
    steps: [{ id: a, run: [echo] }]
  ok:
    description: fine
    options:
      env: { type: string }
    steps:
    - { id: a, needs: [bb], run: [echo] }
    - { id: b, task: rol }
    - { id: c, task: destroy }
`),
    ).toEqual([
      "config/tasks.yaml:2:3: tasks.upgrade: task upgrade clashes with the built-in command `eksbox upgrade` (rename the task)",
      "config/tasks.yaml:8:7: tasks.ok.options.env: --env is an eksbox option; choose another name",
      "config/tasks.yaml:11:16: tasks.ok.steps[1].task: unknown task rol (did you mean roll?)",
      "config/tasks.yaml:12:16: tasks.ok.steps[2].task: destroy cannot be called from a task (it asks for confirmation and guards protected environments: run eksbox destroy)",
      "config/tasks.yaml:10:24: tasks.ok.steps[0].needs[0]: unknown step bb (did you mean b?)",
    ]);
  });

  it("checks that defaults fit their types and enums have values", () => {
    expect(
      problems(`tasks:
  t:
    description: d
    parameters:
    - { name: count, type: number, default: "three" }
    options:
      level: { type: enum }
      mode: { type: enum, values: [fast, slow], default: medium }
    steps: [{ id: a, run: [echo] }]
`),
    ).toEqual([
      'config/tasks.yaml:5:36: tasks.t.parameters[0].default: the default "three" is not a number',
      "config/tasks.yaml:7:7: tasks.t.options.level: an enum needs `values` (values: [first, second])",
      'config/tasks.yaml:8:49: tasks.t.options.mode.default: the default "medium" is not one of fast, slow',
    ]);
  });

  it("reports YAML syntax errors with their line", () => {
    expect(problems("tasks:\n  a: [unclosed\n")[0]).toMatch(/^config\/tasks\.yaml:\d+:\d+: .*YAML syntax/);
  });
});

describe("arguments", () => {
  const file = parse(`tasks:
  t:
    description: d
    parameters:
    - { name: namespace, required: true }
    options:
      timeout: { type: number, default: 60 }
      level: { type: enum, values: [low, high], required: true }
      dry-run: { type: boolean, default: false }
      tag: { type: list }
    steps: [{ id: a, run: [echo] }]
`);
  const specs = argumentSpecs(file.tasks.t!);

  it("names a missing required option with its type", () => {
    expect(() => bindArguments("t", specs, { namespace: "x" })).toThrow(
      expect.objectContaining({
        message: "task t: missing required option --level <low|high>",
        hint: "usage: eksbox t <namespace> [--timeout <number>] --level <low|high> [--dry-run] [--tag <string>...]",
      }),
    );
    expect(() => bindArguments("t", specs, {})).toThrow(
      "task t: missing required parameter <namespace> (string), option --level <low|high>",
    );
  });

  it("coerces command-line strings to the declared types and fills defaults", () => {
    expect(bindArguments("t", specs, { namespace: "ns", level: "high", timeout: "5", tag: ["a", "b c"] })).toEqual({
      namespace: "ns",
      level: "high",
      timeout: 5,
      "dry-run": false,
      tag: ["a", "b c"],
    });
  });

  it("refuses values of the wrong type, naming the option and the accepted values", () => {
    expect(() => bindArguments("t", specs, { namespace: "ns", level: "mid" })).toThrow(
      'task t: option --level: "mid" is not one of low, high',
    );
    expect(() => bindArguments("t", specs, { namespace: "ns", level: "low", timeout: "soon" })).toThrow(
      'task t: option --timeout: "soon" is not a number',
    );
    expect(() => bindArguments("t", specs, { namespace: "ns", level: "low", colour: "red" })).toThrow(
      'task t has no parameter or option "colour"',
    );
  });
});

describe("JSON Schema", () => {
  it(`${TASKS_SCHEMA_FILE} is current (regenerate: ${REGENERATE_TASKS_SCHEMA})`, async () => {
    expect(await readFile(join(repoRoot, TASKS_SCHEMA_FILE), "utf8")).toBe(tasksSchemaText());
  });
});
