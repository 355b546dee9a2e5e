import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import { CovenantError, classifyError, shortMessageOf } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { redactText, redactValue } from "./redact";

/*
 * The one HTTP server of a keeper: /metrics for Prometheus, /healthz for the orchestrator, and the
 * keeper's own JSON routes. Plain node:http keeps the dependency surface small; the router is a
 * list of "/segment/:param" patterns, which is all keepers need.
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type HttpRequest = {
  method: HttpMethod;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when the request had none. */
  body: unknown;
};

export type HttpResponse = { status?: number; body?: unknown; headers?: Record<string, string> };

export type RouteHandler = (req: HttpRequest) => Promise<HttpResponse> | HttpResponse;

export type HealthResult = { ok: boolean; detail?: unknown };

/** A request refused with an HttpError (by the server itself, e.g. invalid JSON, or by a handler). */
export type RefusedRequest = { method: string; route: string; status: number; code: string; message: string };
export type HealthCheck = () => Promise<HealthResult | boolean> | HealthResult | boolean;

/** Thrown by a handler to answer with a specific status and a JSON error. */
export class HttpError extends CovenantError {
  override name = "HttpError";
  readonly status: number;
  readonly extra: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, extra?: Record<string, unknown>) {
    super(message, { code, retryable: false, details: "" });
    this.status = status;
    this.extra = extra;
  }
}

/** Validates a request body (or params) with zod; a failure is a 400 naming each bad field. */
export function parseJson<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));
  throw new HttpError(400, "invalid_request", "request does not match the expected shape", { issues });
}

export type HttpServerOptions = {
  host: string;
  port: number;
  logger: Logger;
  metrics?: Metrics;
  /** Largest accepted request body; larger ones get 413 without being read. */
  bodyLimitBytes?: number;
  /** A health check that takes longer than this counts as failed. */
  healthTimeoutMs?: number;
};

type Route = { method: HttpMethod; pattern: string; segments: string[]; handler: RouteHandler };

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const RESERVED = new Set(["/metrics", "/healthz"]);

export class HttpServer {
  private readonly routes: Route[] = [];
  private readonly checks = new Map<string, HealthCheck>();
  private readonly refusalListeners: ((r: RefusedRequest) => unknown)[] = [];
  private readonly server: Server;
  private readonly bodyLimit: number;
  private readonly healthTimeoutMs: number;
  private readonly requests?: ReturnType<Metrics["counter"]>;
  private readonly duration?: ReturnType<Metrics["histogram"]>;
  private closing?: Promise<void>;

  constructor(private readonly options: HttpServerOptions) {
    this.bodyLimit = options.bodyLimitBytes ?? 64 * 1024;
    this.healthTimeoutMs = options.healthTimeoutMs ?? 3_000;
    if (options.metrics) {
      this.requests = options.metrics.counter("http_requests_total", "HTTP requests served", [
        "method",
        "route",
        "status",
      ]);
      this.duration = options.metrics.histogram("http_request_duration_seconds", "HTTP request duration", ["route"]);
    }
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    // Slow or idle clients must not hold a keeper's shutdown hostage.
    this.server.requestTimeout = 30_000;
    this.server.headersTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
  }

  route(method: HttpMethod, pattern: string, handler: RouteHandler): this {
    const path = normalizePath(pattern);
    if (RESERVED.has(path)) throw new Error(`${path} is served by the HttpServer itself`);
    if (this.routes.some((r) => r.method === method && r.pattern === path)) {
      throw new Error(`route ${method} ${path} is already registered`);
    }
    this.routes.push({ method, pattern: path, segments: splitPath(path), handler });
    return this;
  }

  /**
   * Calls `listener` for every request answered with an HttpError, including those the server
   * refuses before a handler runs (invalid JSON, 413, 415) — e.g. to audit them. Errors it throws
   * are logged and otherwise ignored.
   */
  onRefused(listener: (r: RefusedRequest) => unknown): this {
    this.refusalListeners.push(listener);
    return this;
  }

  /** Adds a named check to /healthz; it fails when it returns false/{ok:false}, throws or times out. */
  healthCheck(name: string, check: HealthCheck): this {
    this.checks.set(name, check);
    return this;
  }

