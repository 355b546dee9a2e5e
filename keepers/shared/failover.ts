import { createTransport, type EIP1193RequestFn, http, type Transport } from "viem";
import { classifyError } from "./errors";
import { redactUrl } from "./redact";

/*
 * A viem transport over several RPC URLs in failover order. Unlike viem's `fallback`, which starts
 * every request at the first URL, it stays on the URL that last worked, so a dead primary that
 * times out costs one timeout, not one per request; it probes the primary again after
 * `primaryRetryMs`. Answers that another node would give just the same (a revert, invalid params,
 * "nonce too low") are returned at once instead of being tried everywhere.
 */

export type FailoverState = {
  /** Index (in RPC_URLS order) of the URL requests go to now. */
  active: number;
  /** The active URL, redacted for logs. */
  activeUrl: string;
  failovers: number;
};

export type FailoverOptions = {
  timeoutMs?: number;
  /** Retries of a whole round over all URLs (viem's backoff); default 1. */
  retryCount?: number;
  retryDelayMs?: number;
  /** After this long on a secondary, the next request tries the primary first again (default 60 s). */
  primaryRetryMs?: number;
  onFailover?: (info: { from: string; to: string; error: unknown }) => void;
};

export type FailoverTransport = Transport<"failover", { state(): FailoverState }>;

export function failover(urls: readonly string[], options: FailoverOptions = {}): FailoverTransport {
  if (urls.length === 0) throw new Error("failover needs at least one URL");
  const timeout = options.timeoutMs ?? 10_000;
  const primaryRetryMs = options.primaryRetryMs ?? 60_000;
  let active = 0;
  let switchedAt = 0;
  let failovers = 0;
  const state = (): FailoverState => ({ active, activeUrl: redactUrl(urls[active]!), failovers });

  return ({ chain }) => {
    const transports = urls.map((url) => http(url, { timeout, retryCount: 0 })({ chain, retryCount: 0, timeout }));
    return createTransport(
      {
        key: "failover",
        name: "Failover",
        type: "failover",
        retryCount: options.retryCount ?? 1,
        retryDelay: options.retryDelayMs ?? 200,
        timeout,
        request: (async ({ method, params }: { method: string; params?: unknown }) => {
          const start = active !== 0 && Date.now() - switchedAt >= primaryRetryMs ? 0 : active;
          let lastError: unknown;
          for (let n = 0; n < transports.length; n++) {
            const i = (start + n) % transports.length;
            try {
              const result = await transports[i]!.request({ method, params } as never);
              if (i !== active) {
                const from = active;
                active = i;
                switchedAt = Date.now();
                failovers++;
                options.onFailover?.({ from: redactUrl(urls[from]!), to: redactUrl(urls[i]!), error: lastError });
              }
              return result;
            } catch (err) {
              if (!worthAnotherUrl(err)) throw err;
              lastError = err;
            }
          }
          throw lastError;
        }) as EIP1193RequestFn,
      },
      { state },
    );
  };
}

function worthAnotherUrl(err: unknown): boolean {
  const c = classifyError(err);
  if (c.retryable) return true;
  // Another provider may support a method this one lacks, or accept our credentials.
  const code = (err as { code?: unknown }).code;
  if (code === -32601 || code === -32004) return true;
  return c.kind === "unauthorized";
}
