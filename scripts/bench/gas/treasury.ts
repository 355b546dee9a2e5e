import { time } from "@nomicfoundation/hardhat-network-helpers";
import hre from "hardhat";
import { type EarningsLeaf, EarningsTree } from "../../../keepers/earnings/tree";
import { CHALLENGE_WINDOW, deployTreasury, EPOCH_LENGTH, ETH } from "../../../test/fixtures/treasury";
import type { GasMeasurement } from "./types";

const TREE_LEAVES = 100_000;

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

/** Moves the chain to the start of the next epoch. */
async function nextEpoch(router: { currentEpoch(): Promise<bigint>; genesis(): Promise<bigint> }) {
  const epoch = await router.currentEpoch();
  await time.increaseTo((await router.genesis()) + (epoch + 1n) * BigInt(EPOCH_LENGTH));
  return epoch;
}

/**
 * Revenue router and earnings distributor: the figures the treasury issue sets targets for. Every transaction is sent
 * by an EOA; "warm" state (payee credit, bucket, bitmap word, Treasury account and commons) is made non-zero first by
 * an earlier transaction, as in steady operation.
 */
export async function treasuryGas(): Promise<GasMeasurement[]> {
  const out: GasMeasurement[] = [];
  const f = await deployTreasury();
  const { router, distributor, treasury, token, user, user2, poster, agentId, agentId2 } = f;
  const tokenAddress = await token.getAddress();
  const routerAddress = await router.getAddress();

  // --- pay in ETH: the operator's credit and the epoch's ETH bucket are already non-zero.
  await router.connect(user2).pay(agentId2, ETH, 10n ** 17n, hre.ethers.id("warm"), { value: 10n ** 17n });
  await router.connect(user2).pay(agentId, ETH, 10n ** 17n, hre.ethers.id("warm"), { value: 10n ** 17n });
  out.push({
    name: "RevenueRouter.pay(ETH)",
    gas: await gasOf(
      router.connect(user).pay(agentId, ETH, 10n ** 18n, hre.ethers.id("invoice-1"), { value: 10n ** 18n }),
    ),
    target: 45_000,
    reference: "five-way internal credit 70,785",
    conditions: "EOA payer, default 9,000/1,000 split, no payee named, operator credit and epoch bucket non-zero",
  });

  // --- pay in an ERC-20: the payer's balance and allowance, the router's balance, the credit and the bucket are
  // non-zero before and after (a finite approval, so the allowance is written).
  await token.connect(user).approve(routerAddress, 10n ** 27n);
  await router.connect(user).pay(agentId2, tokenAddress, 10n ** 18n, hre.ethers.id("warm"));
  await router.connect(user).pay(agentId, tokenAddress, 10n ** 18n, hre.ethers.id("warm"));
  out.push({
    name: "RevenueRouter.pay(ERC-20)",
    gas: await gasOf(router.connect(user).pay(agentId, tokenAddress, 5n * 10n ** 18n, hre.ethers.id("invoice-2"))),
    target: 75_000,
    reference: "five-way internal credit 70,785",
    conditions:
      "EOA payer, OpenZeppelin ERC-20 with a finite allowance, default split, balances, credit and bucket non-zero",
  });

  // --- an epoch of 100,000 leaves. The bucket holds what the three payments above put in; the tree spreads it over
  // agent ids 0 to 99,999 (two of them the registered agents), so the proofs have the depth of a real epoch.
  const epoch = await nextEpoch(router);
  const bucket = await router.bucketOf(epoch, ETH);
  const leaves: EarningsLeaf[] = [];
  let assigned = 0n;
  const unit = bucket / BigInt(TREE_LEAVES * 2);
  for (let i = 0; i < TREE_LEAVES; i++) {
    const amount = i === TREE_LEAVES - 1 ? bucket - assigned : unit + BigInt(i % 97);
    leaves.push({ agentId: BigInt(i), token: ETH, amount });
    assigned += amount;
  }
  const tree = EarningsTree.build(leaves);
  if (tree.total !== bucket) throw new Error("tree total is not the bucket");

  out.push({
    name: "EarningsDistributor.postRoot",
    gas: await gasOf(
      distributor.connect(poster).postRoot(epoch, ETH, tree.root, tree.total, `ipfs://bafybeig${"a".repeat(51)}`),
    ),
    target: 60_000,
    reference: "bare root set 44,094",
    conditions: "EOA poster, 100,000-leaf ETH tree, bucket non-zero, 66-byte URI",
  });

  // Claims open; the first claim opens the epoch (moves the bucket to the Treasury): measured apart.
  await time.increase(CHALLENGE_WINDOW);
  const claimOf = (id: bigint) => {
    const leaf = tree.leafOf(id);
    const proof = tree.proof(id);
    if (!leaf || !proof) throw new Error(`no leaf for ${id}`);
    return distributor.connect(user2).claim(epoch, ETH, id, leaf.amount, proof);
  };
  out.push({
    name: "EarningsDistributor.claim(first, opens epoch)",
    gas: await gasOf(claimOf(agentId2)),
    reference: "claim plus the epoch's one bucket transfer to the Treasury",
    conditions: "EOA caller, 100,000-leaf tree, first claim of the epoch, agent's Treasury account empty",
  });

  // The measured leaf: a 17-sibling proof, its bitmap word already touched by the claim above, its Treasury account
  // and the commons already non-zero (an earlier budget top-up and claim).
  const measured = [...Array(256).keys()]
    .map((i) => BigInt(i))
    .find((id) => id !== agentId2 && (tree.proof(id)?.length ?? 0) === 17);
  if (measured === undefined) throw new Error("no 17-deep leaf in the first bitmap word");
  await treasury.connect(user).fundBudget(measured, ETH, 1n, { value: 1n });
  out.push({
    name: "EarningsDistributor.claim",
    gas: await gasOf(claimOf(measured)),
    target: 72_000,
    reference: "Merkle claims measured 78,371-95,469; Balancer bitmap 63.2k",
    conditions:
      "EOA caller, 100,000-leaf tree, 17-sibling proof, epoch open, bitmap word, Treasury account and commons non-zero",
  });

  // claimMany: a keeper batch of 100 leaves of the same words, per leaf.
  const batchIds = [...Array(100).keys()].map((i) => BigInt(300 + i));
  const batch = batchIds.map((id) => ({ agentId: id, amount: tree.leafOf(id)!.amount, proof: tree.proof(id)! }));
  const batchGas = await gasOf(distributor.connect(user2).claimMany(epoch, ETH, batch));
  out.push({
    name: "EarningsDistributor.claimMany(100), per leaf",
    gas: Math.round(batchGas / batch.length),
    reference: "keeper batches after the challenge window",
    conditions: "EOA caller, 100 leaves of a 100,000-leaf tree (ids 300-399), first claims of their Treasury accounts",
  });
  return out;
}
