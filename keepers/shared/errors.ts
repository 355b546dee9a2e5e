import { redactText } from "./redact";

/*
 * Every error a keeper raises on purpose is a CovenantError: a short message for humans, details
 * taken from the cause, a stable `code` for metrics and tests, and `retryable`, the one bit the
 * service loop acts on (retry next tick, or stop). `classifyError` sorts errors that come from
 * libraries (viem, node:net, undici, pg, PGlite) the same way.
 */

export type CovenantErrorOptions = {
  code: string;
  retryable: boolean;
  cause?: unknown;
  details?: string;
  meta?: Record<string, unknown>;
};

export class CovenantError extends Error {
  override name = "CovenantError";
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly code: string;
  readonly retryable: boolean;
  readonly meta: Record<string, unknown> | undefined;

  constructor(shortMessage: string, options: CovenantErrorOptions) {
    const details = options.details ?? detailsOf(options.cause);
    const short = redactText(shortMessage);
    const safeDetails = details === undefined ? undefined : redactText(details);
    super(safeDetails && safeDetails !== short ? `${short}\n\nDetails: ${safeDetails}` : short, {
      cause: options.cause,
    });
    this.shortMessage = short;
    this.details = safeDetails;
    this.code = options.code;
    this.retryable = options.retryable;
    this.meta = options.meta;
  }

  /** The first error in the cause chain (this one included) that satisfies `fn`. */
  walk(fn: (err: unknown) => boolean): unknown {
    return walkCauses(this, fn);
  }
}

export type ConfigIssue = { variable: string; message: string };

/** Wrong or missing configuration. Never retryable: the process must be restarted with a fix. */
export class ConfigError extends CovenantError {
  override name = "ConfigError";
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[] | string, options: { cause?: unknown; code?: string } = {}) {
    const list = typeof issues === "string" ? [{ variable: "", message: issues }] : issues;
    const lines = list.map((i) => (i.variable ? `${i.variable}: ${i.message}` : i.message));
    super(
      lines.length === 1 ? `Invalid configuration: ${lines[0]}` : `Invalid configuration:\n  ${lines.join("\n  ")}`,
      {
        code: options.code ?? "CONFIG_INVALID",
        retryable: false,
        cause: options.cause,
        details: "",
      },
    );
    this.issues = list;
  }
}

/** A JSON-RPC call failed. `retryable` comes from `classifyError` of the cause. */
export class RpcError extends CovenantError {
  override name = "RpcError";

  static from(err: unknown, context: string): RpcError {
    if (err instanceof RpcError) return err;
    const c = classifyError(err);
    return new RpcError(`${context}: ${shortMessageOf(err)}`, {
      code: `RPC_${c.kind.toUpperCase().replace(/-/g, "_")}`,
      retryable: c.retryable,
      cause: err,
    });
  }
}

/** A database operation failed. `sqlState` is the PostgreSQL SQLSTATE when the server sent one. */
export class StoreError extends CovenantError {
  override name = "StoreError";
  readonly sqlState: string | undefined;

  constructor(shortMessage: string, options: CovenantErrorOptions & { sqlState?: string }) {
    super(shortMessage, options);
    this.sqlState = options.sqlState;
  }

  static from(err: unknown, context: string): StoreError {
    if (err instanceof StoreError) return err;
    const c = classifyError(err);
    const sqlState = sqlStateOf(err);
    return new StoreError(`${context}: ${shortMessageOf(err)}`, {
      code: sqlState ? `STORE_${sqlState}` : `STORE_${c.kind.toUpperCase().replace(/-/g, "_")}`,
      retryable: c.retryable,
      cause: err,
      sqlState,
    });
  }
}

/** A transaction could not be submitted or did not end as intended. */
export class SubmitError extends CovenantError {
  override name = "SubmitError";
}

/** The log scanner met something it must not paper over (reorg deeper than allowed, bad ABI). */
export class ScanError extends CovenantError {
  override name = "ScanError";
}

