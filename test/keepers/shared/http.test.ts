import { request } from "node:http";
import { expect } from "chai";
import { z } from "zod";
import { RpcError } from "../../../keepers/shared/errors";
import { HttpError, HttpServer, parseJson } from "../../../keepers/shared/http";
import { createLogger } from "../../../keepers/shared/logger";
import { createMetrics } from "../../../keepers/shared/metrics";
import { captureLogs } from "./fixtures/captureLogs";

type Reply = { status: number; headers: Record<string, string | string[] | undefined>; body: string; json: unknown };

function call(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = request(
      url,
      { method, headers: { ...(body !== undefined && { "content-type": "application/json" }), ...headers } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString();
        });
        res.on("end", () => {
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("keepers/shared http: HttpServer", () => {
  let server: HttpServer;
  let base: string;
  let healthy: { rpc: boolean; store: boolean };
  const logs = captureLogs();
  const received: unknown[] = [];

  before(async () => {
    healthy = { rpc: true, store: true };
    const metrics = createMetrics("httptest", { defaultMetrics: false });
    metrics.counter("custom_total", "custom").inc(3);
    server = new HttpServer({
      host: "127.0.0.1",
      port: 0,
      logger: createLogger("httptest", "info", logs.stream),
      metrics,
      bodyLimitBytes: 1024,
    });
    server
      .route("GET", "/tx/status/:id", (req) => {
        if (req.params.id === "missing") throw new HttpError(404, "tx_not_found", `no transaction ${req.params.id}`);
        return { body: { id: req.params.id, verbose: req.query.get("verbose") === "1", amount: 10n ** 30n } };
      })
      .route("POST", "/tx/execute", (req) => {
        const intent = parseJson(z.object({ key: z.string().min(1), to: z.string() }), req.body);
        received.push(intent);
        return { status: 202, body: { accepted: intent.key } };
      })
      .route("GET", "/boom", () => {
        throw new Error("internal detail https://rpc.example/v2/KEY");
      })
      .route("GET", "/flaky", () => {
        throw new RpcError("rpc down", { code: "RPC_NETWORK", retryable: true });
      })
      .healthCheck("rpc", () => healthy.rpc)
      .healthCheck("store", async () => {
        if (!healthy.store) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        return { ok: true, detail: "pglite" };
      })
      .healthCheck("slow", () => new Promise((r) => setTimeout(() => r(true), 10)));
    base = (await server.listen()).url;
  });

  after(async () => {
    await server.close();
  });

  it("routes GET with path params and query, serialising bigint as decimal", async () => {
    const r = await call(base, "GET", "/tx/status/abc%2F1?verbose=1");
    expect(r.status).to.equal(200);
    expect(r.headers["content-type"]).to.equal("application/json; charset=utf-8");
    expect(r.json).to.deep.equal({ id: "abc/1", verbose: true, amount: "1000000000000000000000000000000" });
  });

  it("parses JSON bodies and validates them (400 names the field)", async () => {
    const ok = await call(base, "POST", "/tx/execute", JSON.stringify({ key: "k1", to: "0x1" }));
    expect(ok.status).to.equal(202);
    expect(ok.json).to.deep.equal({ accepted: "k1" });
    expect(received).to.deep.equal([{ key: "k1", to: "0x1" }]);
    const bad = await call(base, "POST", "/tx/execute", JSON.stringify({ key: "" }));
    expect(bad.status).to.equal(400);
    const err = (bad.json as { error: { code: string; issues: { path: string }[] } }).error;
    expect(err.code).to.equal("invalid_request");
    expect(err.issues.map((i) => i.path)).to.deep.equal(["key", "to"]);
  });

  it("answers 400 for malformed JSON and 415 for a non-JSON body", async () => {
    const r = await call(base, "POST", "/tx/execute", "{not json");
    expect(r.status).to.equal(400);
    expect(r.json).to.deep.equal({ error: { code: "invalid_json", message: "request body is not valid JSON" } });
    const t = await call(base, "POST", "/tx/execute", "key=1", { "content-type": "text/plain" });
    expect(t.status).to.equal(415);
    expect((t.json as { error: { code: string } }).error.code).to.equal("unsupported_media_type");
  });

  it("answers 413 for a body over the limit, declared or streamed", async () => {
    const big = JSON.stringify({ key: "x".repeat(2_000), to: "0x1" });
    const r = await call(base, "POST", "/tx/execute", big);
    expect(r.status).to.equal(413);
    expect(r.json).to.deep.equal({ error: { code: "payload_too_large", message: "request body exceeds 1024 bytes" } });
    const chunked = await call(base, "POST", "/tx/execute", big, { "transfer-encoding": "chunked" });
    expect(chunked.status).to.equal(413);
    expect(received.length).to.equal(1);
  });

  it("answers 404 for unknown paths and 405 with Allow for a wrong method", async () => {
    const nf = await call(base, "GET", "/nope");
    expect(nf.status).to.equal(404);
    expect(nf.json).to.deep.equal({ error: { code: "not_found", message: "no route for /nope" } });
    const na = await call(base, "DELETE", "/tx/execute");
    expect(na.status).to.equal(405);
    expect(na.headers.allow).to.equal("POST");
    const m = await call(base, "POST", "/metrics", "{}");
    expect(m.status).to.equal(405);
    const custom = await call(base, "GET", "/tx/status/missing");
    expect(custom.status).to.equal(404);
    expect(custom.json).to.deep.equal({ error: { code: "tx_not_found", message: "no transaction missing" } });
  });

  it("answers 500 without internals for a failing handler, 503 for a retryable one", async () => {
    const r = await call(base, "GET", "/boom");
    expect(r.status).to.equal(500);
    expect(r.json).to.deep.equal({ error: { code: "internal", message: "internal error" } });
    expect(logs.text()).to.include("HTTP handler failed");
    expect(logs.text()).to.not.include("v2/KEY");
    const f = await call(base, "GET", "/flaky");
    expect(f.status).to.equal(503);
    expect(f.headers["retry-after"]).to.equal("1");
  });

  it("serves Prometheus text on /metrics, counting requests by route and status", async () => {
    const r = await call(base, "GET", "/metrics");
    expect(r.status).to.equal(200);
    expect(r.headers["content-type"]).to.match(/^text\/plain; version=0\.0\.4/);
    expect(r.body).to.include('covenant_httptest_custom_total{keeper="httptest"} 3');
    expect(r.body).to.include(
      'covenant_httptest_http_requests_total{method="GET",route="/tx/status/:id",status="200",keeper="httptest"} 1',
    );
    expect(r.body).to.include(
      'covenant_httptest_http_requests_total{method="POST",route="/tx/execute",status="413",keeper="httptest"} 2',
    );
  });

  it("answers /healthz 200 when every check passes and 503 with details when one fails", async () => {
    const ok = await call(base, "GET", "/healthz");
    expect(ok.status).to.equal(200);
    const okBody = ok.json as { status: string; checks: Record<string, { ok: boolean; detail?: unknown }> };
    expect(okBody.status).to.equal("ok");
    expect(Object.keys(okBody.checks).sort()).to.deep.equal(["rpc", "slow", "store"]);
    expect(okBody.checks.store).to.include({ ok: true, detail: "pglite" });
    healthy.store = false;
    healthy.rpc = false;
    try {
      const bad = await call(base, "GET", "/healthz");
      expect(bad.status).to.equal(503);
      const body = bad.json as { status: string; checks: Record<string, { ok: boolean; detail?: unknown }> };
      expect(body.status).to.equal("unhealthy");
      expect(body.checks.rpc!.ok).to.equal(false);
      expect(body.checks.store).to.include({ ok: false, detail: "connect ECONNREFUSED 127.0.0.1:5432" });
      expect(body.checks.slow!.ok).to.equal(true);
    } finally {
      healthy.store = true;
      healthy.rpc = true;
    }
  });

  it("fails a health check that exceeds the timeout", async () => {
    const s = new HttpServer({ host: "127.0.0.1", port: 0, logger: createLogger("t", "silent"), healthTimeoutMs: 50 });
    s.healthCheck("hang", () => new Promise(() => {}));
    const url = (await s.listen()).url;
    try {
      const r = await call(url, "GET", "/healthz");
      expect(r.status).to.equal(503);
      expect((r.json as { checks: { hang: { detail: string } } }).checks.hang.detail).to.equal(
        "health check timed out after 50 ms",
      );
    } finally {
      await s.close();
    }
  });

  it("refuses duplicate and reserved routes", () => {
    expect(() => server.route("GET", "/tx/status/:id", () => ({}))).to.throw("already registered");
    expect(() => server.route("GET", "/healthz", () => ({}))).to.throw("served by the HttpServer itself");
  });

  it("closes cleanly, also with an idle keep-alive connection open, and twice", async () => {
    const s = new HttpServer({ host: "127.0.0.1", port: 0, logger: createLogger("t", "silent") });
    s.route("GET", "/x", () => ({ body: 1 }));
    const url = (await s.listen()).url;
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve) => {
      request(new URL("/x", url), { agent }, (res) => {
        res.resume();
        res.on("end", () => resolve());
      }).end();
    });
    const t = Date.now();
    await Promise.all([s.close(), s.close()]);
    await s.close();
    expect(Date.now() - t).to.be.lessThan(1_000);
    agent.destroy();
    const err = await call(url, "GET", "/x").catch((e: NodeJS.ErrnoException) => e);
    expect((err as NodeJS.ErrnoException).code).to.equal("ECONNREFUSED");
  });
});
