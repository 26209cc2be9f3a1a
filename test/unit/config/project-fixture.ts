// A throwaway project holding copies of the real config/ and templates/, to mutate per test.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { MemorySink } from "../../../src/core/events.js";
import { Interrupter } from "../../../src/core/interrupt.js";
import type { CommandContext } from "../../../src/core/context.js";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface Project {
  root: string;
  write(relative: string, text: string): Promise<void>;
  read(relative: string): Promise<string>;
  /** Edits a file with a function of its text. */
  edit(relative: string, change: (text: string) => string): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeProject(opts: { templates?: boolean } = {}): Promise<Project> {
  const root = await mkdtemp(path.join(os.tmpdir(), "eksbox-foundation-"));
  await cp(path.join(repoRoot, "config"), path.join(root, "config"), { recursive: true });
  if (opts.templates !== false) await cp(path.join(repoRoot, "templates"), path.join(root, "templates"), { recursive: true });
  const project: Project = {
    root,
    async write(relative, text) {
      await mkdir(path.dirname(path.join(root, relative)), { recursive: true });
      await writeFile(path.join(root, relative), text);
    },
    read: (relative) => readFile(path.join(root, relative), "utf8"),
    async edit(relative, change) {
      await project.write(relative, change(await project.read(relative)));
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  return project;
}

/** A minimal valid environment file, for tests that build their own. */
export const minimalEnv = `aws:
  region: ap-northeast-1
  accountId: "111111111111"
worker:
  zones: [ap-northeast-1b]
`;

export function commandContext(projectRoot: string, opts: { output?: "text" | "json"; processEnv?: NodeJS.ProcessEnv } = {}) {
  let out = "";
  const stdout = new Writable({
    write(chunk, _encoding, done) {
      out += String(chunk);
      done();
    },
  });
  const events = new MemorySink();
  const ctx: CommandContext = {
    projectRoot,
    events,
    interrupter: new Interrupter(),
    stdout,
    output: opts.output ?? "text",
    processEnv: opts.processEnv ?? {},
  };
  return { ctx, events, output: () => out };
}
