import type { Address, Hash, Hex } from "viem";
import type { TxRecord, TxRecordJson, TxStatus } from "../shared";

/** What a request asks for. */
export type RequestKind = "spend" | "keeper" | "freeze";

/**
 * Why a request was refused, with the HTTP status the API answers with. Every refusal is stored in
 * the audit log with its code; none sends anything or takes a nonce.
 */
export const REJECTIONS = {
  // The request itself
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_request: 400,
  spends_disabled: 400,
  unauthorized: 401,
  bad_signature: 401,
  not_agent_signer: 403,
  agent_blocked: 403,
  unknown_agent: 404,
  idempotency_conflict: 409,
  spend_replayed: 409,
  spend_nonce_used: 409,
  rate_limited: 429,
  // The policy (read from the chain, or the module's revert in simulation)
  expired: 422,
  agent_frozen: 422,
  over_tx_cap: 422,
  over_daily_cap: 422,
  call_not_allowed: 422,
  no_policy: 422,
  insufficient_balance: 422,
  simulation_reverted: 422,
} as const;

export type RejectionCode = keyof typeof REJECTIONS;

/** A refusal: stored on the request (if one was created) and returned as `{ error: { code, message } }`. */
export type Rejection = {
  code: RejectionCode;
  message: string;
  /** The decoded custom error when the module (or target) would revert. */
  revertReason?: string;
  /** Feeds the circuit breaker. */
  anomaly?: "over_cap" | "unknown_target";
};

/** A request as the API and the Submitter return it: the Submitter's TxRecord plus executor fields. */
export type ExecutorRecord = TxRecord & {
  kind: RequestKind;
  keeper?: string;
  /** Signed attempts: 1 for the original, more after fee replacements. */
  attempts: number;
  /** Why it was refused, when status is "rejected". */
  rejection?: { code: RejectionCode; message: string };
  /** False while a queued request still waits for its checks (for instance while the RPC is down). */
  accepted: boolean;
};

export type ExecutorRecordJson = TxRecordJson & {
  kind: RequestKind;
  keeper?: string;
  attempts: number;
  rejection?: { code: RejectionCode; message: string };
  accepted: boolean;
};

export type { Address, Hash, Hex, TxStatus };
