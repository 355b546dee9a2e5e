import pino, { type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config";
import { CovenantError } from "./errors";
import { REDACTED, redactText, redactValue } from "./redact";

export type { Logger } from "pino";

/** Context a keeper attaches to child loggers so that every line about one agent or tx can be found. */
export type LogContext = {
  agentId?: string | number | bigint;
  txId?: string;
  epoch?: string | number | bigint;
  [key: string]: unknown;
};

/**
 * A JSON logger for one keeper. Every payload passes through `redactValue`, so secret-named fields
 * (privateKey, password, …), Secret values and credentials inside URLs never reach the output, even
 * when a caller logs a whole config object or a viem error that quotes its RPC URL.
 */
export function createLogger(name: string, level: LogLevel = "info", destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError, error: serializeError },
    // Child-logger bindings do not pass through formatters.log; pino's path redaction covers them.
    redact: { paths: SECRET_PATHS, censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactValue(bindings) as Record<string, unknown>,
      log: (obj) => redactValue(obj) as Record<string, unknown>,
    },
    hooks: {
      logMethod(args, method) {
        // Messages are strings built by callers; an URL with an API key may hide in one.
        const cleaned = args.map((a) => (typeof a === "string" ? redactText(a) : a)) as Parameters<typeof method>;
        method.apply(this, cleaned);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

const SECRET_KEYS = [
  "privateKey",
  "private_key",
  "password",
  "passphrase",
  "secret",
  "mnemonic",
  "apiKey",
  "api_key",
  "authorization",
  "token",
  "KEEPER_PRIVATE_KEY",
  "KEEPER_KEYSTORE_PASSWORD",
];
const SECRET_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** A child logger carrying context. bigint ids are logged as decimal strings (JSON has no bigint). */
export function withContext(logger: Logger, context: LogContext): Logger {
  const bindings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(context)) {
    if (v !== undefined) bindings[k] = typeof v === "bigint" ? v.toString() : v;
  }
  return logger.child(redactValue(bindings) as Record<string, unknown>);
}

function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return redactValue(err);
  const base = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  if (err instanceof CovenantError) {
    base.code = err.code;
    base.retryable = err.retryable;
    base.shortMessage = err.shortMessage;
    if (err.meta) base.meta = err.meta;
  }
  // viem errors hold whole request bodies and client objects; keep what helps an operator.
  for (const k of ["abi", "args", "request", "client", "transport"]) delete base[k];
  return redactValue(base);
}
