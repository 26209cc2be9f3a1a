// Rootless Podman for real: an unprivileged user (made by test/support/setup-podman.sh) runs its own
// `podman system service`, and eksbox, run as that user, writes files into its project that belong
// to that user (keep-id), not to one of the user's sub-ids. eksbox run by another user against that
// engine is refused before any container exists. Runs only in the Podman suite (vitest.podman.config.ts).
//
// Rootless Docker too, for the same user: Debian's dockerd-rootless.sh under rootlesskit, with
// slirp4netns as its network (setup-podman.sh opens /dev/net/tun to users, as Debian's udev does).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Dockerode from "dockerode";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/core/errors.js";
import { MemorySink } from "../../src/core/events.js";
import { Interrupter } from "../../src/core/interrupt.js";
import { LABEL_TOOL, TOOL_NAME } from "../../src/runtime/labels.js";
import { openToolbox } from "../../src/runtime/toolbox.js";
import { ensureBuilt } from "../support/cli.js";

const USER = process.env.EKSBOX_TEST_ROOTLESS_USER ?? "eksbox-rootless";
const BASE_IMAGE = process.env.EKSBOX_TEST_BASE_IMAGE ?? "eksbox-test/debian:bookworm";

function userIds(): { uid: number; gid: number; home: string } | undefined {
  try {
    const [uid, gid, home] = execFileSync("sh", ["-c", `id -u "$0" && id -g "$0" && getent passwd "$0" | cut -d: -f6`, USER], {
      encoding: "utf8",
    })
      .trim()
      .split("\n");
    return { uid: Number(uid), gid: Number(gid), home: home! };
  } catch {
    return undefined;
  }
}

const ids = userIds();
const socket = ids ? `/run/user/${ids.uid}/podman/podman.sock` : "";
// setup-podman.sh says (and logs to /tmp/eksbox-podman-rootless-info.log) why when it could not start it.
const available = Boolean(ids && existsSync(socket));

let cli: string;
let project: string;
const engine = () => new Dockerode({ socketPath: socket });

/**
 * Opens a toolbox in bind mode as the unprivileged user, in a process of its own, and runs one step
 * that prints its ids and writes into build/. In process rather than through the CLI, to choose bind
 * mode outright (the CLI's auto mode probes first: this machine has /.dockerenv).
 */
async function openAsUser(dockerHost: string, projectRoot: string, name: string): Promise<unknown> {
  const script = path.join(projectRoot, `open-${name}.mts`);
  const repo = new URL("../..", import.meta.url).pathname;
  await writeFile(
    script,
    `import { openToolbox } from ${JSON.stringify(`${repo}src/runtime/toolbox.ts`)};
     import { Interrupter } from ${JSON.stringify(`${repo}src/core/interrupt.ts`)};
     const toolbox = await openToolbox({ projectRoot: ${JSON.stringify(projectRoot)}, imageRef: ${JSON.stringify(BASE_IMAGE)}, runId: "rootless-${name}-" + process.pid,
       events: { emit() {} }, interrupter: new Interrupter(), processEnv: { HOME: ${JSON.stringify(ids!.home)}, DOCKER_HOST: ${JSON.stringify(dockerHost)} }, mode: "bind" });
     try {
       const step = await toolbox.run({ step: "write", argv: ["sh", "-c", "id -u; id -g; echo made > build/${name}.txt; mkdir -p build/${name}-sub"], captureStdout: true });
       console.log(JSON.stringify({ exitCode: step.exitCode, ids: step.stdout.trim().split("\\n"), mode: toolbox.mode }));
     } finally {
       await toolbox.dispose();
     }`,
  );
  const result = await execa(
    "runuser",
    ["-u", USER, "--", "env", `HOME=${ids!.home}`, `XDG_RUNTIME_DIR=/run/user/${ids!.uid}`, process.execPath, "--import", "tsx", script],
    {
      cwd: repo,
      reject: false,
      extendEnv: false,
      env: { PATH: process.env.PATH },
    },
  );
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as unknown;
}

