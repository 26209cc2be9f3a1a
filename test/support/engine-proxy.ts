// A Unix socket in front of the real engine that passes every byte through, and runs a test's hook
// just before it forwards a container start: the moment between create/attach and start that a
// test cannot otherwise reach from outside the process under test. The engine decides everything
// else; the hook changes the world (removes a mount's source, ...) at that moment, or answers the
// start itself, as an engine that refuses it would (a test double for refusals this machine's
// engine cannot be made to give: it departs from the engine only in that one answer, and the
// container it created stays as the engine left it, created and never started).
import { createConnection, createServer, type Socket } from "node:net";

const START_REQUEST = /^POST \/(?:v[\d.]+\/)?containers\/([^/\s]+)\/start[\s?]/;

/** The proxy's own answer to a start: the status and the JSON body's `message`, as Docker and Podman send a refusal. */
export interface StartAnswer {
  status: number;
  message: string;
}

function answerFor({ status, message }: StartAnswer): Buffer {
  const body = JSON.stringify({ message });
  return Buffer.from(
    `HTTP/1.1 ${status} Refused\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** How many bytes of a request's body are not in the chunk that carries its head (the answered request's body is dropped). */
function bodyBytesAfter(chunk: Buffer): number {
  const headEnd = chunk.indexOf("\r\n\r\n");
  if (headEnd < 0) return 0;
  const length = /\r\ncontent-length: *(\d+)/i.exec(chunk.subarray(0, headEnd).toString("latin1"));
  return Math.max(0, (length ? Number(length[1]) : 0) - (chunk.length - headEnd - 4));
}

export interface EngineProxy {
  /** DOCKER_HOST for the process under test. */
  readonly dockerHost: string;
  close(): Promise<void>;
}

export async function startEngineProxy(
  engineSocket: string,
  socketPath: string,
  beforeStart: (containerId: string) => Promise<StartAnswer | void>,
): Promise<EngineProxy> {
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    const engine = createConnection(engineSocket);
    // Chunks go to the engine in order; a start waits for the hook, and what follows waits behind it.
    let forwarded = Promise.resolve();
    // Bytes of an answered start's body still to come: they never reach the engine.
    let dropping = 0;
    client.on("data", (received: Buffer) => {
      forwarded = forwarded.then(async () => {
        const dropped = Math.min(dropping, received.length);
        dropping -= dropped;
        const chunk = received.subarray(dropped);
        if (chunk.length === 0) return;
        const start = START_REQUEST.exec(chunk.subarray(0, 512).toString("latin1"));
        const answer = start ? await beforeStart(decodeURIComponent(start[1]!)) : undefined;
        if (answer) {
          dropping = bodyBytesAfter(chunk);
          client.write(answerFor(answer));
        } else engine.write(chunk);
      });
    });
    engine.pipe(client);
    const closeBoth = () => {
      clients.delete(client);
      client.destroy();
      engine.destroy();
    };
    client.on("close", closeBoth);
    engine.on("close", closeBoth);
    client.on("error", closeBoth);
    engine.on("error", closeBoth);
    // A half-close (the client ended its side) passes on as one.
    client.on("end", () => void forwarded.then(() => engine.end()));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  return {
    dockerHost: `unix://${socketPath}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.destroy();
        server.close(() => resolve());
      }),
  };
}
