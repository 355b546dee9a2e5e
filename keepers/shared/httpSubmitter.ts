import type { LocalAccount } from "viem";
import { z } from "zod";
import { DirectSubmitter, type DirectSubmitterOptions } from "./directSubmitter";
import { ConfigError, SubmitError, shortMessageOf } from "./errors";
import type { Logger } from "./logger";
import { Secret } from "./redact";
import { sleep, withRetry } from "./retry";
import {
  isTerminal,
  parseTxIntent,
  type Submitter,
  type TxIntent,
  type TxRecord,
  type TxRecordJson,
  txRecordFromJson,
  type WaitOptions,
} from "./submitter";

/*
 * The Submitter over HTTP: a keeper hands its transactions to the tx-executor service instead of
 * signing them itself. Same contract as the DirectSubmitter (one key, one transaction; "rejected"
 * means nothing was sent; a different body under a used key throws IDEMPOTENCY_CONFLICT), so a
 * keeper switches by configuration alone:
 *
 *   TX_EXECUTOR_URL=http://executor:8091  TX_EXECUTOR_TOKEN=<this keeper's token>
 *
 * POST /tx/execute is idempotent by key, so a request whose answer was lost (timeout, reset, 503)
 * is simply sent again.
 */

export type HttpSubmitterOptions = {
  /** The executor's base URL. */
  url: string;
  /** This keeper's token (KEEPER_TOKENS on the executor). */
  token: Secret | string;
  /** Per HTTP request (default 15 s). */
  timeoutMs?: number;
  /** Retries of a request that failed for a retryable reason (default 4). */
  retries?: number;
  logger?: Logger;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type ErrorBody = { error?: { code?: string; message?: string; id?: string; existingId?: string } };

export class HttpSubmitter implements Submitter {
  private readonly base: string;
  private readonly token: Secret;

  constructor(private readonly o: HttpSubmitterOptions) {
    this.base = o.url.replace(/\/+$/, "");
    this.token = typeof o.token === "string" ? new Secret(o.token) : o.token;
  }

  async submit(input: TxIntent): Promise<TxRecord> {
    const intent = parseTxIntent(input);
    const body = {
      kind: "keeper",
      idempotencyKey: intent.key,
      to: intent.to,
      data: intent.data,
      ...(intent.value !== undefined && { value: intent.value.toString() }),
      ...(intent.gas !== undefined && { gas: intent.gas.toString() }),
      ...(intent.label !== undefined && { label: intent.label }),
      ...(intent.agentId !== undefined && { agentId: intent.agentId }),
    };
    const { status, json } = await this.request("POST", "/tx/execute", body);
    if (status === 200 || status === 202) return txRecordFromJson(json as TxRecordJson);
    const error = (json as ErrorBody).error ?? {};
    // A refusal after the request was stored is a "rejected" record, as from the DirectSubmitter.
    if (error.id && status >= 400 && status < 500) {
      const record = await this.get(error.id);
      if (record) return record;
    }
    const code =
      error.code === "idempotency_conflict"
        ? "IDEMPOTENCY_CONFLICT"
        : `EXECUTOR_${(error.code ?? status).toString().toUpperCase()}`;
    throw new SubmitError(`the tx-executor refused the transaction: ${error.message ?? `HTTP ${status}`}`, {
      code,
      retryable: false,
      details: "",
      meta: { status, ...(error.existingId && { id: error.existingId }) },
    });
  }

  async get(idOrKey: string): Promise<TxRecord | undefined> {
    const path = UUID.test(idOrKey) ? `/tx/status/${idOrKey}` : `/tx/keys/${encodeURIComponent(idOrKey)}`;
    const { status, json } = await this.request("GET", path);
    if (status === 404) return undefined;
    if (status !== 200) {
      throw new SubmitError(`the tx-executor answered ${status} for ${path}`, {
        code: `EXECUTOR_HTTP_${status}`,
        retryable: false,
        details: (json as ErrorBody).error?.message ?? "",
      });
    }
    return txRecordFromJson(json as TxRecordJson);
  }

  async wait(id: string, options: WaitOptions = {}): Promise<TxRecord> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      const record = await this.get(id);
      if (!record) throw new SubmitError(`no transaction ${id}`, { code: "TX_NOT_FOUND", retryable: false });
      if (isTerminal(record.status)) return record;
      if (Date.now() >= deadline) {
        throw new SubmitError(`transaction ${id} is still ${record.status} after waiting`, {
          code: "WAIT_TIMEOUT",
          retryable: true,
          details: "",
          meta: { id, key: record.key, hash: record.hash, status: record.status },
        });
      }
      await sleep(Math.min(options.pollIntervalMs ?? 1_000, Math.max(0, deadline - Date.now())), options.signal);
    }
  }

  /** One HTTP call, retried on network errors, 429 and 5xx (every call here is safe to repeat). */
  private request(method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    return withRetry(
      async () => {
        let res: Response;
        try {
          res = await fetch(this.base + path, {
            method,
            headers: {
              authorization: `Bearer ${this.token.reveal()}`,
              ...(body !== undefined && { "content-type": "application/json" }),
            },
            body: body === undefined ? undefined : JSON.stringify(body),
            signal: AbortSignal.timeout(this.o.timeoutMs ?? 15_000),
          });
        } catch (err) {
          throw new SubmitError(`the tx-executor is unreachable: ${shortMessageOf(err)}`, {
            code: "EXECUTOR_UNREACHABLE",
            retryable: true,
            cause: err,
          });
        }
        const text = await res.text();
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : {};
        } catch {
          json = {};
        }
        if (res.status === 429 || res.status >= 500) {
          throw new SubmitError(`the tx-executor answered ${res.status}: ${(json as ErrorBody).error?.message ?? ""}`, {
            code: `EXECUTOR_HTTP_${res.status}`,
            retryable: true,
            details: "",
          });
        }
        if (res.status === 401) {
          throw new ConfigError([
            { variable: "TX_EXECUTOR_TOKEN", message: "the tx-executor does not accept this token" },
          ]);
        }
        return { status: res.status, json };
      },
      {
        retries: this.o.retries ?? 4,
        baseDelayMs: 250,
        maxDelayMs: 4_000,
        onRetry: ({ err, attempt }) =>
          this.o.logger?.warn({ err, attempt, path }, "tx-executor request failed; retrying"),
      },
    );
  }
}

