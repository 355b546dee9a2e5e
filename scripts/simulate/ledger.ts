import type { Address, Hex } from "viem";

/*
 * The simulator's own ledger: what it sent, as it sent it. Reconciliation compares this with the chain and with each
 * keeper's store; none of the three is trusted to check itself.
 */

/** What a spend request was meant to be. Only "valid" and "clone" spends are the agent's own intent. */
export type SpendKind =
  | "valid"
  /** The clone's second host: the same key, a conflicting Spend under a nonce the first host used. */
  | "clone"
  /** The clone's second host resends the first host's signed Spend under another idempotency key. */
  | "clone_resend"
  | "forged"
  | "replayed"
  | "foreign"
  | "over_cap"
  | "disallowed_call";

export type SpendEntry = {
  round: number;
  agentIndex: number;
  agentId: bigint;
  kind: SpendKind;
  /** 0: the agent's own host; 1: the clone's second host (sends concurrently with host 0). */
  host: number;
  idempotencyKey: string;
  nonce: bigint;
  to: Address;
  amount: bigint;
  /** The signed Spend's signer (for a forged or foreign one, not the agent's key). */
  signer: Address;
  /** HTTP answer to the last attempt: "accepted" (202/200) or the refusal code. */
  answer?: string;
  /** The request id the executor gave it (accepted, or rejected after being stored). */
  requestId?: string;
  /** The executor's final status and refusal code (rejected), polled after the round. */
  finalStatus?: string;
  finalCode?: string;
  hash?: Hex;
  /** Attempts, including retries after connection errors or 503s. */
  attempts: number;
  /** Sent while the keepers' chain link was down, or across the executor's crash. */
  during?: "partition" | "crash";
};

export type PaymentEntry = {
  round: number;
  agentIndex: number;
  agentId: bigint;
  /** The epoch the simulator meant it for (the chain's clock when sent). */
  epoch: bigint;
  user: Address;
  gross: bigint;
  ref: Hex;
  hash: Hex;
};

export type Ledger = {
  spends: SpendEntry[];
  payments: PaymentEntry[];
  /** Per round: wall time of the work phase, spends confirmed, payments sent. */
  rounds: { round: number; epoch: bigint; seconds: number; events: string[] }[];
  /** Processes killed or cut off, with when (for the report). */
  faults: { round: number; kind: string; detail: string }[];
};

export const newLedger = (): Ledger => ({ spends: [], payments: [], rounds: [], faults: [] });
