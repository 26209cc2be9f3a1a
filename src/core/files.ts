import { access, constants, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { UserError } from "./errors.js";

const writeProblems: Record<string, string> = {
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "a directory on its path is a file",
  EEXIST: "a directory on its path is a file",
};

/** mkdir -p on a read-only mount reports ENOENT: ask the nearest directory that exists why. */
async function whyNotWritable(dir: string): Promise<string | undefined> {
  for (let d = dir; ; d = dirname(d)) {
    const s = await stat(d).catch(() => undefined);
    if (s && !s.isDirectory()) return "ENOTDIR";
    if (s)
      return access(d, constants.W_OK).then(
        () => undefined,
        (e: NodeJS.ErrnoException) => e.code,
      );
    if (dirname(d) === d) return undefined;
  }
}

async function writeError(path: string, error: unknown): Promise<unknown> {
  let code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") code = (await whyNotWritable(dirname(path))) ?? code;
  const reason = code ? writeProblems[code] : undefined;
  if (!reason) return error;
  return new UserError(`cannot write ${relative(process.cwd(), path)}: ${reason}`, {
    hint: "make build/ a writable directory with free space (df -h build)",
    cause: error,
  });
}

/**
 * Writes through a temp file in the same directory and renames it into place, so a crash, a full
 * disk or Ctrl-C never leaves a half-written file behind.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (error) {
    throw await writeError(path, error);
  }
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw await writeError(path, error);
  }
}

/** Keeps a small JSON state file: written atomically, or removed when there is nothing to keep. */
export async function writeJsonState(path: string, state: unknown): Promise<void> {
  if (state === undefined) await rm(path, { force: true });
  else await writeFileAtomic(path, JSON.stringify(state, null, 2) + "\n");
}
