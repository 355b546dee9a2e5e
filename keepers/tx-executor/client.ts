import type { SignedAction } from "../../sdk";
import { isTerminal, SubmitError, sleep } from "../shared";
import type { ExecutorRecordJson, RejectionCode } from "./types";

/*
 * What an agent (or its host) uses to spend through the tx-executor: it signs a `Spend` with the SDK
 * (`buildSpend` + `signAction`) and sends it here with an idempotency key of its choosing. Keepers
 * use keepers/shared's HttpSubmitter instead.
 */

/** The body of POST /tx/execute for a signed Spend. */
export function spendRequestBody(idempotencyKey: string, signed: SignedAction<"Spend">) {
  const m = signed.message as Record<string, unknown>;
  return {
    kind: "spend" as const,
    idempotencyKey,
    spend: {
      agentId: String(m.agentId),
      token: m.token as string,
      to: m.to as string,
      amount: String(m.amount),
      data: (m.data as string | undefined) ?? "0x",
      nonce: String(m.nonce),
      deadline: String(m.deadline),
      gas: String(m.gas),
    },
    signature: signed.signature,
  };
}

export type ExecutorRefusal = {
  status: number;
  code: RejectionCode | "not_found" | string;
  message: string;
  /** The stored, rejected request (when the refusal came after it was stored). */
  id?: string;
  /** The request in the way (idempotency conflict, replayed Spend). */
  existingId?: string;
  revertReason?: string;
};

export type SpendResult =
  | { ok: true; replayed: boolean; record: ExecutorRecordJson }
  | { ok: false; refusal: ExecutorRefusal };

export class ExecutorClient {
  private readonly base: string;

  constructor(url: string) {
    this.base = url.replace(/\/+$/, "");
  }

  /** Sends a signed Spend. Safe to repeat with the same key after a timeout: the first result comes back. */
  async executeSpend(idempotencyKey: string, signed: SignedAction<"Spend">): Promise<SpendResult> {
    const res = await fetch(`${this.base}/tx/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(spendRequestBody(idempotencyKey, signed)),
    });
    const json = (await res.json()) as unknown;
    if (res.status === 200 || res.status === 202) {
      return { ok: true, replayed: res.status === 200, record: json as ExecutorRecordJson };
    }
    const error = (json as { error?: Omit<ExecutorRefusal, "status"> }).error ?? {
      code: "unknown",
      message: `HTTP ${res.status}`,
    };
    return { ok: false, refusal: { ...error, status: res.status } };
  }

  async status(id: string): Promise<ExecutorRecordJson | undefined> {
    const res = await fetch(`${this.base}/tx/status/${encodeURIComponent(id)}`);
    if (res.status === 404) return undefined;
    return (await res.json()) as ExecutorRecordJson;
  }

  /** Polls until the request is confirmed, failed or rejected. */
  async waitFor(id: string, timeoutMs = 120_000, pollMs = 250): Promise<ExecutorRecordJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const record = await this.status(id);
      if (!record) throw new SubmitError(`no request ${id}`, { code: "TX_NOT_FOUND", retryable: false });
      if (isTerminal(record.status)) return record;
      if (Date.now() > deadline) {
        throw new SubmitError(`request ${id} is still ${record.status}`, { code: "WAIT_TIMEOUT", retryable: true });
      }
      await sleep(pollMs);
    }
  }
}
