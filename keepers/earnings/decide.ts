import { type Address, encodeFunctionData, type Hex } from "viem";
import type { TxIntent } from "../shared";
import { distributorAbi } from "./abi";
import type { EarningsTree } from "./tree";

/*
 * The earnings keeper's decisions, as pure functions: state in, intended transactions (or status changes) out. The
 * service (service.ts) gathers the state from its database and the chain, and carries the decisions out through the
 * Submitter. Idempotency keys are derived from what a transaction acts on, so deciding twice sends once.
 */

/** What the keeper knows about one (epoch, token) it has closed. */
export type EpochRecord = {
  epoch: bigint;
  token: Address;
  status: "closed" | "refused" | "empty" | "posted" | "cancelled" | "conflict" | "claimed" | "failed" | "swept";
  root?: Hex;
  total?: bigint;
  uri?: string;
  claimableAt?: bigint;
  expiresAt?: bigint;
};

/** The distributor's view of one (epoch, token), from `epochInfo` and the epoch's `RootPosted` events. */
export type ChainEpoch = {
  /** The stored root: its first 224 bits (zero when none posted or cancelled). */
  root28: Hex;
  claimableAt: bigint;
  expiresAt: bigint;
  opened: boolean;
  swept: boolean;
  remaining: bigint;
};

export type EpochAction =
  | { kind: "post"; intent: TxIntent }
  | { kind: "status"; status: EpochRecord["status"]; problem?: string; claimableAt?: bigint; expiresAt?: bigint }
  | { kind: "claim" }
  | { kind: "sweep"; intent: TxIntent }
  | { kind: "wait" };

const ZERO_ROOT28 = `0x${"00".repeat(28)}`;

/** The first 224 bits of a root, as the distributor stores it. */
export function root28(root: Hex): Hex {
  return root.slice(0, 58).toLowerCase() as Hex;
}

/**
 * Reconciliation before a post: the tree's total must be the router's bucket for the epoch, exactly. Returns the
 * problem, or undefined when they agree.
 */
export function reconcile(tree: { total: bigint; length: number }, bucket: bigint): string | undefined {
  if (tree.total === bucket) return undefined;
  return `the ${tree.length} leaves sum to ${tree.total} but the router's bucket holds ${bucket} (${
    tree.total > bucket ? "leaves exceed it" : "the bucket holds more"
  } by ${tree.total > bucket ? tree.total - bucket : bucket - tree.total})`;
}

/** The post of a closed epoch's root; one key per (distributor, epoch, token, root): posting twice sends once. */
export function postIntent(
  distributor: Address,
  record: Required<Pick<EpochRecord, "epoch" | "token" | "root" | "total" | "uri">>,
): TxIntent {
  return {
    key: `earnings:post-root:${distributor.toLowerCase()}:${record.epoch}:${record.token.toLowerCase()}:${record.root}`,
    to: distributor,
    data: encodeFunctionData({
      abi: distributorAbi,
      functionName: "postRoot",
      args: [record.epoch, record.token, record.root, record.total, record.uri],
    }),
    label: `post earnings root epoch ${record.epoch} token ${record.token}`,
  };
}

/**
 * One claim batch of leaves [first, first + count) in agent-id order. Its gas limit is the batch's bound (see
 * {@link claimGasBound}), so the Submitter need not estimate it (which would run the whole batch once more).
 */
export function claimIntent(
  distributor: Address,
  epoch: bigint,
  tree: EarningsTree,
  batch: { index: number; first: number; count: number },
): TxIntent {
  const claims = [];
  let gas = CLAIM_BATCH_FIXED_GAS;
  for (let i = batch.first; i < batch.first + batch.count; i++) {
    const leaf = tree.leaves[i]!;
    const proof = tree.proofAt(i);
    gas += claimGasBound(proof.length);
    claims.push({ agentId: leaf.agentId, amount: leaf.amount, proof });
  }
  return {
    gas: BigInt(gas),
    key: `earnings:claim:${distributor.toLowerCase()}:${epoch}:${tree.token.toLowerCase()}:${tree.root}:${batch.index}`,
    to: distributor,
    data: encodeFunctionData({ abi: distributorAbi, functionName: "claimMany", args: [epoch, tree.token, claims] }),
    label: `claim epoch ${epoch} token ${tree.token} leaves ${batch.first}-${batch.first + batch.count - 1}`,
  };
}

/** The sweep of an expired epoch's unclaimed rest to the commons. */
export function sweepIntent(distributor: Address, epoch: bigint, token: Address): TxIntent {
  return {
    key: `earnings:sweep:${distributor.toLowerCase()}:${epoch}:${token.toLowerCase()}`,
    to: distributor,
    data: encodeFunctionData({ abi: distributorAbi, functionName: "sweepExpired", args: [epoch, token] }),
    label: `sweep expired epoch ${epoch} token ${token}`,
  };
}

