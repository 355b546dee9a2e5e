import { AbortedError, classifyError } from "./errors";

export type RetryOptions = {
  /** Further attempts after the first one (0 = try once). */
  retries: number;
  /** Delay before the first retry; doubles each time. */
  baseDelayMs: number;
  /** Upper bound of any single delay. */
  maxDelayMs: number;
  /** Whether `err` is worth another attempt; defaults to `classifyError(err).retryable`. */
  shouldRetry?: (err: unknown, attempt: number) => boolean;
  /** Called before each wait, e.g. to log and count. `attempt` is the attempt that failed (1-based). */
  onRetry?: (info: { err: unknown; attempt: number; delayMs: number }) => void;
  /** Aborting stops the loop at once, also during a wait, with an AbortedError. */
  signal?: AbortSignal;
  /** Source of randomness for the jitter (tests pass a fixed one). */
  random?: () => number;
};

/**
 * Runs `fn` until it succeeds, a fatal error occurs or the retries are used up.
 *
 * Delays use "full jitter" (a uniform draw in [0, base·2^n], capped), so that many keepers that lost
 * the same RPC endpoint at the same moment do not come back in lockstep.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const { retries, baseDelayMs, maxDelayMs, signal } = options;
  const shouldRetry = options.shouldRetry ?? ((err: unknown) => classifyError(err).retryable);
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      if (attempt > retries || !shouldRetry(err, attempt)) throw err;
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ err, attempt, delayMs });
      await sleep(delayMs, signal);
    }
  }
}

/** The delay before retry number `attempt` (1-based): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling * random());
}

/** Resolves after `ms`, or rejects with AbortedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}
