// dockerode-lib.ts replaces two of dockerode's modules (docker-modem's ssh.js, dockerode's
// session.js) with stand-ins so that ssh2 and gRPC are not loaded at start-up. What must hold: a
// local engine never loads them, and an ssh:// engine or a BuildKit session still gets the real code.
// Each case runs in a fresh node process: the module cache is per process, and what matters is
// what gets loaded from a clean start.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../support/cli.js";

/** Runs an ES module body in a fresh node (through tsx, for src/*.ts) and returns what it printed as JSON. */
function inFreshNode(body: string): Record<string, unknown> {
  const code = `
    import { createRequire } from "node:module";
    const require = createRequire(${JSON.stringify(`${repoRoot}/package.json`)});
    const loaded = (pattern) => Object.keys(require.cache).filter((file) => pattern.test(file));
    const heavy = () => loaded(/node_modules\\/(ssh2|@grpc)\\//);
    ${body}
  `;
  const stdout = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, unknown>;
}

describe("dockerode without ssh2 and gRPC at start-up", () => {
  it("importing the engine module loads neither dockerode nor ssh2 nor gRPC", () => {
    const result = inFreshNode(`
      await import("./src/runtime/engine.ts");
      console.log(JSON.stringify({ dockerode: loaded(/node_modules\\/dockerode\\//).length, heavy: heavy() }));
    `);
    expect(result).toEqual({ dockerode: 0, heavy: [] });
  });

  it("a client for a local socket loads dockerode but neither ssh2 nor gRPC", () => {
    const result = inFreshNode(`
      const { dockerodeClass } = await import("./src/runtime/dockerode-lib.ts");
      const Docker = dockerodeClass();
      const docker = new Docker({ socketPath: "/var/run/docker.sock" });
      console.log(JSON.stringify({
        dockerode: loaded(/node_modules\\/dockerode\\/lib\\/docker\\.js$/).length,
        hasApi: typeof docker.listContainers === "function" && typeof docker.buildImage === "function",
        heavy: heavy(),
      }));
    `);
    expect(result).toEqual({ dockerode: 1, hasApi: true, heavy: [] });
  });

  it("an ssh:// DOCKER_HOST still gives a client, and ssh2 loads only when the ssh agent is made", () => {
    const result = inFreshNode(`
      const { engineCandidates } = await import("./src/runtime/engine.ts");
      const { dockerodeClass } = await import("./src/runtime/dockerode-lib.ts");
      const [candidate] = engineCandidates({ DOCKER_HOST: "ssh://deploy@engine.invalid:2222", HOME: "/nonexistent" });
      const docker = new (dockerodeClass())(candidate.options);
      const afterConstruct = heavy();

      // docker-modem calls its ssh module per request to make the HTTP agent: do what it does.
      const modemRequire = createRequire(require.resolve("dockerode"));
      const sshPath = modemRequire.resolve("docker-modem/lib/ssh.js");
      const standIn = modemRequire("docker-modem/lib/ssh.js");
      const agent = standIn({ host: "engine.invalid", port: 2222, username: "deploy" });
      const real = require.cache[sshPath].exports;
      const again = standIn({ host: "engine.invalid" });
      console.log(JSON.stringify({
        protocol: docker.modem.protocol,
        host: docker.modem.host,
        afterConstruct,
        ssh2AfterCall: loaded(/node_modules\\/ssh2\\//).length > 0,
        realReplacedStandIn: real !== standIn && typeof real === "function",
        agentFromRealModule: typeof agent.createConnection === "function" && agent.constructor.name === "Agent",
        secondCallToo: typeof again.createConnection === "function",
        realGivesSameKind: real({ host: "engine.invalid" }).constructor === agent.constructor,
      }));
    `);
    expect(result).toEqual({
      protocol: "ssh",
      host: "engine.invalid",
      afterConstruct: [],
      ssh2AfterCall: true,
      realReplacedStandIn: true,
      agentFromRealModule: true,
      secondCallToo: true,
      realGivesSameKind: true,
    });
  });

  it("the BuildKit session stand-in loads the real session module (and gRPC) on first call", () => {
    const result = inFreshNode(`
      const { dockerodeClass } = await import("./src/runtime/dockerode-lib.ts");
      dockerodeClass();
      const dockerodeRequire = createRequire(require.resolve("dockerode"));
      const sessionPath = dockerodeRequire.resolve("./session.js");
      const standIn = require.cache[sessionPath].exports;
      const before = heavy().length;
      // A docker whose modem fails at once: the real withSession reports the error to the callback.
      const failing = { modem: { dial: (_options, callback) => callback(new Error("no engine here")) } };
      const outcome = await new Promise((resolve) => {
        try {
          standIn(failing, undefined, (error) => resolve(error ? "error: " + error.message : "session"));
        } catch (error) {
          resolve("threw: " + error.message);
        }
        setTimeout(() => resolve("no answer"), 5000).unref();
      });
      console.log(JSON.stringify({
        before,
        grpcAfter: loaded(/node_modules\\/@grpc\\//).length > 0,
        realLoaded: require.cache[sessionPath].exports !== standIn,
        outcome,
      }));
    `);
    expect(result).toEqual({ before: 0, grpcAfter: true, realLoaded: true, outcome: "error: no engine here" });
  });
});