/* -------------------------------------------------------------------------------------------- */
/*                              one code path: choose by configuration                          */
/* -------------------------------------------------------------------------------------------- */

/** Variables a keeper adds to its schema to be able to use the tx-executor. */
export const submitterEnvShape = {
  TX_EXECUTOR_URL: z
    .string()
    .refine((u) => /^https?:\/\/[^\s]+$/.test(u), "expected an http(s) URL")
    .optional(),
  TX_EXECUTOR_TOKEN: z
    .string()
    .min(24, "at least 24 characters")
    .transform((t) => new Secret(t))
    .optional(),
};

export type SubmitterConfig = { TX_EXECUTOR_URL?: string | undefined; TX_EXECUTOR_TOKEN?: Secret | undefined };

/**
 * The keeper's Submitter: the tx-executor when TX_EXECUTOR_URL is set, else `direct()` (usually
 * `DirectSubmitter.start(...)` with the keeper's own key). Everything after this call is the same.
 */
export async function submitterFromConfig(
  config: SubmitterConfig,
  direct: () => Promise<Submitter>,
  logger?: Logger,
): Promise<Submitter> {
  if (config.TX_EXECUTOR_URL === undefined) {
    if (config.TX_EXECUTOR_TOKEN !== undefined) {
      throw new ConfigError([{ variable: "TX_EXECUTOR_URL", message: "required with TX_EXECUTOR_TOKEN" }]);
    }
    return direct();
  }
  if (config.TX_EXECUTOR_TOKEN === undefined) {
    throw new ConfigError([{ variable: "TX_EXECUTOR_TOKEN", message: "required with TX_EXECUTOR_URL" }]);
  }
  logger?.info({ url: config.TX_EXECUTOR_URL }, "transactions go through the tx-executor");
  return new HttpSubmitter({ url: config.TX_EXECUTOR_URL, token: config.TX_EXECUTOR_TOKEN, logger });
}

/**
 * What every keeper calls: `submitterFromConfig` with a `DirectSubmitter` on the keeper's own key as the fallback.
 * Without TX_EXECUTOR_URL the key is required.
 */
export async function keeperSubmitter(
  config: SubmitterConfig,
  options: Omit<DirectSubmitterOptions, "account"> & { account?: LocalAccount },
): Promise<Submitter> {
  const { account } = options;
  return submitterFromConfig(
    config,
    async () => {
      if (!account)
        throw new ConfigError([{ variable: "KEEPER_PRIVATE_KEY", message: "required without TX_EXECUTOR_URL" }]);
      return DirectSubmitter.start({ ...options, account });
    },
    options.logger,
  );
}
