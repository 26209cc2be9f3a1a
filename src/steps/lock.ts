// One run per environment at a time. The lock is a file created with O_EXCL, holding who took it;
// a lock whose process is gone from this host is stale and is taken over.
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { eksboxPaths } from "../core/layout.js";
import { processIsAlive } from "../core/process.js";

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  runId: string;
  task: string;
}

export interface EnvLock {
  readonly path: string;
  /** Set when a stale lock was taken over, so the caller can say so. */
  readonly tookOverFrom?: LockHolder;
  release(): Promise<void>;
}

export function lockPath(projectRoot: string, envName: string): string {
  return join(projectRoot, eksboxPaths.lock(envName));
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as LockHolder;
  } catch {
    return undefined;
  }
}

export async function acquireEnvLock(projectRoot: string, envName: string, who: { runId: string; task: string }): Promise<EnvLock> {
  const path = lockPath(projectRoot, envName);
  await mkdir(join(projectRoot, eksboxPaths.locksDir), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...who };
  let tookOverFrom: LockHolder | undefined;

  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, "wx");
      try {
        await handle.writeFile(JSON.stringify(me, null, 2) + "\n");
      } finally {
        await handle.close();
      }
      return {
        path,
        tookOverFrom,
        release: async () => {
          const holder = await readHolder(path);
          if (holder?.runId === me.runId) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = await readHolder(path);
    const stale = holder === undefined || (holder.host === me.host && !processIsAlive(holder.pid));
    if (!stale) {
      throw new UserError(
        `environment ${envName} is locked by another run: ${holder.task} (run ${holder.runId}), pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}`,
        {
          hint:
            holder.host === me.host
              ? `wait for it to finish, or stop it (kill -INT ${holder.pid})`
              : `it runs on another host; if it is certainly gone, delete ${path}`,
        },
      );
    }
    tookOverFrom = holder;
    // Move the stale file aside rather than deleting it, so two runs taking over at once cannot
    // both succeed: only one rename of the same file wins, the other retries the exclusive create.
    const aside = `${path}.stale-${process.pid}`;
    try {
      await rename(path, aside);
      await rm(aside, { force: true });
    } catch {
      // Someone else moved it first; retry the exclusive create.
    }
  }
  throw new UserError(`could not take the lock for environment ${envName}`, { hint: `check ${path}` });
}

/** For tests and `eksbox status`: who holds the lock now, if anyone. */
export async function currentLockHolder(projectRoot: string, envName: string): Promise<LockHolder | undefined> {
  return readHolder(lockPath(projectRoot, envName));
}
