// The e2e suites' leftover check (test/support/e2e-suite.ts) judges only its own project's
// containers: two checkouts running the same suite at once have eksbox containers of the same
// environment name, and each must see only its own.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftoverContainers } from "../../support/e2e-suite.js";
import { TEST_CONTAINER_LABEL } from "../../support/test-toolbox.js";

const BASE_IMAGE = process.env.EKSBOX_TEST_BASE_IMAGE ?? "eksbox-test/debian:bookworm";
const ENV = `leftover-${process.pid}`;
let ours: string;
let theirs: string;

/** A stopped container labelled as eksbox labels a toolbox of ENV (never started: only its labels, mounts and command count). */
async function toolboxLike(opts: { env?: string; bindProject?: string; archiveProject?: string }): Promise<string> {
  const mount = opts.bindProject ? ["--mount", `type=bind,source=${opts.bindProject},target=${opts.bindProject}`] : [];
  const created = await execa("docker", [
    "create",
    "--label",
    `${TEST_CONTAINER_LABEL}=leftover`,
    "--label",
    "io.eksbox.tool=eksbox",
    "--label",
    `io.eksbox.env=${opts.env ?? ENV}`,
    ...mount,
    "--entrypoint",
    "/bin/sh",
    BASE_IMAGE,
    "-c",
    "true",
    "eksbox-toolbox",
    opts.archiveProject ?? "",
  ]);
  return created.stdout.trim().slice(0, 12);
}

beforeAll(async () => {
  ours = await mkdtemp(join(tmpdir(), "eksbox-leftover-ours-"));
  theirs = await mkdtemp(join(tmpdir(), "eksbox-leftover-theirs-"));
});

afterAll(async () => {
  const ids = await execa("docker", ["ps", "-aq", "--filter", `label=${TEST_CONTAINER_LABEL}=leftover`]);
  if (ids.stdout.trim()) await execa("docker", ["rm", "-f", ...ids.stdout.trim().split("\n")], { reject: false });
  for (const dir of [ours, theirs]) if (dir) await rm(dir, { recursive: true, force: true });
});

describe("leftoverContainers", { timeout: 120_000 }, () => {
  it("finds this project's containers of the environment (bind and archive mode), not another project's or environment's", async () => {
    expect(await leftoverContainers(ours, ENV)).toBe("");
    await toolboxLike({ bindProject: theirs });
    await toolboxLike({ archiveProject: theirs });
    await toolboxLike({ env: `${ENV}-other`, bindProject: ours });
    expect(await leftoverContainers(ours, ENV)).toBe("");

    const bound = await toolboxLike({ bindProject: ours });
    expect(await leftoverContainers(ours, ENV)).toBe(bound);
    const copied = await toolboxLike({ archiveProject: ours });
    expect((await leftoverContainers(ours, ENV)).split("\n").sort()).toEqual([bound, copied].sort());
  });
});