  async listen(): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    return this.address();
  }

  address(): { host: string; port: number; url: string } {
    const a = this.server.address() as AddressInfo | null;
    if (!a) throw new Error("HttpServer is not listening");
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
  }

  /** Stops accepting connections, lets in-flight requests finish (up to `graceMs`), then closes. Idempotent. */
  close(graceMs = 2_000): Promise<void> {
    if (!this.server.listening) return this.closing ?? Promise.resolve();
    this.closing ??= new Promise<void>((resolve) => {
      const force = setTimeout(() => this.server.closeAllConnections(), graceMs);
      force.unref();
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      this.server.closeIdleConnections();
    });
    return this.closing;
  }

  /** Runs every health check (in parallel, each bounded by the timeout). */
  async health(): Promise<{ ok: boolean; checks: Record<string, HealthResult & { ms: number }> }> {
    const entries = await Promise.all(
      [...this.checks.entries()].map(async ([name, check]) => {
        const started = Date.now();
        let result: HealthResult;
        try {
          const r = await withTimeout(Promise.resolve(check()), this.healthTimeoutMs);
          result = typeof r === "boolean" ? { ok: r } : r;
        } catch (err) {
          result = { ok: false, detail: shortMessageOf(err) };
        }
        return [name, { ...result, ms: Date.now() - started }] as const;
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ok: entries.every(([, r]) => r.ok), checks };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    let routeLabel = "unmatched";
    let status = 500;
    try {
      const url = new URL(req.url ?? "/", "http://keeper.local");
      const path = normalizePath(url.pathname);
      const method = (req.method ?? "GET").toUpperCase();
      if (path === "/metrics" || path === "/healthz") {
        routeLabel = path;
        if (method !== "GET") {
          status = sendError(res, 405, "method_not_allowed", `${method} is not allowed on ${path}`, { Allow: "GET" });
          req.resume();
          return;
        }
        status = path === "/metrics" ? await this.serveMetrics(res) : await this.serveHealth(res);
        return;
      }
      const candidates = this.routes
        .map((r) => ({ r, params: matchPath(r.segments, splitPath(path)) }))
        .filter((m) => m.params !== undefined);
      if (candidates.length === 0) {
        req.resume();
        status = sendError(res, 404, "not_found", `no route for ${path}`);
        return;
      }
      const match = candidates.find((m) => m.r.method === method);
      if (!match) {
        req.resume();
        const allow = [...new Set(candidates.map((m) => m.r.method))].join(", ");
        status = sendError(res, 405, "method_not_allowed", `${method} is not allowed on ${path}`, { Allow: allow });
        return;
      }
      routeLabel = match.r.pattern;
      let body: unknown;
      if (BODY_METHODS.has(method)) body = await this.readBody(req);
      else req.resume();
      const response = await match.r.handler({
        method: method as HttpMethod,
        path,
        params: match.params ?? {},
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      status = response.status ?? 200;
      sendJson(res, status, response.body ?? null, response.headers);
    } catch (err) {
      status = this.sendFailure(res, err);
      if (err instanceof HttpError) this.notifyRefused(req.method ?? "", routeLabel, err);
    } finally {
      this.requests?.inc({ method: req.method ?? "", route: routeLabel, status: String(status) });
      this.duration?.observe({ route: routeLabel }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private notifyRefused(method: string, route: string, err: HttpError): void {
    const r: RefusedRequest = { method, route, status: err.status, code: err.code, message: err.shortMessage };
    for (const listener of this.refusalListeners) {
      Promise.resolve()
        .then(() => listener(r))
        .catch((e: unknown) => this.options.logger.warn({ err: e }, "refusal listener failed"));
    }
  }

  private sendFailure(res: ServerResponse, err: unknown): number {
    if (err instanceof HttpError) {
      // The body of an oversized request was not read; closing the connection discards it.
      const headers: Record<string, string> = err.status === 413 ? { Connection: "close" } : {};
      return sendError(res, err.status, err.code, err.shortMessage, headers, err.extra);
    }
    const c = classifyError(err);
    this.options.logger.error({ err }, "HTTP handler failed");
    if (c.retryable) {
      return sendError(res, 503, "unavailable", "temporarily unavailable, retry later", { "Retry-After": "1" });
    }
    const code = err instanceof CovenantError ? err.code : "internal";
    return sendError(res, 500, code, "internal error");
  }

  private async serveMetrics(res: ServerResponse): Promise<number> {
    if (!this.options.metrics) return sendError(res, 404, "not_found", "metrics are not enabled");
    const text = await this.options.metrics.text();
    res.writeHead(200, { "Content-Type": this.options.metrics.contentType, "Cache-Control": "no-store" });
    res.end(text);
    return 200;
  }

  private async serveHealth(res: ServerResponse): Promise<number> {
    const h = await this.health();
    const status = h.ok ? 200 : 503;
    sendJson(res, status, redactValue({ status: h.ok ? "ok" : "unhealthy", checks: h.checks }));
    return status;
  }

  private readBody(req: IncomingMessage): Promise<unknown> {
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > this.bodyLimit) {
      return Promise.reject(tooLarge(this.bodyLimit));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on("data", (chunk: Buffer) => {
        if (failed) return;
        size += chunk.length;
        if (size > this.bodyLimit) {
          failed = true;
          req.pause();
          reject(tooLarge(this.bodyLimit));
          return;
        }
        chunks.push(chunk);
      });
      req.on("error", (err) => {
        if (!failed) reject(err);
      });
      req.on("end", () => {
        if (failed) return;
        const text = Buffer.concat(chunks).toString("utf8");
        if (text.trim() === "") {
          resolve(undefined);
          return;
        }
        const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
        if (type !== "application/json") {
          reject(new HttpError(415, "unsupported_media_type", "request body must be application/json"));
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch {
          reject(new HttpError(400, "invalid_json", "request body is not valid JSON"));
        }
      });
    });
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "payload_too_large", `request body exceeds ${limit} bytes`);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(text);
}

function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  extra?: Record<string, unknown>,
): number {
  sendJson(res, status, { error: { code, message: redactText(message), ...(extra ?? {}) } }, headers);
  return status;
}

function normalizePath(path: string): string {
  const p = path.replace(/\/+/g, "/");
  return p.length > 1 && p.endsWith("/") ? p.slice(0, -1) : p;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

function matchPath(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const a = actual[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(a);
      } catch {
        return undefined;
      }
    } else if (p !== a) {
      return undefined;
    }
  }
  return params;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`health check timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