describe.skipIf(!available)(`rootless Podman (user ${USER})`, () => {
  beforeAll(async () => {
    cli = await ensureBuilt();
    project = await mkdtemp(path.join(ids!.home, "eksbox-project-"));
    await mkdir(path.join(project, "build"));
    for (const dir of [project, path.join(project, "build")]) await chown(dir, ids!.uid, ids!.gid);
    const info = (await engine().info()) as { Rootless?: boolean };
    expect(info.Rootless).toBe(true);
  }, 300_000);
  afterAll(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  const asUser = (args: string[]) =>
    execa(
      "runuser",
      [
        "-u",
        USER,
        "--",
        "env",
        `HOME=${ids!.home}`,
        `XDG_RUNTIME_DIR=/run/user/${ids!.uid}`,
        `DOCKER_HOST=unix://${socket}`,
        `EKSBOX_IMAGE=${BASE_IMAGE}`,
        "CI=1",
        "EKSBOX_ENV=",
        "node",
        cli,
        ...args,
      ],
      {
        cwd: project,
        reject: false,
        extendEnv: false,
        env: { PATH: process.env.PATH },
      },
    );

  it("bind mode: files a step writes into the project belong to the invoking user (keep-id), and the step runs as that uid", async () => {
    expect(await openAsUser(`unix://${socket}`, project, "bind")).toEqual({
      exitCode: 0,
      ids: [String(ids!.uid), String(ids!.gid)],
      mode: "bind",
    });
    for (const made of ["build/bind.txt", "build/bind-sub"]) {
      const owner = await stat(path.join(project, made));
      expect({ file: made, uid: owner.uid, gid: owner.gid }).toEqual({ file: made, uid: ids!.uid, gid: ids!.gid });
    }
    expect(await engine().listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`] } })).toEqual([]);
  });

  it("the CLI as that user: `eksbox exec` runs as the user and what it writes is the user's", async () => {
    const result = await asUser([
      "exec",
      "--no-tty",
      "--",
      "sh",
      "-c",
      "id -u; id -g; echo made > build/made-by-step.txt; mkdir -p build/sub",
    ]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split("\n")).toEqual([String(ids!.uid), String(ids!.gid)]);
    for (const made of ["build/made-by-step.txt", "build/sub"]) {
      const owner = await stat(path.join(project, made));
      expect({ file: made, uid: owner.uid, gid: owner.gid }).toEqual({ file: made, uid: ids!.uid, gid: ids!.gid });
    }
    expect(await engine().listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`] } })).toEqual([]);
  });

  it("another user binding the project through this engine is refused at start, naming the engine and what to do", async () => {
    const error = await openToolbox({
      projectRoot: project,
      imageRef: BASE_IMAGE,
      runId: `rootless-refused-${process.pid}`,
      events: new MemorySink(),
      interrupter: new Interrupter(),
      processEnv: { DOCKER_HOST: `unix://${socket}` },
      mode: "bind",
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      new RegExp(`^Podman [0-9.]+ \\(rootless\\) runs as uid ${ids!.uid}, but eksbox runs as uid ${process.getuid!()}`),
    );
    expect((error as UserError).hint).toContain("run eksbox as the user who runs `podman system service`");
    expect(await engine().listContainers({ all: true, filters: { label: [`${LABEL_TOOL}=${TOOL_NAME}`] } })).toEqual([]);
  });
});

const noSubIds = (() => {
  try {
    return `/run/user/${execFileSync("id", ["-u", "eksbox-nosubid"], { encoding: "utf8" }).trim()}/podman/podman.sock`;
  } catch {
    return "";
  }
})();

describe.skipIf(!noSubIds || !existsSync(noSubIds))("rootless Podman without sub-ids (user eksbox-nosubid)", () => {
  it("is refused at start, before any image is built or pulled, naming the engine and the fix", async () => {
    const events = new MemorySink();
    const projectRoot = await mkdtemp(path.join(tmpdir(), "eksbox-nosubid-"));
    const error = await openToolbox({
      projectRoot,
      imageRef: BASE_IMAGE,
      runId: `nosubid-${process.pid}`,
      events,
      interrupter: new Interrupter(),
      processEnv: { DOCKER_HOST: `unix://${noSubIds}` },
    }).catch((caught: unknown) => caught);
    await rm(projectRoot, { recursive: true, force: true });
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/^Podman [0-9.]+ \(rootless\) has no sub-ids for its user/);
    expect((error as UserError).hint).toContain("podman system migrate");
    // Nothing was tried on the engine: no image event, no pull.
    expect(events.events.filter((event) => event.type === "image" || event.type === "image-build")).toEqual([]);
  });
});

// Rootless Docker for the same user (setup-podman.sh starts Debian's dockerd-rootless.sh for it).
const dockerSocket = ids ? `/run/user/${ids.uid}/docker.sock` : "";

describe.skipIf(!ids || !existsSync(dockerSocket))(`rootless Docker (user ${USER})`, () => {
  let dockerProject: string;
  beforeAll(async () => {
    dockerProject = await mkdtemp(path.join(ids!.home, "eksbox-docker-project-"));
    await mkdir(path.join(dockerProject, "build"));
    for (const dir of [dockerProject, path.join(dockerProject, "build")]) await chown(dir, ids!.uid, ids!.gid);
    const info = (await new Dockerode({ socketPath: dockerSocket }).info()) as { SecurityOptions?: string[] };
    expect(info.SecurityOptions).toContain("name=rootless");
  });
  afterAll(async () => {
    if (dockerProject) await rm(dockerProject, { recursive: true, force: true });
  });

  it("bind mode: steps run as container root, which is the invoking user on the host, so the files are that user's", async () => {
    expect(await openAsUser(`unix://${dockerSocket}`, dockerProject, "docker")).toEqual({
      exitCode: 0,
      ids: ["0", "0"],
      mode: "bind",
    });
    for (const made of ["build/docker.txt", "build/docker-sub"]) {
      const owner = await stat(path.join(dockerProject, made));
      expect({ file: made, uid: owner.uid, gid: owner.gid }).toEqual({ file: made, uid: ids!.uid, gid: ids!.gid });
    }
  });

  it("another user binding a project through this engine is refused at start", async () => {
    const error = await openToolbox({
      projectRoot: dockerProject,
      imageRef: BASE_IMAGE,
      runId: `rootless-docker-refused-${process.pid}`,
      events: new MemorySink(),
      interrupter: new Interrupter(),
      processEnv: { DOCKER_HOST: `unix://${dockerSocket}` },
      mode: "bind",
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(
      new RegExp(`^Docker \\S+ \\(rootless\\) runs as uid ${ids!.uid}, but eksbox runs as uid ${process.getuid!()}`),
    );
    expect((error as UserError).hint).toContain("rootless dockerd");
  });
});

describe.runIf(!available)("rootless Podman unavailable", () => {
  it.skip(`setup-podman.sh could not start rootless Podman for ${USER}: see /tmp/eksbox-podman-rootless-info.log`, () => {});
});
