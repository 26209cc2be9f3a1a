// The exit code of an exec, read back from the engine once it has recorded it.
import type Dockerode from "dockerode";
import { UnavailableError } from "../core/errors.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The exec's exit code once the engine has recorded it; 137 when the container went away under it. */
export async function execExitCode(exec: Dockerode.Exec): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    let info: Dockerode.ExecInspectInfo;
    try {
      info = await exec.inspect();
    } catch (error) {
      // 404: the container is gone (killed from outside). No status at all: the engine is gone.
      if ((error as { statusCode?: number }).statusCode !== undefined) return 137;
      throw new UnavailableError(
        `lost the connection to the Docker engine while a step ran (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        {
          hint: "check the engine (docker info), then resume; the next run removes the container left behind",
        },
      );
    }
    if (!info.Running) return info.ExitCode ?? 137;
    await sleep(attempt < 20 ? 25 : 100);
  }
  return 137;
}
