// `eksbox exec -- CMD | head`: when the reader of eksbox's stdout goes away, eksbox stops the
// command as for Ctrl-C, removes its container and exits 141 as a tool killed by SIGPIPE would,
// instead of crashing on EPIPE or waiting out the interrupt grace period.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ensureBuilt } from "../../support/cli.js";
import { docker, ensureTestImage } from "./support.js";
import { LABEL_TOOL, TOOL_NAME } from "../../../src/runtime/labels.js";

let cli: string;
let imageRef: string;
let workspace: string;

beforeAll(async () => {
  [cli, imageRef] = await Promise.all([ensureBuilt(), ensureTestImage()]);
  workspace = await mkdtemp(path.join(tmpdir(), "eksbox-pipe-"));
}, 300_000);
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

it("a closed stdout stops the command, leaves no container and exits 141", async () => {
  // A grace period far longer than the test's timeout: eksbox must not wait it out once the step stopped.
  const result = await execa("bash", ["-c", `node ${JSON.stringify(cli)} exec --no-tty -- yes | head -2; echo "exit=\${PIPESTATUS[0]}"`], {
    cwd: workspace,
    env: { EKSBOX_IMAGE: imageRef, EKSBOX_INTERRUPT_GRACE_SECONDS: "3600", EKSBOX_ENV: "", CI: "1" },
    timeout: 120_000,
    reject: false,
  });
  expect(result.stdout).toBe("y\ny\nexit=141");
  expect(result.stderr).toContain("stdout was closed");
  expect(result.stderr).not.toMatch(/EPIPE|Unhandled|\n\s+at /);
  const mine = await docker.listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`] } });
  expect(mine.filter((c) => c.Mounts.some((m) => m.Source === workspace))).toEqual([]);
}, 150_000);
