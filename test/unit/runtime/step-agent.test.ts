// The step agent's two pure parts: finding the end marker in a stream however it is chunked, and
// the script a step becomes, run here by a real /bin/sh the way the agent runs it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { InternalError } from "../../../src/core/errors.js";
import { AGENT_SCRIPT, MarkerScanner, stepScript } from "../../../src/runtime/step-agent.js";

const NONCE = "0123456789abcdef0123456789abcdef";
const MARKER = Buffer.from(`\0${NONCE}:`, "latin1");

function scan(wire: Buffer, cuts: number[]): { output: Buffer; exitCode: number | undefined; doneAt: number } {
  const parts: Buffer[] = [];
  const scanner = new MarkerScanner(MARKER, (data) => parts.push(Buffer.from(data)));
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  let last = 0;
  let doneAt = -1;
  for (const point of [...points, wire.length]) {
    if (scanner.push(wire.subarray(last, point)) && doneAt < 0) doneAt = point;
    last = point;
  }
  return { output: Buffer.concat(parts), exitCode: scanner.exitCode, doneAt };
}

describe("end marker", () => {
  it("passes every byte before the marker on, NULs and marker look-alikes included, and reads the exit code", () => {
    const nearMisses = fc.constantFrom(
      Buffer.from("\0"),
      Buffer.from(`\0${NONCE.slice(0, 10)}`),
      Buffer.from(`\0${NONCE}`),
      Buffer.from("\0\0" + NONCE.slice(0, 31)),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
            nearMisses,
          ),
          { maxLength: 8 },
        ),
        fc.integer({ min: 0, max: 255 }),
        fc.array(fc.nat(400), { maxLength: 10 }),
        (pieces, code, cuts) => {
          const output = Buffer.concat(pieces);
          // A near-miss followed by a piece starting with ":" spells the whole marker. Real output
          // cannot: the nonce is random per request and never shown to the step.
          fc.pre(!output.includes(MARKER));
          const wire = Buffer.concat([output, MARKER, Buffer.from(`${code}\n`)]);
          const result = scan(wire, cuts);
          expect(result.output.equals(output)).toBe(true);
          expect(result.exitCode).toBe(code);
          expect(result.doneAt).toBe(wire.length);
        },
      ),
    );
  });

  it("holds nothing back from text output: a line is passed on as soon as it arrives", () => {
    const parts: string[] = [];
    const scanner = new MarkerScanner(MARKER, (data) => parts.push(data.toString()));
    expect(scanner.push(Buffer.from("creating cluster...\n"))).toBe(false);
    expect(parts.join("")).toBe("creating cluster...\n");
    expect(scanner.exitCode).toBeUndefined();
  });
});

describe("a step's script", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "eksbox-step-script-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // The agent's own way of running a script: from a pipe, evaluated, never in an argv.
  function runLikeTheAgent(script: string): Buffer {
    return execFileSync("/bin/sh", ["-c", 'eval "$(cat)"'], { input: script, env: { PATH: process.env.PATH } });
  }

  it("runs exactly the argv and the environment given, whatever characters they hold", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", " ", "'", '"', "\\", "$", "`", "\n", "*", ";", "&", "|", "(", "é", "-", "=", "!", "#", "~"),
    });
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), text, (args, value) => {
        const pidFile = path.join(dir, "step.pid");
        const script = stepScript({
          pidFile,
          workingDir: dir,
          env: { STEP_VALUE: value },
          argv: ["sh", "-c", 'printf "%s\\0" "$PWD" "$STEP_VALUE" "$@"', "sh", ...args],
        });
        const printed = runLikeTheAgent(script).toString("utf8").split("\0").slice(0, -1);
        expect(printed).toEqual([dir, value, ...args]);
        expect(Number(readFileSync(pidFile, "utf8"))).toBeGreaterThan(1);
      }),
      { numRuns: 60 },
    );
  });

  it("makes the step the leader of its own process group, keeping its pid (so Ctrl-C reaches all of it)", () => {
    const pidFile = path.join(dir, "group.pid");
    const script = stepScript({ pidFile, workingDir: dir, argv: ["sh", "-c", 'echo "$$ $(cut -d" " -f5 /proc/$$/stat)"'] });
    const [pid, group] = runLikeTheAgent(script).toString().trim().split(" ");
    expect(group).toBe(pid);
    expect(readFileSync(pidFile, "utf8").trim()).toBe(pid);
  });

  it("refuses a variable name the shell would read as code", () => {
    expect(() => stepScript({ pidFile: "/tmp/p", workingDir: "/", env: { "A;rm": "x" }, argv: ["true"] })).toThrow(InternalError);
  });

  it("keeps the step's values out of every command line: they are only in the script on stdin", () => {
    const script = stepScript({
      pidFile: path.join(dir, "p"),
      workingDir: dir,
      env: { STEP_SECRET: "s3cr3t-value" },
      argv: ["sh", "-c", "cat /proc/$$/cmdline; cat /proc/$PPID/cmdline 2>/dev/null; true"],
    });
    expect(runLikeTheAgent(script).toString("latin1")).not.toContain("s3cr3t-value");
  });
});

describe("the agent loop under a real sh", () => {
  it("runs requests one after another, ends each with the marker on both streams, and keeps a killed step's signal report off stderr", () => {
    const requests = [
      stepScript({ pidFile: "/dev/null", workingDir: "/", argv: ["sh", "-c", "echo out; echo err >&2; exit 3"] }),
      stepScript({ pidFile: "/dev/null", workingDir: "/", argv: ["sh", "-c", "echo dying >&2; kill -9 $$"] }),
    ];
    const input = requests.map((script, i) => `nonce${i} /dev/null ${Buffer.from(script).toString("base64")}\n`).join("");
    const result = execFileSync("/bin/sh", ["-c", `${AGENT_SCRIPT} 2>/dev/null; echo "agent done $?"`], {
      input,
      stdio: ["pipe", "pipe", "pipe"],
    });
    expect(result.toString("latin1")).toBe("out\n\0nonce0:3\n\0nonce1:137\nagent done 0\n");
    const both = execFileSync("/bin/sh", ["-c", `(${AGENT_SCRIPT}) 2>&1 >/dev/null`], { input });
    expect(both.toString("latin1")).toBe("err\n\0nonce0:3\ndying\n\0nonce1:137\n");
  });
});
