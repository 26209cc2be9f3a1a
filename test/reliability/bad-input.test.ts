// The bad-input corpus (test/fixtures/bad-input/cases.yaml) through the built CLI: every broken
// config, tasks or template file must end in exit 2 with a located message, never a stack trace,
// an internal error or a hang. Cases marked `bug:` are known product bugs (see the report).
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envYaml, filesUnder, makeTestProject, repoRoot, STACK_FRAME, type CliResult, type TestProject } from "./support/project.js";
import { recordCount } from "./support/counts.js";

const corpusDir = join(repoRoot, "test", "fixtures", "bad-input");
const PER_CASE_TIMEOUT_MS = 15_000;

interface FileCase {
  file: string;
  expect: string;
  at: string;
  bug?: string;
}
interface NameCase {
  name: string;
  from: "flag" | "EKSBOX_ENV" | "stored";
}
const corpus = parse(await readFile(join(corpusDir, "cases.yaml"), "utf8")) as {
  env: FileCase[];
  tasks: FileCase[];
  templates: FileCase[];
  envNames: NameCase[];
};

// One fresh project per case, so the cases run side by side (each is mostly Node start-up).
let project: TestProject;
const projects: TestProject[] = [];
async function freshProject(): Promise<TestProject> {
  const p = await makeTestProject("eksbox-bad-input-");
  projects.push(p);
  await p.writeEnv("good");
  await cp(join(corpusDir, "outside", "templates-private"), join(p.root, "templates-private"), { recursive: true });
  return p;
}

beforeAll(async () => {
  project = await freshProject();
});
afterAll(async () => {
  recordCount("bad input files", corpus.env.length + corpus.tasks.length + corpus.templates.length + 2);
  recordCount("bad env names", corpus.envNames.length);
  await Promise.all(projects.map((p) => p.cleanup()));
});

function expectCleanRefusal(result: CliResult, fragment: string, location: string): void {
  const output = `${result.stdout}\n${result.stderr}`;
  expect(result.timedOut, "the command hung").toBe(false);
  expect(output).not.toContain("internal error");
  expect(output).not.toMatch(STACK_FRAME);
  expect(result.exitCode, output).toBe(2);
  expect(result.stderr).toContain(fragment);
  expect(result.stderr).toContain(location);
}

const fileCase = (c: FileCase) => (c.bug ? it.fails : it);

describe.concurrent("broken environment files: validate", () => {
  for (const c of corpus.env) {
    const name = c.file.replace(/\.yaml$/, "");
    fileCase(c)(`${c.file}${c.bug ? ` (known bug: ${c.bug})` : ""}`, async () => {
      const project = await freshProject();
      await cp(join(corpusDir, "env", c.file), join(project.root, "config", "environments", c.file));
      try {
        const result = await project.run(["validate", "--env", name], { timeoutMs: PER_CASE_TIMEOUT_MS });
        expectCleanRefusal(result, c.expect, c.at);
      } finally {
        await rm(join(project.root, "config", "environments", c.file), { force: true });
      }
    });
  }

  // Generated rather than stored (3 MB of indentation, under the 4 MiB limit): 2500 nested maps.
  it("block maps nested 2500 deep", async () => {
    const project = await freshProject();
    const nested = Array.from({ length: 2500 }, (_, i) => `${" ".repeat(i + 1)}k:\n`).join("");
    await writeFile(
      join(project.root, "config", "environments", "deep-block.yaml"),
      `${envYaml()}\ndeep:\n${nested}${" ".repeat(2501)}k: 1\n`,
    );
    const result = await project.run(["validate", "--env", "deep-block"], { timeoutMs: PER_CASE_TIMEOUT_MS });
    expectCleanRefusal(result, "nest", "config/environments/deep-block.yaml:");
  });

  // Generated rather than stored: 8 MB of labels. A config file that large is a mistake (or an
  // attack); it should be refused at once instead of parsed and validated for seconds.
  it("a huge file is refused quickly, naming the file and its size", async () => {
    const labels = Array.from({ length: 130_000 }, (_, i) => `    l${i}: "${"v".repeat(50)}"\n`).join("");
    await writeFile(join(project.root, "config", "environments", "huge.yaml"), `${envYaml()}\n  labels:\n${labels}`);
    try {
      const result = await project.run(["validate", "--env", "huge"], { timeoutMs: PER_CASE_TIMEOUT_MS });
      expectCleanRefusal(result, "MiB", "config/environments/huge.yaml");
    } finally {
      await rm(join(project.root, "config", "environments", "huge.yaml"), { force: true });
    }
  });
});