/** Work interrupted by an AbortSignal (shutdown). Not retryable: the caller is going away. */
export class AbortedError extends CovenantError {
  override name = "AbortedError";

  constructor(reason?: unknown) {
    super("Operation aborted", { code: "ABORTED", retryable: false, cause: reason, details: "" });
  }
}

export function isAbortError(err: unknown): boolean {
  return walkCauses(err, (e) => e instanceof AbortedError || nameOf(e) === "AbortError") !== undefined;
}

/* -------------------------------------------------------------------------------------------- */
/*                                        classification                                        */
/* -------------------------------------------------------------------------------------------- */

export type ErrorKind =
  | "network"
  | "timeout"
  | "rate-limit"
  | "server"
  | "rpc-transient"
  | "log-range"
  | "revert"
  | "invalid-request"
  | "unauthorized"
  | "config"
  | "db-connection"
  | "db-transient"
  | "db-constraint"
  | "db-query"
  | "aborted"
  | "unknown";

export type ErrorClass = { retryable: boolean; kind: ErrorKind };

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

const NETWORK_MESSAGE =
  /fetch failed|socket hang up|network error|other side closed|connection terminated|connection (was )?(closed|reset|refused)|client has encountered a connection error|read ECONNRESET|econnrefused|etimedout|socket closed|terminating connection/i;

const TIMEOUT_MESSAGE = /timed? ?out|timeout exceeded|took too long/i;

// What RPC providers and nodes say when they are temporarily unable to answer.
const RPC_TRANSIENT_MESSAGE =
  /header not found|unknown block|missing trie node|block not found|request limit|rate ?limit|too many requests|exceeded .*(capacity|quota|limit)|compute units|try again|temporarily unavailable|service unavailable|bad gateway|gateway time|internal server error|server is busy|overloaded|upstream|backend|no response/i;

// What providers say when an eth_getLogs range or response is too large.
const LOG_RANGE_MESSAGE =
  /block range|range (is )?too (large|wide|big)|exceed(s|ed)? (the )?(maximum|max)?.{0,20}range|limited to (a )?[\d,]+ ?(block )?range|more than [\d,]+ (results|logs)|response size|too many (results|logs)|query returned more than|log response size exceeded|range limit|max(imum)? block range|ranges over [\d,]+ blocks/i;

const REVERT_MESSAGE = /execution reverted|reverted with|vm exception|revert(ed)?\b|invalid opcode|out of gas/i;

const INVALID_MESSAGE =
  /invalid (params|argument|signature|sender|transaction|address|input)|nonce too low|nonce too high|insufficient funds|intrinsic gas too low|replacement transaction underpriced|already known|method not found|does not exist\/is not available|not supported|unsupported/i;

const RETRYABLE_HTTP_STATUS = new Set([408, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524]);

/**
 * Decides whether an error is worth retrying.
 *
 * The cause chain is walked from the outside in. A CovenantError decides for itself. A revert or a
 * malformed request is fatal wherever it appears in the chain (retrying a revert only burns money),
 * otherwise any network, timeout, rate-limit or 5xx cause makes the whole error retryable. Anything
 * unrecognised is fatal: a keeper that moves money stops and pages rather than looping on an error
 * nobody has understood.
 */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof CovenantError) {
    return { retryable: err.retryable, kind: kindOfCovenant(err) };
  }
  const chain = causeChain(err);
  let transient: ErrorClass | undefined;
  for (const e of chain) {
    const c = classifyOne(e);
    if (!c) continue;
    if (!c.retryable) return c;
    transient ??= c;
  }
  return transient ?? { retryable: false, kind: "unknown" };
}

export function isRetryable(err: unknown): boolean {
  return classifyError(err).retryable;
}

/** True when a provider refused an eth_getLogs call because the range or the response is too large. */
export function isLogRangeError(err: unknown): boolean {
  return causeChain(err).some((e) => {
    const code = rpcCodeOf(e);
    const text = textOf(e);
    if (LOG_RANGE_MESSAGE.test(text)) return true;
    // -32005 "limit exceeded" is what Infura and many nodes send for an over-wide range.
    return code === -32005 && /limit|exceed/i.test(text);
  });
}

