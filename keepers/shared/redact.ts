import { inspect } from "node:util";

/**
 * Secrets that must never reach a log line, an error message or a JSON response.
 *
 * Config values such as the keeper's private key are wrapped in a `Secret` so that an accidental
 * `logger.info(config)` or `JSON.stringify(config)` prints "[redacted]"; code that needs the value
 * calls `reveal()` on purpose.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return `Secret(${REDACTED})`;
  }
}

export const REDACTED = "[redacted]";

/** Object keys whose values are secret wherever they appear (config, log context, error meta). */
const SECRET_KEY = /(private_?key|password|passphrase|secret|mnemonic|api_?key|authorization|cookie|^token$)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

// Scheme-qualified URLs inside free text (error messages, stack traces, log messages).
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Hides what an URL may carry as a credential: the password of `user:pass@`, and for http(s) the
 * path and query, where hosted RPC providers put the API key (`/v2/<key>`, `?apikey=`).
 * Scheme, host and port stay, so an operator can still tell which endpoint failed.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  let changed = false;
  if (url.password) {
    url.password = "redacted";
    changed = true;
  }
  const isHttp = url.protocol === "http:" || url.protocol === "https:" || url.protocol.startsWith("ws");
  if (isHttp && ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash)) {
    url.pathname = "/redacted";
    url.search = "";
    url.hash = "";
    changed = true;
  }
  if (!changed) return raw;
  return url.toString().replace(":redacted@", `:${REDACTED}@`).replace("/redacted", `/${REDACTED}`);
}

/** Redacts every URL found in a piece of text. */
export function redactText(text: string): string {
  return text.replace(URL_IN_TEXT, (match) => {
    // A URL at the end of a sentence often drags the punctuation along; keep it outside.
    const trail = /[.,;:)]+$/.exec(match)?.[0] ?? "";
    const core = trail ? match.slice(0, -trail.length) : match;
    return redactUrl(core) + trail;
  });
}

/**
 * A deep copy of a log or JSON payload with secret-named keys replaced and URLs redacted.
 * Depth and breadth are bounded because log payloads can be arbitrary objects (viem errors hold
 * clients, which hold transports, which hold…).
 */
export function redactValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === "string") return redactText(value);
  if (value instanceof Secret) return REDACTED;
  if (value === null || typeof value !== "object") return value;
  if (depth > 8) return "[depth]";
  if (seen.has(value)) return "[circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => redactValue(v, depth + 1, seen));
  if (value instanceof Date || value instanceof Uint8Array) return value;
  if (value instanceof Error) {
    // Errors are usually serialized by pino's `err` serializer first; this covers errors nested
    // elsewhere in a payload, keeping the useful fields.
    const out: Record<string, unknown> = { type: value.name, message: redactText(value.message) };
    if (value.stack) out.stack = redactText(value.stack);
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) ? REDACTED : redactValue(v, depth + 1, seen);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) ? REDACTED : redactValue(v, depth + 1, seen);
  }
  return out;
}