describe.concurrent("broken config/tasks.yaml: task list", () => {
  for (const c of corpus.tasks) {
    fileCase(c)(`${c.file}${c.bug ? ` (known bug: ${c.bug})` : ""}`, async () => {
      const project = await freshProject();
      await cp(join(corpusDir, "tasks", c.file), join(project.root, "config", "tasks.yaml"));
      try {
        const result = await project.run(["task", "list"], { timeoutMs: PER_CASE_TIMEOUT_MS });
        expectCleanRefusal(result, c.expect, c.at);
      } finally {
        await rm(join(project.root, "config", "tasks.yaml"), { force: true });
      }
    });
  }

  it("a task step that includes a file outside templates/ is refused before anything runs", async () => {
    await writeFile(
      join(project.root, "config", "tasks.yaml"),
      'tasks:\n  peek:\n    description: tries to read /etc/passwd\n    steps:\n    - id: a\n      run: ["{% include \\"/etc/passwd\\" %}"]\n',
    );
    try {
      const result = await project.run(["peek", "--env", "good"], { timeoutMs: PER_CASE_TIMEOUT_MS });
      expectCleanRefusal(result, "template not found", "tasks.peek.steps[0]");
      expect(result.stderr).not.toContain("root:x:0:0");
    } finally {
      await rm(join(project.root, "config", "tasks.yaml"), { force: true });
    }
  });
});

describe.concurrent("broken templates: generate", () => {
  for (const c of corpus.templates) {
    fileCase(c)(`${c.file}${c.bug ? ` (known bug: ${c.bug})` : ""}`, async () => {
      const project = await freshProject();
      const template = () => join(project.root, "templates", "cluster.yaml.njk");
      await cp(join(corpusDir, "templates", c.file), template());
      try {
        const result = await project.run(["generate", "--env", "good"], { timeoutMs: PER_CASE_TIMEOUT_MS });
        expectCleanRefusal(result, c.expect, c.at);
        // Nothing from outside templates/ may reach the output or build/.
        const built = await Promise.all((await filesUnder(join(project.root, "build"))).map((f) => readFile(f, "utf8")));
        for (const text of [result.stdout, result.stderr, ...built]) {
          expect(text).not.toContain("root:x:0:0");
          expect(text).not.toContain("leaked-from-outside-templates");
        }
      } finally {
        await cp(join(repoRoot, "templates", "cluster.yaml.njk"), template());
        await rm(join(project.root, "build"), { recursive: true, force: true });
      }
    });
  }
});

describe.concurrent("environment names with path tricks", () => {
  for (const c of corpus.envNames) {
    it(`${JSON.stringify(c.name).slice(0, 40)} from ${c.from} is refused`, async () => {
      const project = await freshProject();
      const env: Record<string, string> = {};
      const args = ["generate"];
      if (c.from === "flag") args.push("--env", c.name);
      if (c.from === "EKSBOX_ENV") env.EKSBOX_ENV = c.name;
      if (c.from === "stored") {
        await mkdir(join(project.root, ".eksbox"), { recursive: true });
        await writeFile(join(project.root, ".eksbox", "env"), `${c.name}\n`);
      }
      try {
        const result = await project.run(args, { env, timeoutMs: PER_CASE_TIMEOUT_MS });
        const from = { flag: "(from --env)", EKSBOX_ENV: "(from EKSBOX_ENV)", stored: "(from .eksbox/env)" }[c.from];
        expectCleanRefusal(result, "invalid environment name", from);
        expect(await filesUnder(join(project.root, "build"))).toEqual([]);
      } finally {
        await rm(join(project.root, ".eksbox"), { recursive: true, force: true });
      }
    });
  }
});
