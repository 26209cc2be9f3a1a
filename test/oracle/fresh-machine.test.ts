// A fresh machine sets up the emulator itself: test/support/ensure-moto.sh uses a moto_server on PATH
// only when it is the pinned version, and otherwise installs the pinned moto into a virtual
// environment of the project's (.venv/; here a scratch directory, so the machine's own moto and
// the project's .venv/ stay as they are). The install path is exercised for real: pip, PyPI, venv.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { freePort } from "../support/moto.js";

const script = join(repoRoot, "test/support/ensure-moto.sh");
let scratch: string;

async function ensureMoto(env: Record<string, string>): Promise<{ vars: Record<string, string>; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)("bash", [script], {
    env: { HOME: process.env.HOME ?? "/root", ...env },
    maxBuffer: 4 << 20,
  });
  return {
    vars: Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((l) => l.split("=", 2) as [string, string]),
    ),
    stderr,
  };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "eksbox-fresh-moto-"));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("ensure-moto.sh", () => {
  it("keeps using a moto_server on PATH whose version is the pinned one", async () => {
    const venv = join(scratch, "unused", ".venv");
    const { vars } = await ensureMoto({ PATH: process.env.PATH!, EKSBOX_MOTO_VENV: venv });
    expect(vars.MOTO_SERVER).toBeTruthy();
    expect(vars.MOTO_SERVER!.startsWith(join(scratch, "unused"))).toBe(false);
    expect(existsSync(venv)).toBe(false);
  });

  it("installs the pinned moto into the venv when PATH has none, or only another version, and reuses it", async () => {
    // A moto_server of another version first on PATH: its interpreter reports moto 4.2.14.
    const other = join(scratch, "other-bin");
    await mkdir(other);
    await writeFile(join(other, "python"), "#!/bin/sh\necho 4.2.14\n");
    await writeFile(join(other, "moto_server"), `#!${join(other, "python")}\n`);
    await chmod(join(other, "python"), 0o755);
    await chmod(join(other, "moto_server"), 0o755);
    const venv = join(scratch, ".venv");
    const PATH = `${other}:/usr/local/bin:/usr/bin:/bin`;

    const first = await ensureMoto({ PATH, EKSBOX_MOTO_VENV: venv });
    expect(first.stderr).toMatch(/installing it into/);
    expect(first.stderr).toContain(join(other, "moto_server"));
    expect(first.vars.MOTO_SERVER).toBe(join(venv, "bin", "moto_server"));

    const again = await ensureMoto({ PATH, EKSBOX_MOTO_VENV: venv });
    expect(again.stderr).toBe("");
    expect(again.vars).toEqual(first.vars);

    // The installed moto runs and answers, and its python has botocore for the kube-apiserver stand-in.
    const port = await freePort();
    const server = execFile(first.vars.MOTO_SERVER!, ["-H", "127.0.0.1", "-p", String(port)]);
    try {
      let answered = false;
      for (let i = 0; i < 100 && !answered; i++) {
        answered = await fetch(`http://127.0.0.1:${port}/moto-api/`).then(
          (r) => r.ok,
          () => false,
        );
        if (!answered) await new Promise((r) => setTimeout(r, 200));
      }
      expect(answered).toBe(true);
    } finally {
      server.kill();
    }
    await promisify(execFile)(first.vars.MOTO_PYTHON!, [
      "-c",
      "import botocore, moto; assert moto.__version__ == '5.2.1', moto.__version__",
    ]);
  }, 600_000);
});
