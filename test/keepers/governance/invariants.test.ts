import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { type Address, createPublicClient, custom } from "viem";
import { abiOf } from "../../../keepers/governance/contracts";
import { epochRemainingMatchesClaims, treasuryHoldsWhatItOwes } from "../../../keepers/governance/invariants/treasury";
import type { InvariantContext } from "../../../keepers/governance/invariants/types";
import { deployTreasury } from "../../fixtures/treasury";
import { claimArgs, closeEpoch, ETH, passChallengeWindow, postEpoch } from "../../treasury/helpers";

/*
 * The treasury's invariants, as the governance keeper's simulator runs them after a proposal: held on a real epoch
 * (payments, a posted root, claims, a budget funded), and broken, with the numbers, when the books disagree.
 */

async function paidAndClaimed() {
  const f = await deployTreasury();
  await f.router.connect(f.user).pay(f.agentId, ETH, 10n ** 18n, hre.ethers.id("a"), { value: 10n ** 18n });
  await f.router.connect(f.user).pay(f.agentId2, ETH, 3n * 10n ** 17n, hre.ethers.id("b"), { value: 3n * 10n ** 17n });
  const epoch = await closeEpoch(f.router);
  const tree = await postEpoch(f.router, f.distributor, f.poster, epoch, ETH);
  await passChallengeWindow();
  const c = claimArgs(tree, f.agentId); // agent 2 leaves its leaf unclaimed
  await f.distributor.claim(epoch, ETH, f.agentId, c.amount, c.proof);
  await f.treasury.fundBudget(f.agentId2, ETH, 12345n, { value: 12345n });
  return f;
}

describe("governance invariants: the treasury's books", () => {
  const context = async (f: Awaited<ReturnType<typeof deployTreasury>>): Promise<InvariantContext> => ({
    client: createPublicClient({ transport: custom(hre.network.provider) }) as never,
    addresses: {
      EarningsDistributor: (await f.distributor.getAddress()) as Address,
      Treasury: (await f.treasury.getAddress()) as Address,
    },
    fromBlock: 0n,
    chunkBlocks: 1_000,
  });

  it("hold on an epoch with a claim, an unclaimed leaf and a funded budget", async () => {
    const f = await loadFixture(paidAndClaimed);
    const ctx = await context(f);
    expect(await epochRemainingMatchesClaims.check(ctx, abiOf)).to.deep.equal({
      ok: true,
      detail: "1 opened epochs, 1 claims",
    });
    const held = await treasuryHoldsWhatItOwes.check(ctx, abiOf);
    expect(held).to.have.property("ok", true);
    // Every wei is accounted for: what it holds is exactly what it owes.
    const balance = await hre.ethers.provider.getBalance(f.treasury);
    expect((held as { detail: string }).detail).to.equal(`holds ${balance} wei, owes ${balance} wei (2 agents)`);
  });

  it("break, naming the shortfall, when the Treasury holds less than it owes", async () => {
    const f = await loadFixture(paidAndClaimed);
    const ctx = await context(f);
    const balance = await hre.ethers.provider.getBalance(f.treasury);
    await hre.network.provider.send("hardhat_setBalance", [
      await f.treasury.getAddress(),
      `0x${(balance - 1n).toString(16)}`,
    ]);
    expect(await treasuryHoldsWhatItOwes.check(ctx, abiOf)).to.deep.equal({
      ok: false,
      detail: `holds ${balance - 1n} wei but owes ${balance} wei (2 agents)`,
    });
  });
});
