// The pins as written in the real Dockerfile, the image reference derived from them, and the small
// parsers around the build (no engine needed: EKSBOX_TEST_SKIP_ENGINE=1 runs these alone).
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError, UserError } from "../../../src/core/errors.js";
import { DEFAULT_KUBERNETES_VERSION } from "../../../src/config/schema.js";
import { parseDockerfilePins, readDockerfilePins, withBuildArgOverrides } from "../../../src/image/pins.js";
import {
  BUILD_CONTEXT_FILES,
  BuildProgressParser,
  expectedImageRef,
  imageToolsFromLabels,
  parseBuildArgFlags,
} from "../../../src/image/toolbox-image.js";
import { demultiplex } from "../../../src/runtime/run-in-image.js";

const projectRoot = fileURLToPath(new URL("../../../", import.meta.url));
const tempDirs: string[] = [];

afterEach(async () => {
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function copyOfContext(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "eksbox-ref-"));
  tempDirs.push(dir);
  for (const file of BUILD_CONTEXT_FILES) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await copyFile(path.join(projectRoot, file), path.join(dir, file));
  }
  return dir;
}

describe("the Dockerfile's pins", () => {
  it("pin eksctl, awscli, kubectl, flux and fluxctl by version and sha256 per arch, each with an update-bot comment", async () => {
    const pins = await readDockerfilePins(projectRoot);
    const byTool = Object.fromEntries(pins.tools.map((pin) => [pin.tool, pin]));
    expect(Object.keys(byTool).sort()).toEqual(["awscli", "eksctl", "flux", "fluxctl", "kubectl"]);
    expect(byTool.eksctl).toMatchObject({
      version: "0.230.0",
      sha256: {
        amd64: "a2060956f117c3065abafda5c1f681679b9c3716675d70ce4ffff46033b02c35",
        arm64: "21afe8a1e38f0e8153a1f27ff7af6b90e309a0411a1438139463dac2f866674d",
      },
    });
    expect(byTool.kubectl).toMatchObject({
      version: "1.34.11",
      sha256: {
        amd64: "8efbb9435132a190920eb65a47a8c1ecf755ad85ab57a600c9bedbab460bb7a8",
        arm64: "5b045a4712674c88a56fd98eef4285689738b7fbe8735e1b9ee3509521af5cb4",
      },
    });
    expect(byTool.flux).toMatchObject({
      version: "2.9.6",
      sha256: {
        amd64: "b4d22673e9246cbd628881f1a9ef3b090085dced291e42d804555cee8e8d42c5",
        arm64: "6663c154755b732f43dc993d72321f71c2fc1ff0bcb94b2696e0a8638fa562b4",
      },
    });
    expect(byTool.awscli).toMatchObject({
      version: "2.36.21",
      sha256: {
        amd64: "b665b24dae1ed70bc38ef03998570307a0363839196b564bf04f8d7502132b9a",
        arm64: "4cad0c3f28d6f598863dfe9cfef7fd166e23b853a9ccddd1b73a0938c92ce3e4",
      },
    });
    // No checksum is published for fluxctl_linux_arm64: none may be made up.
    expect(byTool.fluxctl).toMatchObject({
      version: "1.25.4",
      sha256: { amd64: "4ad67f50d76b80e7f2294b3da1699a84955b7201caf549114564baa60e1af103" },
    });
    expect(byTool.fluxctl!.sha256.arm64).toBeUndefined();
    for (const pin of pins.tools) expect(pin.renovate, pin.tool).toMatch(/^renovate: datasource=\S+ depName=\S+/);
  });

  it("keep kubectl on the clusters' default Kubernetes minor", async () => {
    const kubectl = (await readDockerfilePins(projectRoot)).tools.find((pin) => pin.tool === "kubectl")!;
    expect(kubectl.version.split(".").slice(0, 2).join(".")).toBe(DEFAULT_KUBERNETES_VERSION);
  });

  it("pin a digest for the base image and the AWS CLI Team key's fingerprint", async () => {
    const { args } = await readDockerfilePins(projectRoot);
    expect(args.BASE_IMAGE).toMatch(/^debian:bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(args.AWSCLI_PGP_FINGERPRINT).toBe("FB5DB77FD5C118B80511ADA8A6310ACC4672475C");
    expect(args.AWSCLI_VERIFY_SIGNATURE).toBe("true");
  });

  it("ship the AWS CLI Team public key whose fingerprint is the pinned one", async () => {
    const home = await mkdtemp(path.join(tmpdir(), "eksbox-gpg-"));
    tempDirs.push(home);
    const env = { ...process.env, GNUPGHOME: home };
    execFileSync("gpg", ["--batch", "--quiet", "--import", path.join(projectRoot, "src/image/awscli-public-key.asc")], {
      env,
      stdio: "ignore",
    });
    const colons = execFileSync("gpg", ["--batch", "--with-colons", "--fingerprint"], { env, encoding: "utf8" });
    expect(colons.match(/^fpr:+([0-9A-F]{40}):/gm)).toEqual(["fpr:::::::::FB5DB77FD5C118B80511ADA8A6310ACC4672475C:"]);
    expect(colons).toContain("AWS CLI Team <aws-cli@amazon.com>");
  });
});

describe("parseDockerfilePins", () => {
  const valid = (sha: string) =>
    `ARG BASE_IMAGE=x\n# renovate: datasource=github-releases depName=a/b\nARG TOOL_VERSION=1.0.0\nARG TOOL_SHA256_AMD64=${sha}\nARG TOOL_SHA256_ARM64=\nFROM x\nARG LATER_VERSION=9\n`;

  it("reads only the global ARGs before the first FROM", () => {
    const pins = parseDockerfilePins(valid("a".repeat(64)));
    expect(pins.tools).toEqual([
      {
        tool: "tool",
        version: "1.0.0",
        sha256: { amd64: "a".repeat(64) },
        baseUrl: undefined,
        renovate: "renovate: datasource=github-releases depName=a/b",
        line: 3,
      },
    ]);
  });

  it("refuses a malformed sha256, naming the file, line and ARG", () => {
    let error: unknown;
    try {
      parseDockerfilePins(valid("ABC123"), "/repo/Dockerfile");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues).toEqual([
      expect.objectContaining({ file: "/repo/Dockerfile", line: 4, path: "TOOL_SHA256_AMD64" }),
    ]);
    expect((error as Error).message).toContain('/repo/Dockerfile:4: TOOL_SHA256_AMD64: "ABC123" is not a sha256');
  });

  it("refuses a tool without a checksum ARG for an arch", () => {
    expect(() => parseDockerfilePins("ARG TOOL_VERSION=1\nARG TOOL_SHA256_AMD64=\nFROM x\n")).toThrow(/TOOL_SHA256_ARM64: missing/);
  });

  it("applies --build-arg overrides on top of the defaults", () => {
    const pins = withBuildArgOverrides(parseDockerfilePins(valid("a".repeat(64))), {
      TOOL_VERSION: "2.0.0",
      TOOL_SHA256_ARM64: "b".repeat(64),
    });
    expect(pins.tools[0]).toMatchObject({ version: "2.0.0", sha256: { amd64: "a".repeat(64), arm64: "b".repeat(64) } });
  });
});

describe("expectedImageRef", () => {
  it("names the image after the build context: stable, and new for any changed pin or build arg", async () => {
    const dir = await copyOfContext();
    const ref = await expectedImageRef(dir);
    expect(ref).toMatch(/^eksbox-toolbox:[0-9a-f]{12}$/);
    expect(await expectedImageRef(projectRoot)).toBe(ref);
    await writeFile(path.join(dir, "README.md"), "files outside the build context do not matter\n");
    expect(await expectedImageRef(dir)).toBe(ref);

    expect(await expectedImageRef(dir, { KUBECTL_VERSION: "1.34.12" })).not.toBe(ref);

    const dockerfile = path.join(dir, "Dockerfile");
    const text = await readFile(dockerfile, "utf8");
    await writeFile(dockerfile, text.replace("ARG FLUX_VERSION=2.9.6", "ARG FLUX_VERSION=2.9.7"));
    expect(await expectedImageRef(dir)).not.toBe(ref);
  });

  it("says which file is missing when run outside a checkout", async () => {
    await expect(expectedImageRef(tmpdir())).rejects.toThrow(UserError);
    await expect(expectedImageRef(tmpdir())).rejects.toThrow(/cannot read Dockerfile/);
  });
});

describe("BuildProgressParser", () => {
  it("turns JSON records split anywhere into whole output lines", () => {
    const lines: string[] = [];
    const parser = new BuildProgressParser((line) => lines.push(line));
    const stream =
      [
        JSON.stringify({ stream: "Step 1/2 : FROM x\n" }),
        JSON.stringify({ stream: " ---> Using cache\n ---> abc" }),
        JSON.stringify({ stream: "123\n" }),
        JSON.stringify({ aux: { ID: "sha256:feed" } }),
      ].join("\n") + "\n";
    for (let index = 0; index < stream.length; index += 7) parser.push(Buffer.from(stream.slice(index, index + 7)));
    parser.end();
    expect(lines).toEqual(["Step 1/2 : FROM x", " ---> Using cache", " ---> abc123"]);
    expect(parser.imageId).toBe("sha256:feed");
    expect(parser.error).toBeUndefined();
  });

  it("notes the engine's error object and reports it as a line", () => {
    const lines: string[] = [];
    const parser = new BuildProgressParser((line) => lines.push(line));
    parser.push(
      `${JSON.stringify({ errorDetail: { code: 1, message: "The command returned a non-zero code: 1" }, error: "The command returned a non-zero code: 1" })}\n`,
    );
    parser.end();
    expect(parser.error).toBe("The command returned a non-zero code: 1");
    expect(lines).toEqual(["ERROR: The command returned a non-zero code: 1"]);
  });
});

describe("imageToolsFromLabels", () => {
  it("reads tool versions from the io.eksbox.tools label", () => {
    expect(imageToolsFromLabels({ "io.eksbox.tools": '{"eksctl":"0.230.0","kubectl":"1.34.11"}' })).toEqual({
      eksctl: "0.230.0",
      kubectl: "1.34.11",
    });
  });

  it("gives nothing, rather than failing, for images without a usable label", () => {
    expect(imageToolsFromLabels(undefined)).toEqual({});
    expect(imageToolsFromLabels({})).toEqual({});
    expect(imageToolsFromLabels({ "io.eksbox.tools": "not json" })).toEqual({});
    expect(imageToolsFromLabels({ "io.eksbox.tools": '["eksctl"]' })).toEqual({});
    expect(imageToolsFromLabels({ "io.eksbox.tools": '{"eksctl":1,"flux":"2.9.6","fluxctl":""}' })).toEqual({ flux: "2.9.6" });
  });
});

describe("parseBuildArgFlags", () => {
  it("splits KEY=VALUE at the first =", () => {
    expect(parseBuildArgFlags(["A=1", "URL=http://x/?a=b", "EMPTY="])).toEqual({ A: "1", URL: "http://x/?a=b", EMPTY: "" });
  });

  it("refuses anything else, naming the flag", () => {
    expect(() => parseBuildArgFlags(["KUBECTL_VERSION"])).toThrow(/--build-arg "KUBECTL_VERSION" is not KEY=VALUE/);
    expect(() => parseBuildArgFlags(["1X=2"])).toThrow(UserError);
  });
});

describe("demultiplex", () => {
  it("splits the engine's multiplexed log stream into stdout and stderr", () => {
    const frame = (kind: number, text: string) => {
      const payload = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = kind;
      header.writeUInt32BE(payload.length, 4);
      return Buffer.concat([header, payload]);
    };
    expect(demultiplex(Buffer.concat([frame(1, "out1\n"), frame(2, "err\n"), frame(1, "out2\n")]))).toEqual({
      stdout: "out1\nout2\n",
      stderr: "err\n",
    });
  });
});
