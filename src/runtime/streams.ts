// Turning the Engine API's byte streams into redacted lines without ever holding a whole stream:
// eksctl runs for twenty minutes and a `kubectl logs` can print gigabytes.
import { StringDecoder } from "node:string_decoder";

export type StreamName = "stdout" | "stderr";

/**
 * Splits the multiplexed stream of a non-TTY attach/exec (8-byte header: stream type, 3 zero bytes,
 * big-endian payload length) and hands each payload on synchronously, so memory stays bounded by
 * one frame plus one chunk.
 */
export function createDemuxer(onData: (stream: StreamName, data: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  let frameType = 0;
  let frameRemaining = -1;
  return (chunk) => {
    let buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    pending = Buffer.alloc(0);
    while (buffer.length > 0) {
      if (frameRemaining < 0) {
        if (buffer.length < 8) {
          pending = Buffer.from(buffer);
          return;
        }
        frameType = buffer[0]!;
        frameRemaining = buffer.readUInt32BE(4);
        buffer = buffer.subarray(8);
        continue;
      }
      const take = Math.min(frameRemaining, buffer.length);
      if (take > 0) onData(frameType === 2 ? "stderr" : "stdout", buffer.subarray(0, take));
      frameRemaining -= take;
      buffer = buffer.subarray(take);
      if (frameRemaining === 0) frameRemaining = -1;
    }
  };
}

/** Lines longer than this are passed on in pieces rather than buffered without limit. */
export const MAX_LINE_LENGTH = 64 * 1024;

/** Decodes UTF-8 across chunk boundaries and calls `onLine` for each complete line (without "\n" or "\r"). */
export function createLineSplitter(onLine: (line: string) => void): { push(data: Buffer): void; end(): void } {
  const decoder = new StringDecoder("utf8");
  let partial = "";
  const emitLines = (text: string) => {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    for (const part of parts) onLine(part.endsWith("\r") ? part.slice(0, -1) : part);
    while (partial.length > MAX_LINE_LENGTH) {
      onLine(partial.slice(0, MAX_LINE_LENGTH));
      partial = partial.slice(MAX_LINE_LENGTH);
    }
  };
  return {
    push(data) {
      emitLines(decoder.write(data));
    },
    end() {
      emitLines(decoder.end());
      if (partial) onLine(partial.endsWith("\r") ? partial.slice(0, -1) : partial);
      partial = "";
    },
  };
}

/** The last `size` items, for error reports. */
export class Tail {
  private readonly items: string[] = [];
  constructor(private readonly size: number) {}
  push(item: string): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  get lines(): string[] {
    return [...this.items];
  }
}