function kindOfCovenant(err: CovenantError): ErrorKind {
  if (err instanceof ConfigError) return "config";
  if (err instanceof AbortedError) return "aborted";
  if (err.cause !== undefined) {
    const inner = classifyError(err.cause);
    if (inner.kind !== "unknown") return inner.kind;
  }
  return "unknown";
}

function classifyOne(e: unknown): ErrorClass | undefined {
  if (e === null || e === undefined) return undefined;
  if (e instanceof CovenantError) return { retryable: e.retryable, kind: kindOfCovenant(e) };
  const name = nameOf(e);
  const text = textOf(e);
  const sqlState = sqlStateOf(e);
  const rpcCode = rpcCodeOf(e);
  const sysCode = sysCodeOf(e);

  if (name === "AbortError") return { retryable: false, kind: "aborted" };

  // PostgreSQL (pg and PGlite both carry the SQLSTATE in `code`).
  if (sqlState) return classifySqlState(sqlState);

  // Reverts first: a node may wrap a revert inside an "internal error" or a 500.
  if (
    name === "ExecutionRevertedError" ||
    name === "ContractFunctionRevertedError" ||
    name === "RawContractError" ||
    rpcCode === 3 ||
    (REVERT_MESSAGE.test(text) && !LOG_RANGE_MESSAGE.test(text))
  ) {
    return { retryable: false, kind: "revert" };
  }

  if (name === "TimeoutError" || name === "WaitForTransactionReceiptTimeoutError") {
    return { retryable: true, kind: "timeout" };
  }
  if (name === "SocketClosedError" || name === "WebSocketRequestError") return { retryable: true, kind: "network" };

  if (name === "HttpRequestError") {
    const status = httpStatusOf(e);
    if (status === undefined) return { retryable: true, kind: "network" };
    if (status === 429) return { retryable: true, kind: "rate-limit" };
    if (RETRYABLE_HTTP_STATUS.has(status)) return { retryable: true, kind: "server" };
    if (status === 401 || status === 403) return { retryable: false, kind: "unauthorized" };
    return { retryable: false, kind: "invalid-request" };
  }

  if (sysCode && NETWORK_CODES.has(sysCode)) {
    return { retryable: true, kind: sysCode.includes("TIMEOUT") || sysCode === "ETIMEDOUT" ? "timeout" : "network" };
  }

  if (rpcCode !== undefined) {
    if (LOG_RANGE_MESSAGE.test(text)) return { retryable: true, kind: "log-range" };
    if (rpcCode === 429 || rpcCode === -32005 || rpcCode === -32090) return { retryable: true, kind: "rate-limit" };
    if (rpcCode === -32002 || rpcCode === -32603) {
      return INVALID_MESSAGE.test(text)
        ? { retryable: false, kind: "invalid-request" }
        : { retryable: true, kind: "rpc-transient" };
    }
    if (rpcCode === -32600 || rpcCode === -32601 || rpcCode === -32602 || rpcCode === -32004 || rpcCode === -32006) {
      return { retryable: false, kind: "invalid-request" };
    }
    if (RPC_TRANSIENT_MESSAGE.test(text)) return { retryable: true, kind: "rpc-transient" };
    if (INVALID_MESSAGE.test(text)) return { retryable: false, kind: "invalid-request" };
    // Other codes (mostly geth's catch-all -32000) say nothing by themselves; the message decides.
  }

  if (name === "LimitExceededRpcError") return { retryable: true, kind: "rate-limit" };
  if (name === "ResourceUnavailableRpcError" || name === "InternalRpcError") {
    return { retryable: true, kind: "rpc-transient" };
  }
  if (
    name === "InvalidParamsRpcError" ||
    name === "InvalidRequestRpcError" ||
    name === "MethodNotFoundRpcError" ||
    name === "MethodNotSupportedRpcError" ||
    name === "InvalidSignatureError" ||
    name === "InvalidAddressError"
  ) {
    return { retryable: false, kind: "invalid-request" };
  }

  if (LOG_RANGE_MESSAGE.test(text)) return { retryable: true, kind: "log-range" };
  if (NETWORK_MESSAGE.test(text)) return { retryable: true, kind: "network" };
  if (TIMEOUT_MESSAGE.test(text)) return { retryable: true, kind: "timeout" };
  if (RPC_TRANSIENT_MESSAGE.test(text)) return { retryable: true, kind: "rpc-transient" };
  if (INVALID_MESSAGE.test(text)) return { retryable: false, kind: "invalid-request" };
  return undefined;
}

