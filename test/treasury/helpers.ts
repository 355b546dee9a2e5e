import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import hre from "hardhat";
import type { Address, Hex } from "viem";
import { type EarningsLeaf, EarningsTree } from "../../keepers/earnings/tree";
import { buildAction, type Deployment, deadlineIn, fromEthersSigner, signAction } from "../../sdk";
import type { EarningsDistributor, RevenueRouter } from "../../typechain-types";
import { CHALLENGE_WINDOW, EPOCH_LENGTH, ETH } from "../fixtures/treasury";

export { ETH };

export async function now(): Promise<number> {
  return time.latest();
}

/** Moves the chain to the first second of the next epoch and returns the epoch that just closed. */
export async function closeEpoch(router: RevenueRouter): Promise<bigint> {
  const epoch = await router.currentEpoch();
  await time.increaseTo((await router.genesis()) + (epoch + 1n) * BigInt(EPOCH_LENGTH));
  return epoch;
}

/** Moves the chain past a posted root's challenge window. */
export async function passChallengeWindow(): Promise<void> {
  await time.increase(CHALLENGE_WINDOW);
}

/** The leaves of an epoch and token, summed from the router's `Paid` events (what the keeper does, in brief). */
export async function leavesOf(router: RevenueRouter, epoch: bigint, token: string): Promise<EarningsLeaf[]> {
  const logs = await router.queryFilter(router.filters.Paid(undefined, token, epoch));
  const sums = new Map<bigint, bigint>();
  for (const log of logs) {
    const { agentId, agentShare } = log.args;
    sums.set(agentId, (sums.get(agentId) ?? 0n) + agentShare);
  }
  return [...sums]
    .filter(([, amount]) => amount > 0n)
    .map(([agentId, amount]) => ({ agentId, token: token as Address, amount }));
}

/** Builds the honest tree of an epoch from the chain and posts it as `poster`. */
export async function postEpoch(
  router: RevenueRouter,
  distributor: EarningsDistributor,
  poster: Signer,
  epoch: bigint,
  token: string,
): Promise<EarningsTree> {
  const tree = EarningsTree.build(await leavesOf(router, epoch, token));
  await distributor.connect(poster).postRoot(epoch, token, tree.root, tree.total, `ipfs://tree-${epoch}`);
  return tree;
}

/** A claim's arguments from a tree. */
export function claimArgs(tree: EarningsTree, agentId: bigint): { amount: bigint; proof: Hex[] } {
  const leaf = tree.leafOf(agentId);
  const proof = tree.proof(agentId);
  if (!leaf || !proof) throw new Error(`agent ${agentId} has no leaf`);
  return { amount: leaf.amount, proof };
}

/** Signs a treasury-part action with an ethers signer through the SDK. */
export async function sign<P extends "SetRevenueShare" | "SetEarningsSplit" | "SetServiceLimit">(
  signer: Signer,
  primaryType: P,
  deployment: Deployment,
  message: Record<string, unknown>,
) {
  const withDeadline = { deadline: deadlineIn(3600, await now()), ...message };
  return signAction(await fromEthersSigner(signer), buildAction(primaryType, deployment, withDeadline));
}

/** The expected split of `amount` by basis points: rounded down, the remainder to the last part. */
export function splitOf(amount: bigint, personalBps: bigint, infrastructureBps: bigint) {
  const personal = (amount * personalBps) / 10_000n;
  const infrastructure = (amount * infrastructureBps) / 10_000n;
  return { personal, infrastructure, commons: amount - personal - infrastructure };
}

export const ONE = 10n ** 18n;

export function ref(text: string): string {
  return hre.ethers.id(text);
}
