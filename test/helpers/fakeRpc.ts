import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/*
 * A tiny HTTP server that answers JSON-RPC the way misbehaving providers do (429, 503, "header
 * not found", range errors, …), so that errors reach our code through viem's real HTTP transport.
 */

export type FakeReply =
  | { status: number; body?: string }
  | { result: unknown }
  | { error: { code: number; message: string; data?: unknown } };

export type FakeRpc = {
  url: string;
  /** Requests received (method names), in order. */
  calls: string[];
  close(): Promise<void>;
};

export async function startFakeRpc(reply: (method: string, params: unknown[]) => FakeReply): Promise<FakeRpc> {
  const calls: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = "";
    req.on("data", (c: Buffer) => {
      text += c.toString();
    });
    req.on("end", () => {
      const body = JSON.parse(text) as { id: number; method: string; params?: unknown[] };
      calls.push(body.method);
      const r = reply(body.method, body.params ?? []);
      if ("status" in r) {
        res.writeHead(r.status, { "content-type": "text/plain" });
        res.end(r.body ?? "");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, ...r }));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