function classifySqlState(state: string): ErrorClass {
  const cls = state.slice(0, 2);
  // 08: connection exception; 57P01-57P03: admin/crash shutdown, cannot connect now;
  // 53: insufficient resources (too many connections); 58: system error (I/O).
  if (cls === "08" || state === "57P01" || state === "57P02" || state === "57P03") {
    return { retryable: true, kind: "db-connection" };
  }
  if (cls === "53" || cls === "58") return { retryable: true, kind: "db-transient" };
  // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57014 statement timeout.
  if (state === "40001" || state === "40P01" || state === "55P03" || state === "57014") {
    return { retryable: true, kind: "db-transient" };
  }
  if (cls === "23") return { retryable: false, kind: "db-constraint" };
  return { retryable: false, kind: "db-query" };
}

/* -------------------------------------------------------------------------------------------- */
/*                                         introspection                                        */
/* -------------------------------------------------------------------------------------------- */

function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  let cur: unknown = err;
  const seen = new Set<unknown>();
  while (cur !== undefined && cur !== null && !seen.has(cur) && out.length < 16) {
    out.push(cur);
    seen.add(cur);
    if (cur instanceof AggregateError) {
      // undici reports "fetch failed" with an AggregateError of per-address connection errors.
      for (const inner of cur.errors) out.push(...causeChain(inner));
    }
    cur = typeof cur === "object" ? (cur as { cause?: unknown }).cause : undefined;
  }
  return out;
}

function walkCauses(err: unknown, fn: (e: unknown) => boolean): unknown {
  return causeChain(err).find(fn);
}

function field(e: unknown, key: string): unknown {
  return typeof e === "object" && e !== null ? (e as Record<string, unknown>)[key] : undefined;
}

function nameOf(e: unknown): string {
  const n = field(e, "name");
  return typeof n === "string" ? n : "";
}

function textOf(e: unknown): string {
  if (typeof e === "string") return e;
  const parts = [field(e, "shortMessage"), field(e, "details"), field(e, "message")];
  return parts.filter((p): p is string => typeof p === "string").join(" | ");
}

function sqlStateOf(e: unknown): string | undefined {
  for (const x of causeChain(e)) {
    const code = field(x, "code");
    // A SQLSTATE is five characters of digits and upper-case letters, and pg/PGlite errors carry
    // `severity`; node system error codes (ECONNRESET) are longer.
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && field(x, "severity") !== undefined) return code;
    if (x instanceof StoreError && x.sqlState) return x.sqlState;
  }
  return undefined;
}

function rpcCodeOf(e: unknown): number | undefined {
  const code = field(e, "code");
  return typeof code === "number" ? code : undefined;
}

function sysCodeOf(e: unknown): string | undefined {
  const code = field(e, "code");
  if (typeof code === "string") return code;
  const errno = field(e, "errno");
  return typeof errno === "string" ? errno : undefined;
}

function httpStatusOf(e: unknown): number | undefined {
  const status = field(e, "status");
  return typeof status === "number" ? status : undefined;
}

export function shortMessageOf(err: unknown): string {
  const short = field(err, "shortMessage");
  if (typeof short === "string" && short) return redactText(short);
  if (err instanceof Error) return redactText(err.message.split("\n")[0] ?? err.message);
  return redactText(String(err));
}

function detailsOf(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  const details = field(cause, "details");
  if (typeof details === "string" && details) return details;
  return shortMessageOf(cause);
}
