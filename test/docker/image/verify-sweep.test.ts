// A container `image verify` leaves behind (its eksbox process crashed between create and remove)
// carries the labels the sweeper looks for, so the next run removes it.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { sweepStaleContainers } from "../../../src/runtime/labels.js";
import { docker, ensureTestImage } from "../runtime/support.js";

const repoRoot = new URL("../../../", import.meta.url).pathname;

describe("image verify's throwaway containers", () => {
  it("one left by a process that died is swept", async () => {
    const image = await ensureTestImage();
    // A separate process creates the container as runInImage does, then exits without removing it.
    const code = `
      import Dockerode from "dockerode";
      import { throwawayContainerSpec } from "./src/runtime/run-in-image.ts";
      const docker = new Dockerode({ socketPath: "/var/run/docker.sock" });
      const container = await docker.createContainer(throwawayContainerSpec(${JSON.stringify(image)}, ["true"]));
      console.log(container.id);
    `;
    const id = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: repoRoot,
      encoding: "utf8",
    }).trim();
    try {
      expect((await docker.getContainer(id).inspect()).Config.Labels["io.eksbox.purpose"]).toBe("image-verify");
      expect(await sweepStaleContainers(docker)).toContain(id);
      await expect(docker.getContainer(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    } finally {
      await docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });
});
