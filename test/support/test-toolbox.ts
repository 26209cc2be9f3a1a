// The TEST toolbox image: the AWS CLI v1 from PyPI (and Debian's 2.9), kubectl, jq, git and python, plus the eksctl and flux
// TEST DOUBLES of test/doubles/. Tagged by the content hash of everything that goes into it, so it
// is rebuilt only when a double, the Dockerfile or the vendored eksctl schema changes.
// Run directly (`npx tsx test/support/test-toolbox.ts`) it builds the image and prints its reference.
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { execa } from "execa";

const root = fileURLToPath(new URL("../..", import.meta.url));
const imageDir = join(root, "test/images/toolbox");
const doublesDir = join(root, "test/doubles");
const schemaFile = join(root, "src/vendor/eksctl-v0.230.0/schema.json");

export const TEST_TOOLBOX_REPOSITORY = "eksbox-test/toolbox";
/** What the image holds; src/image/toolbox-image.ts reads this label (TOOLS_LABEL, `io.eksbox.tools`). */
export const TEST_TOOLBOX_TOOLS = {
  eksctl: "0.230.0-test-double",
  aws: "1.46.3",
  kubectl: "1.20.2",
  flux: "2.9.6-test-double",
} as const;
/** Every container the test support starts carries this label, so leftovers can be found and removed. */
export const TEST_CONTAINER_LABEL = "io.eksbox.test";

/**
 * Runs `args` (after `entrypoint`, when given) in a throwaway container of the test image (host
 * network, labelled `${TEST_CONTAINER_LABEL}=<purpose>`, plus any `dockerArgs` such as a mount). `env`
 * reaches the container by name, so its values stay out of docker's argv. Never rejects: the caller
 * judges the exit code.
 */
export function runInTestImage(
  image: string,
  opts: { purpose: string; env: Record<string, string>; entrypoint?: string; dockerArgs?: string[] },
  args: string[],
) {
  return execa(
    "docker",
    [
      "run",
      "--rm",
      "--network",
      "host",
      "--label",
      `${TEST_CONTAINER_LABEL}=${opts.purpose}`,
      ...(opts.dockerArgs ?? []),
      ...Object.keys(opts.env).flatMap((key) => ["-e", key]),
      ...(opts.entrypoint ? ["--entrypoint", opts.entrypoint] : []),
      image,
      ...args,
    ],
    { reject: false, env: { ...process.env, ...opts.env } },
  );
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name !== "__pycache__" && !name.endsWith(".pyc"))
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    })
    .sort();
}

function imageInputs(): string[] {
  return [...filesUnder(imageDir), ...filesUnder(doublesDir), schemaFile];
}

export function testToolboxTag(): string {
  const hash = createHash("sha256");
  for (const file of imageInputs()) {
    hash.update(relative(root, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  hash.update(JSON.stringify(TEST_TOOLBOX_TOOLS));
  return `${TEST_TOOLBOX_REPOSITORY}:${hash.digest("hex").slice(0, 16)}`;
}

let building: Promise<string> | undefined;

/** Builds the test toolbox image once (reused while its inputs are unchanged) and returns its reference. */
export function ensureTestToolboxImage(): Promise<string> {
  building ??= build().catch((e) => {
    building = undefined;
    throw e;
  });
  return building;
}

async function build(): Promise<string> {
  const tag = testToolboxTag();
  const present = await execa("docker", ["image", "inspect", "--format", "{{.Id}}", tag], { reject: false });
  if (present.exitCode === 0) return tag;
  const context = mkdtempSync(join(tmpdir(), "eksbox-test-toolbox-"));
  try {
    cpSync(imageDir, context, { recursive: true });
    cpSync(doublesDir, join(context, "doubles"), {
      recursive: true,
      filter: (src) => !src.includes("__pycache__") && !src.endsWith(".pyc"),
    });
    cpSync(schemaFile, join(context, "eksctl-schema.json"));
    // pip in the build must trust what the host trusts (a TLS-inspecting egress proxy has its own CA).
    const caBundle = [process.env.PIP_CERT, process.env.SSL_CERT_FILE, "/etc/ssl/certs/ca-certificates.crt"].find(
      (f) => f && existsSync(f),
    );
    if (caBundle) cpSync(caBundle, join(context, "host-ca.crt"));
    else writeFileSync(join(context, "host-ca.crt"), "");
    const result = await execa(
      "docker",
      [
        "build",
        "--label",
        `io.eksbox.tools=${JSON.stringify(TEST_TOOLBOX_TOOLS)}`,
        "--label",
        "io.eksbox.test-double=true",
        "--tag",
        tag,
        context,
      ],
      { reject: false, all: true, env: { DOCKER_BUILDKIT: "0" } },
    );
    if (result.exitCode !== 0) {
      const tail = String(result.all ?? "")
        .split("\n")
        .slice(-30)
        .join("\n");
      throw new Error(`building the test toolbox image ${tag} failed (exit ${result.exitCode}):\n${tail}`);
    }
    await removeOlderTestToolboxImages(tag);
    return tag;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * Each edit of a double makes a new image: drop previous ones, but only those over an hour old, so a
 * test run still using the previous tag (another engineer's, mid-edit) keeps it. In-use images stay.
 */
async function removeOlderTestToolboxImages(keep: string): Promise<void> {
  const listed = await execa(
    "docker",
    ["images", "--filter", "label=io.eksbox.test-double=true", "--format", "{{.Repository}}:{{.Tag}}\t{{.CreatedAt}}"],
    { reject: false },
  );
  const hourAgo = Date.now() - 3_600_000;
  const older = listed.stdout
    .split("\n")
    // Podman lists names qualified ("docker.io/eksbox-test/toolbox"); Docker does not.
    .map((line) => line.replace(/^(docker\.io|localhost)\//, "").split("\t"))
    .filter(([ref, created]) => {
      if (!ref?.startsWith(`${TEST_TOOLBOX_REPOSITORY}:`) || ref === keep || !created) return false;
      // CreatedAt looks like "2026-11-25 12:01:02 +0000 UTC".
      const when = Date.parse(
        created
          .replace(/ [A-Z]+$/, "")
          .replace(" ", "T")
          .replace(" ", ""),
      );
      return Number.isFinite(when) && when < hourAgo;
    })
    .map(([ref]) => ref!);
  if (older.length) await execa("docker", ["rmi", ...older], { reject: false });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureTestToolboxImage().then(
    (ref) => console.log(ref),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
