import type { Hash } from "viem";
import { type Fees, replacementFees } from "./fees";

/*
 * The decide step for one sender key, pure: the open transactions as stored and what the chain
 * shows now go in, the actions to take come out. The runner (sender.ts) does the I/O.
 *
 * A transaction is open from the moment its nonce is taken until its receipt is deep enough. The
 * chain's mined nonce count (`latestNonce`) splits the open ones: below it, one of the request's
 * signed attempts (or a foreign transaction) took the nonce, so its receipt is looked up; at or above
 * it, the transaction waits in a mempool, and is broadcast again when a node may have lost it, or
 * replaced with higher fees when it is stuck.
 */

export type OpenTx = {
  id: string;
  nonce: number;
  /** queued: signed and stored, no broadcast accepted yet; submitted: a node accepted it. */
  status: "queued" | "submitted";
  hash: Hash;
  /** Signed attempts so far (1 = the original only). */
  attempts: number;
  fees: Fees;
  /** When the latest attempt was signed (ms). */
  lastSignedAt: number;
  /** When a broadcast was last tried (ms), successful or not. */
  lastSentAt?: number;
  /** The block a receipt was seen in, while it is not yet deep enough. */
  seenBlock?: bigint;
  stuckReported: boolean;
};

export type ChainView = {
  /** Transactions of this sender mined so far (eth_getTransactionCount at "latest"). */
  latestNonce: number;
  /** Blocks at or below this number are deep enough (head - confirmations + 1, or the finalized block). */
  deepBlock: bigint;
  /** Base fee of the latest block (null on a legacy chain). */
  baseFeePerGas: bigint | null;
  /** What a new transaction would be signed with now. */
  market: Fees;
  now: number;
  /** Broadcast every pending transaction now (the first pass after a start: a node may have lost them). */
  forceBroadcast?: boolean;
};

export type PlanConfig = {
  /** A pending transaction not mined this long after it was signed is stuck. */
  replaceAfterMs: number;
  /** A submitted transaction is broadcast again this long after the last broadcast (a node may have dropped it). */
  rebroadcastAfterMs: number;
  /** A failed broadcast is tried again after this long. */
  retryBroadcastMs: number;
  bumpPercent: number;
  maxFeePerGas: bigint;
  maxReplacements: number;
};

export type Action =
  | { kind: "lookup"; id: string }
  | { kind: "finalize"; id: string }
  | { kind: "broadcast"; id: string }
  | { kind: "replace"; id: string; fees: Fees }
  | { kind: "report-stuck"; id: string; reason: string };

export function planSender(open: readonly OpenTx[], view: ChainView, config: PlanConfig): Action[] {
  const actions: Action[] = [];
  const sorted = [...open].sort((a, b) => a.nonce - b.nonce);
  for (const tx of sorted) {
    if (tx.seenBlock !== undefined) {
      // A receipt was seen: finish once deep enough. If the nonce is no longer mined, a reorg
      // dropped the block: look again (the runner clears the sighting when the receipt is gone).
      if (tx.nonce >= view.latestNonce) actions.push({ kind: "lookup", id: tx.id });
      else if (tx.seenBlock <= view.deepBlock) actions.push({ kind: "finalize", id: tx.id });
      continue;
    }
    if (tx.nonce < view.latestNonce) {
      actions.push({ kind: "lookup", id: tx.id });
      continue;
    }
    const age = view.now - tx.lastSignedAt;
    const isHead = tx.nonce === view.latestNonce;
    const inclusionFloor =
      view.baseFeePerGas === null ? view.market.maxFeePerGas : view.baseFeePerGas + view.market.maxPriorityFeePerGas;
    const underpriced = tx.fees.maxFeePerGas < inclusionFloor;
    if (tx.status === "submitted" && age >= config.replaceAfterMs && (isHead || underpriced)) {
      const replacements = tx.attempts - 1;
      if (replacements >= config.maxReplacements) {
        if (!tx.stuckReported) {
          actions.push({
            kind: "report-stuck",
            id: tx.id,
            reason: `not mined after ${replacements} replacements (the cap); still broadcasting the last one`,
          });
        }
      } else {
        const r = replacementFees(tx.fees, view.market, config.bumpPercent, config.maxFeePerGas);
        if (r.kind === "replace") {
          actions.push({ kind: "replace", id: tx.id, fees: r.fees });
          continue;
        }
        if (!tx.stuckReported) {
          actions.push({
            kind: "report-stuck",
            id: tx.id,
            reason: `a replacement needs a max fee of ${r.needed} wei, above the cap of ${r.cap} wei; still broadcasting the last one`,
          });
        }
      }
    }
    // A transaction just signed is being broadcast by the dispatch: not due before its first retry.
    const since = view.now - (tx.lastSentAt ?? tx.lastSignedAt);
    const due =
      view.forceBroadcast === true ||
      (tx.status === "queued" ? since >= config.retryBroadcastMs : since >= config.rebroadcastAfterMs);
    if (due) actions.push({ kind: "broadcast", id: tx.id });
  }
  return actions;
}
