import { connect, createServer, type Server, type Socket } from "node:net";

/*
 * A loopback TCP proxy in front of a real server (an RPC node, PostgreSQL), so that a test can make
 * the server "go away" and come back without touching the server process:
 *  - pause(): accepted connections are held without forwarding (requests hang, clients time out);
 *  - drop(): every open connection is destroyed (connection reset), new ones are refused;
 *  - resume(): forwarding works again.
 */

export type TcpProxy = {
  port: number;
  url(scheme?: string): string;
  pause(): void;
  drop(): void;
  resume(): void;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
};

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: "open" | "paused" | "dropped" = "open";
  let accepted = 0;
  const sockets = new Set<Socket>();
  const held: Socket[] = [];

  const forward = (client: Socket) => {
    const upstream = connect(targetPort, targetHost);
    sockets.add(upstream);
    upstream.on("close", () => sockets.delete(upstream));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server: Server = createServer((client) => {
    accepted++;
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => {});
    if (mode === "dropped") {
      client.destroy();
      return;
    }
    if (mode === "paused") {
      client.pause();
      held.push(client);
      return;
    }
    forward(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    url: (scheme = "http") => `${scheme}://127.0.0.1:${port}`,
    get connections() {
      return accepted;
    },
    pause() {
      mode = "paused";
    },
    drop() {
      mode = "dropped";
      for (const s of sockets) s.destroy();
      sockets.clear();
      held.length = 0;
    },
    resume() {
      mode = "open";
      for (const client of held.splice(0)) {
        if (!client.destroyed) {
          forward(client);
          client.resume();
        }
      }
    },
    close() {
      for (const s of sockets) s.destroy();
      for (const s of held) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
