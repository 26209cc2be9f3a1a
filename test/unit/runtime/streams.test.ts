import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDemuxer, createLineSplitter, MAX_LINE_LENGTH, Tail } from "../../../src/runtime/streams.js";

function frame(type: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe("demuxer", () => {
  it("splits stdout and stderr however the frames are chunked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<1 | 2>(1, 2), fc.uint8Array({ maxLength: 40 })), { maxLength: 10 }),
        fc.array(fc.nat(200), { maxLength: 8 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map(([type, bytes]) => frame(type, Buffer.from(bytes))));
          const got = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
          const demux = createDemuxer((name, data) => got[name].push(Buffer.from(data)));
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          let last = 0;
          for (const point of [...points, wire.length]) {
            demux(wire.subarray(last, point));
            last = point;
          }
          const expected = (type: 1 | 2) => Buffer.concat(frames.filter(([t]) => t === type).map(([, b]) => Buffer.from(b)));
          expect(Buffer.concat(got.stdout).equals(expected(1))).toBe(true);
          expect(Buffer.concat(got.stderr).equals(expected(2))).toBe(true);
        },
      ),
    );
  });
});

describe("line splitter", () => {
  it("keeps multi-byte characters split across chunks, drops CR of CRLF, flushes the last line", () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((l) => lines.push(l));
    const bytes = Buffer.from("héllo ✓\r\nzweite Zeile");
    for (const byte of bytes) splitter.push(Buffer.from([byte]));
    splitter.end();
    expect(lines).toEqual(["héllo ✓", "zweite Zeile"]);
  });

  it("passes on a line without newline in bounded pieces", () => {
    const lines: string[] = [];
    const splitter = createLineSplitter((l) => lines.push(l));
    splitter.push(Buffer.from("x".repeat(MAX_LINE_LENGTH * 2 + 5)));
    expect(lines).toHaveLength(2);
    splitter.end();
    expect(lines.map((l) => l.length)).toEqual([MAX_LINE_LENGTH, MAX_LINE_LENGTH, 5]);
  });
});

describe("Tail", () => {
  it("keeps the last lines only", () => {
    const tail = new Tail(2);
    for (const line of ["a", "b", "c"]) tail.push(line);
    expect(tail.lines).toEqual(["b", "c"]);
  });
});
