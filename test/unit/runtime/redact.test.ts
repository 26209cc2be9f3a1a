import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createChunkRedactor, createLineRedactor, isSecretName, Redactor, REDACTED } from "../../../src/runtime/redact.js";

describe("Redactor", () => {
  it("masks the values of secret variables, and only those", () => {
    const redactor = Redactor.fromEnv({
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG",
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SESSION_TOKEN: "FwoGZXIvYXdzEXAMPLE",
      GITHUB_TOKEN: "ghp_abcdef123456",
      DB_PASSWORD: "hunter2hunter2",
      MY_SECRET_VALUE: "s3cr3t-value",
      AWS_REGION: "eu-west-1",
    });
    const text =
      "id AKIAIOSFODNN7EXAMPLE key wJalrXUtnFEMI/K7MDENG tok FwoGZXIvYXdzEXAMPLE gh ghp_abcdef123456 pw hunter2hunter2 s s3cr3t-value in eu-west-1";
    expect(redactor.redact(text)).toBe(
      `id ${REDACTED} key ${REDACTED} tok ${REDACTED} gh ${REDACTED} pw ${REDACTED} s ${REDACTED} in eu-west-1`,
    );
  });

  it("names: AWS keys, *_TOKEN, *_SECRET*, *PASSWORD*", () => {
    expect(["AWS_ACCESS_KEY_ID", "FLUX_TOKEN", "CLIENT_SECRET_ID", "PGPASSWORD", "aws_session_token"].every(isSecretName)).toBe(true);
    expect(["AWS_PROFILE", "TOKENIZER", "HOME", "SECRETARY"].some(isSecretName)).toBe(false);
  });

  it("masks a secret containing another one whole", () => {
    const redactor = new Redactor().add("abcd").add("xxabcdxx");
    expect(redactor.redact("1 xxabcdxx 2 abcd")).toBe(`1 ${REDACTED} 2 ${REDACTED}`);
  });

  it("ignores values too short to mask safely", () => {
    expect(new Redactor().add("ab").redact("abab")).toBe("abab");
  });

  it("masks each line of a multi-line secret", () => {
    const redactor = new Redactor().add("-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----");
    expect(redactor.redact("line: MIIEvQIBADANBg")).toBe(`line: ${REDACTED}`);
  });

  it("chunk redactor: a secret split across any chunk boundaries never comes out", () => {
    const secret = "AKIAIOSFODNN7EXAMPLE";
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.array(fc.nat(60), { maxLength: 6 }), (before, after, cuts) => {
        const redactor = new Redactor().add(secret);
        const text = `${before}${secret}${after}`;
        let out = "";
        const stream = createChunkRedactor(redactor, (t) => (out += t));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let last = 0;
        for (const point of [...points, text.length]) {
          stream.push(text.slice(last, point));
          last = point;
        }
        stream.flush();
        expect(out).not.toContain(secret);
        expect(out).toBe(redactor.redact(text));
      }),
    );
  });

  it("line redactor masks per line and flushes the last partial line", () => {
    const lines: string[] = [];
    const writer = createLineRedactor(new Redactor().add("s3cr3tvalue"), (l) => lines.push(l));
    writer.push("a s3cr");
    writer.push("3tvalue b\nend s3cr3tvalue");
    writer.flush();
    expect(lines).toEqual([`a ${REDACTED} b`, `end ${REDACTED}`]);
  });
});