/** Gas of a claim batch beyond its leaves: the transaction, the epoch's opening on its first claim (the bucket's
 * transfer to the Treasury) and a fresh bitmap word or two. */
export const CLAIM_BATCH_FIXED_GAS = 200_000;

/**
 * Gas a claim of one leaf may take in a batch, from its proof length: calldata at 16 gas a byte (the siblings and
 * four words of the leaf) plus 40,000 of execution. Measured at 45,455 a leaf for 17-sibling proofs and first-time
 * Treasury accounts (scripts/bench/gas/treasury.ts); this gives 50,752 for them.
 */
export function claimGasBound(proofLength: number): number {
  return 40_000 + 16 * 32 * (proofLength + 4);
}

/**
 * Splits the leaves into consecutive batches whose gas bound fits `batchGas` (one leaf per batch at least), so each
 * claimMany fits a block whatever the proofs' lengths.
 */
export function planClaimBatches(
  proofLengths: readonly number[],
  batchGas: number,
  fixedGas = CLAIM_BATCH_FIXED_GAS,
): { index: number; first: number; count: number }[] {
  const batches: { index: number; first: number; count: number }[] = [];
  let first = 0;
  let gas = fixedGas;
  for (let i = 0; i < proofLengths.length; i++) {
    const leafGas = claimGasBound(proofLengths[i]!);
    if (i > first && gas + leafGas > batchGas) {
      batches.push({ index: batches.length, first, count: i - first });
      first = i;
      gas = fixedGas;
    }
    gas += leafGas;
  }
  if (proofLengths.length > first) batches.push({ index: batches.length, first, count: proofLengths.length - first });
  return batches;
}

/**
 * What to do next with a closed epoch, given the chain's view of it and the chain's time. The rules:
 * - closed: post the root, unless the chain already holds it (then it is posted) or another one (conflict). The
 *   post's key holds the root, so a root the guardian cancelled is never sent again: its key's record is already
 *   confirmed, which the service reads as cancelled.
 * - posted: if the guardian cancelled it, cancelled; once the window is over, claim; after the expiry, sweep what
 *   is left (the claims stop).
 * - claimed: after the expiry, sweep what is left.
 */
export function decideEpoch(
  record: EpochRecord,
  chain: ChainEpoch,
  now: bigint,
  distributor: Address,
  claimsEnabled: boolean,
): EpochAction {
  const ours = record.root ? root28(record.root) : undefined;
  const onChain = chain.root28.toLowerCase();
  switch (record.status) {
    case "closed": {
      if (onChain === ours) {
        return { kind: "status", status: "posted", claimableAt: chain.claimableAt, expiresAt: chain.expiresAt };
      }
      if (onChain !== ZERO_ROOT28) {
        return {
          kind: "status",
          status: "conflict",
          problem: `the distributor holds root ${onChain}, ours is ${ours}`,
        };
      }
      const { root, total, uri } = record;
      if (!root || total === undefined || !uri) return { kind: "wait" };
      return {
        kind: "post",
        intent: postIntent(distributor, { epoch: record.epoch, token: record.token, root, total, uri }),
      };
    }
    case "posted": {
      if (onChain !== ours) {
        return onChain === ZERO_ROOT28
          ? { kind: "status", status: "cancelled", problem: "the guardian cancelled it" }
          : { kind: "status", status: "conflict", problem: `the distributor holds root ${onChain}, ours is ${ours}` };
      }
      if (now >= chain.expiresAt) {
        return chain.swept || (chain.opened && chain.remaining === 0n)
          ? { kind: "status", status: "swept" }
          : { kind: "sweep", intent: sweepIntent(distributor, record.epoch, record.token) };
      }
      if (now >= chain.claimableAt && claimsEnabled) return { kind: "claim" };
      return { kind: "wait" };
    }
    case "claimed": {
      if (now < chain.expiresAt) return { kind: "wait" };
      return chain.swept || chain.remaining === 0n
        ? { kind: "status", status: "swept" }
        : { kind: "sweep", intent: sweepIntent(distributor, record.epoch, record.token) };
    }
    default:
      return { kind: "wait" };
  }
}

/** Which epochs can be closed: those that ended at or before the timestamp of the last block the scan has read. */
export function lastClosableEpoch(scannedTimestamp: bigint, genesis: bigint, epochLength: bigint): bigint | undefined {
  if (scannedTimestamp < genesis + epochLength) return undefined;
  return (scannedTimestamp - genesis) / epochLength - 1n;
}
