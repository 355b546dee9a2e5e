import { createHash } from "node:crypto";
import { type Address, getAddress, type Hash, type Hex, isAddress } from "viem";
import { z } from "zod";
import type { Confirmations } from "./config";
import { SubmitError } from "./errors";

/*
 * THE way keepers send transactions. A keeper states an intent under an idempotency key and gets a
 * record back; it never handles nonces, fees or broadcasts. Today the DirectSubmitter signs with the
 * keeper's own key; later the tx-executor service implements the same interface over HTTP
 * (POST /tx/execute, GET /tx/status/:id), so every type here has a JSON form.
 *
 * Contract, whatever the implementation:
 *  - One key, one transaction: submitting a key again returns the record of the first submission,
 *    and a different body under a used key is refused (IDEMPOTENCY_CONFLICT). Keys should name the
 *    action, e.g. "earnings:post-root:epoch-42", so a keeper that restarts re-derives the same key.
 *  - "rejected" means nothing was sent and no nonce or gas was used (simulation reverted, funds
 *    missing, policy refused). Submitting the same key again tries again.
 *  - "failed" means the transaction was mined and reverted (gas was paid) or its nonce was taken by
 *    another transaction. It is final for that key: a retry needs a new key, on purpose.
 */

export type TxIntent = {
  /** Idempotency key, 1–200 printable characters. */
  key: string;
  to: Address;
  data: Hex;
  /** Wei; default 0. */
  value?: bigint;
  /** Gas limit; default: estimate plus a margin. */
  gas?: bigint;
  /** Free text for logs and audit ("post root epoch 42"). */
  label?: string;
  /** The agent this transaction acts for (decimal uint256), for audit and per-agent policy. */
  agentId?: string;
};

export type TxStatus = "queued" | "submitted" | "confirmed" | "failed" | "rejected";

export const TERMINAL_STATUSES: readonly TxStatus[] = ["confirmed", "failed", "rejected"];

export function isTerminal(status: TxStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export type TxRecord = {
  id: string;
  key: string;
  /**
   * queued: accepted (for the DirectSubmitter: signed and stored) but not yet known to be
   * broadcast; submitted: broadcast, not yet deep enough; confirmed/failed: mined and deep enough;
   * rejected: not sent.
   */
  status: TxStatus;
  chainId: number;
  from: Address;
  to: Address;
  data: Hex;
  value: bigint;
  gas?: bigint;
  label?: string;
  agentId?: string;
  hash?: Hash;
  nonce?: number;
  gasUsed?: bigint;
  effectiveGasPrice?: bigint;
  blockNumber?: bigint;
  blockHash?: Hash;
  /** Decoded revert reason, for a rejected simulation or a failed transaction. */
  revertReason?: string;
  /** Why a transaction is stuck or was not sent (insufficient funds, broadcast refused, …). */
  error?: string;
  createdAt: Date;
  updatedAt: Date;
};

export type WaitOptions = {
  /** Give up (with a retryable SubmitError, the transaction goes on) after this long; default 5 min. */
  timeoutMs?: number;
  pollIntervalMs?: number;
  signal?: AbortSignal;
  /** Depth required before "confirmed"/"failed"; default: the submitter's. */
  confirmations?: Confirmations;
};

export interface Submitter {
  /** Records the intent and sends it (or returns the existing record of `intent.key`). */
  submit(intent: TxIntent): Promise<TxRecord>;
  /** The record with this id or idempotency key. */
  get(idOrKey: string): Promise<TxRecord | undefined>;
  /** Resolves once the record is terminal (confirmed, failed or rejected). */
  wait(id: string, options?: WaitOptions): Promise<TxRecord>;
}

/* -------------------------------------------------------------------------------------------- */
/*                                    validation and JSON form                                  */
/* -------------------------------------------------------------------------------------------- */

const uint = z
  .union([z.bigint(), z.string().regex(/^\d{1,78}$/, "expected a decimal integer")], {
    error: "expected a decimal integer",
  })
  .transform((v) => BigInt(v))
  .refine((v) => v >= 0n && v < 2n ** 256n, "out of range");

/** Parses an intent from code or from JSON (value and gas as decimal strings). */
export const txIntentSchema = z.object({
  key: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces"),
  to: z
    .string()
    .refine((a) => isAddress(a, { strict: false }), "expected an address")
    .transform((a) => getAddress(a)),
  data: z
    .string()
    .regex(/^0x([0-9a-fA-F]{2})*$/, "expected 0x-prefixed hex bytes")
    .transform((d) => d.toLowerCase() as Hex),
  value: uint.optional(),
  gas: uint.refine((g) => g >= 21_000n, "at least 21000").optional(),
  label: z.string().max(200).optional(),
  agentId: z
    .string()
    .regex(/^\d{1,78}$/)
    .optional(),
});

export function parseTxIntent(input: unknown): TxIntent {
  const r = txIntentSchema.safeParse(input);
  if (r.success) return r.data as TxIntent;
  const issues = r.error.issues.map((i) => `${i.path.join(".") || "intent"}: ${i.message}`).join("; ");
  throw new SubmitError(`invalid transaction intent: ${issues}`, {
    code: "INVALID_INTENT",
    retryable: false,
    details: "",
  });
}

/** Fingerprint of everything an intent asks for; two submissions of one key must agree on it. */
export function intentHash(intent: TxIntent): string {
  const canonical = JSON.stringify([
    intent.to.toLowerCase(),
    intent.data.toLowerCase(),
    (intent.value ?? 0n).toString(),
    intent.gas?.toString() ?? null,
    intent.label ?? null,
    intent.agentId ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

export type TxRecordJson = Omit<
  TxRecord,
  "value" | "gas" | "gasUsed" | "effectiveGasPrice" | "blockNumber" | "createdAt" | "updatedAt"
> & {
  value: string;
  gas?: string;
  gasUsed?: string;
  effectiveGasPrice?: string;
  blockNumber?: string;
  createdAt: string;
  updatedAt: string;
};

export function txRecordToJson(r: TxRecord): TxRecordJson {
  const { value, gas, gasUsed, effectiveGasPrice, blockNumber, createdAt, updatedAt, ...rest } = r;
  return {
    ...rest,
    value: value.toString(),
    ...(gas !== undefined && { gas: gas.toString() }),
    ...(gasUsed !== undefined && { gasUsed: gasUsed.toString() }),
    ...(effectiveGasPrice !== undefined && { effectiveGasPrice: effectiveGasPrice.toString() }),
    ...(blockNumber !== undefined && { blockNumber: blockNumber.toString() }),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
  };
}

export function txRecordFromJson(j: TxRecordJson): TxRecord {
  const { value, gas, gasUsed, effectiveGasPrice, blockNumber, createdAt, updatedAt, ...rest } = j;
  return {
    ...rest,
    value: BigInt(value),
    ...(gas !== undefined && { gas: BigInt(gas) }),
    ...(gasUsed !== undefined && { gasUsed: BigInt(gasUsed) }),
    ...(effectiveGasPrice !== undefined && { effectiveGasPrice: BigInt(effectiveGasPrice) }),
    ...(blockNumber !== undefined && { blockNumber: BigInt(blockNumber) }),
    createdAt: new Date(createdAt),
    updatedAt: new Date(updatedAt),
  };
}
