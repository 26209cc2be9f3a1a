// A Unix socket in front of the real engine that passes every byte through, and runs a test's hook
// just before it forwards a container start: the moment between create/attach and start that a
// test cannot otherwise reach from outside the process under test. The engine still decides
// everything; the hook only changes the world (removes a mount's source, ...) at that moment.
import { createConnection, createServer, type Socket } from "node:net";

const START_REQUEST = /^POST \/(?:v[\d.]+\/)?containers\/([^/\s]+)\/start[\s?]/;

export interface EngineProxy {
  /** DOCKER_HOST for the process under test. */
  readonly dockerHost: string;
  close(): Promise<void>;
}

export async function startEngineProxy(
  engineSocket: string,
  socketPath: string,
  beforeStart: (containerId: string) => Promise<void>,
): Promise<EngineProxy> {
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    clients.add(client);
    const engine = createConnection(engineSocket);
    // Chunks go to the engine in order; a start waits for the hook, and what follows waits behind it.
    let forwarded = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      const start = START_REQUEST.exec(chunk.subarray(0, 512).toString("latin1"));
      forwarded = forwarded.then(async () => {
        if (start) await beforeStart(decodeURIComponent(start[1]!));
        engine.write(chunk);
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
