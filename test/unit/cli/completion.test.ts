// `eksbox completion bash`, sourced in a real bash, asked with compgen through the completion
// function it registers: commands, flags, environment names and the project's own tasks.
import { chmod, cp, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, repoRoot } from "../../support/cli.js";

let project: string;
let bin: string;

beforeAll(async () => {
  const cli = await ensureBuilt();
  project = await mkdtemp(join(tmpdir(), "eksbox-completion-"));
  await cp(join(repoRoot, "config"), join(project, "config"), { recursive: true });
  await cp(join(repoRoot, "test/fixtures/tasks/tasks.yaml"), join(project, "config/tasks.yaml"));
  bin = join(project, ".bin");
  await mkdir(bin);
  await writeFile(join(bin, "eksbox"), `#!/bin/sh\nexec node ${JSON.stringify(cli)} "$@"\n`);
  await chmod(join(bin, "eksbox"), 0o755);
}, 120_000);

/** The completions bash offers for a command line whose last word is being typed. */
async function complete(line: string): Promise<string[]> {
  const words = line.split(" ");
  const script = [
    "source <(eksbox completion bash)",
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})`,
    `COMP_CWORD=${words.length - 1}`,
    // What bash runs on TAB: the function `complete -F` registered for eksbox.
    `fn=$(complete -p eksbox | sed -n 's/.*-F \\([^ ]*\\).*/\\1/p')`,
    '"$fn" eksbox "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join("\n");
  const result = await execa("bash", ["-c", script], { cwd: project, env: { PATH: `${bin}:${process.env.PATH}` } });
  return result.stdout.split("\n").filter(Boolean).sort();
}

describe("eksbox completion bash", () => {
  it("completes commands, with the project's tasks", async () => {
    const top = await complete("eksbox ");
    for (const name of ["born", "destroy", "nodegroup", "plan", "upgrade", "validate", "completion", "greet"]) expect(top).toContain(name);
    expect(top).not.toContain("__complete");
    expect(await complete("eksbox de")).toEqual(["destroy"]);
    expect(await complete("eksbox nodegroup ")).toEqual(["roll"]);
  });

  it("completes flags of the command being typed", async () => {
    const flags = await complete("eksbox nodegroup roll --");
    for (const flag of ["--to-version", "--yes", "--allow-protected", "--env", "--ready-timeout", "--set"]) expect(flags).toContain(flag);
    expect(await complete("eksbox destroy --allow")).toEqual(["--allow-protected"]);
  });

  it("completes environment names after --env and for env set", async () => {
    expect(await complete("eksbox born --env ")).toEqual(["local", "prod", "stg", "test"]);
    expect(await complete("eksbox -e s")).toEqual(["stg"]);
    expect(await complete("eksbox env set p")).toEqual(["prod"]);
    expect(await complete("eksbox --output ")).toEqual(["json", "text"]);
  });

  it("completes task names for plan, built-in and the project's", async () => {
    const tasks = await complete("eksbox plan ");
    for (const name of ["born", "roll", "destroy", "upgrade", "greet"]) expect(tasks).toContain(name);
  });

  it("prints scripts for zsh and fish too, and refuses another shell", async () => {
    const run = (shell: string) => execa(join(bin, "eksbox"), ["completion", shell], { cwd: project, reject: false });
    expect((await run("zsh")).stdout).toMatch(/compdef _eksbox eksbox/);
    expect((await run("fish")).stdout).toMatch(/complete -c eksbox -f -a '\(__eksbox_complete\)'/);
    const tcsh = await run("tcsh");
    expect(tcsh.exitCode).toBe(2);
    expect(tcsh.stderr).toMatch(/eksbox completion bash\|zsh\|fish/);
  });
});
