import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import {
  MockFeeOnTransferToken__factory,
  MockNoBoolToken__factory,
  MockReentrantToken__factory,
} from "../../typechain-types";
import { deployTreasury } from "../fixtures/treasury";
import { claimArgs, closeEpoch, passChallengeWindow, postEpoch, ref } from "./helpers";

/*
 * Hostile tokens across the whole path (payment, root, opening, claim, withdrawal). Hostile receivers are covered
 * where money leaves: RevenueRouter.withdraw and Treasury.withdrawEarnings.
 */
describe("Hostile tokens through the money path", () => {
  it("a token without bool returns goes the whole way: pay, post, open, claim, withdraw", async () => {
    const { router, distributor, treasury, poster, user, agentKey, agentId, deployer } =
      await loadFixture(deployTreasury);
    const usdt = await new MockNoBoolToken__factory(deployer).deploy();
    const t = await usdt.getAddress();
    await router.setTokenAccepted(t, true);
    await usdt.mint(user.address, 10_000n);
    await usdt.connect(user).approve(await router.getAddress(), 10_000n);
    await router.connect(user).pay(agentId, t, 10_000n, ref("usdt"));
    const epoch = await closeEpoch(router);
    const tree = await postEpoch(router, distributor, poster, epoch, t);
    await passChallengeWindow();
    const c = claimArgs(tree, agentId);
    await distributor.claim(epoch, t, agentId, c.amount, c.proof);
    expect(await usdt.balanceOf(await treasury.getAddress())).to.equal(1_000n);
    await treasury.withdrawEarnings(agentId, t);
    expect(await usdt.balanceOf(agentKey.address)).to.equal(500n);
  });

  it("a token that starts taking a fee after the payment cannot be released short: the bucket stays", async () => {
    const { router, distributor, poster, user, agentId, deployer } = await loadFixture(deployTreasury);
    const fee = await new MockFeeOnTransferToken__factory(deployer).deploy(0);
    const t = await fee.getAddress();
    await router.setTokenAccepted(t, true);
    await fee.mint(user.address, 10_000n);
    await fee.connect(user).approve(await router.getAddress(), 10_000n);
    await router.connect(user).pay(agentId, t, 10_000n, ref("fee"));
    const epoch = await closeEpoch(router);
    const tree = await postEpoch(router, distributor, poster, epoch, t);
    await passChallengeWindow();
    await fee.setFee(100);
    const c = claimArgs(tree, agentId);
    await expect(distributor.claim(epoch, t, agentId, c.amount, c.proof))
      .to.be.revertedWithCustomError(router, "RevenueRouterFeeOnTransfer")
      .withArgs(t, 1_000n, 990n);
    expect(await router.bucketOf(epoch, t)).to.equal(1_000n);
    expect((await distributor.epochInfo(epoch, t)).opened).to.equal(false);
  });

  it("a token that re-enters while its bucket is released cannot open or claim the epoch twice", async () => {
    const { router, distributor, treasury, poster, user, agentId, agentId2, deployer } =
      await loadFixture(deployTreasury);
    const evil = await new MockReentrantToken__factory(deployer).deploy();
    const t = await evil.getAddress();
    await router.setTokenAccepted(t, true);
    await evil.mint(user.address, 20_000n);
    await evil.connect(user).approve(await router.getAddress(), 20_000n);
    await router.connect(user).pay(agentId, t, 10_000n, ref("a"));
    await router.connect(user).pay(agentId2, t, 10_000n, ref("b"));
    const epoch = await closeEpoch(router);
    const tree = await postEpoch(router, distributor, poster, epoch, t);
    await passChallengeWindow();
    const a = claimArgs(tree, agentId);
    const b = claimArgs(tree, agentId2);
    // During the router's transfer to the Treasury, the token claims agent 2's leaf.
    await evil.arm(
      await distributor.getAddress(),
      distributor.interface.encodeFunctionData("claim", [epoch, t, agentId2, b.amount, b.proof]),
    );
    await distributor.claim(epoch, t, agentId, a.amount, a.proof);
    expect(await evil.reentered()).to.equal(true);
    // The inner claim saw the epoch already open (its counter was written before the router was called) and
    // was paid from the counter like any other claim: nothing was paid twice and the total holds.
    expect(await evil.lastCallSucceeded()).to.equal(true);
    expect(await distributor.isClaimed(epoch, t, agentId2)).to.equal(true);
    expect((await distributor.epochInfo(epoch, t)).remaining).to.equal(0n);
    await expect(distributor.claim(epoch, t, agentId2, b.amount, b.proof))
      .to.be.revertedWithCustomError(distributor, "EarningsDistributorAlreadyClaimed")
      .withArgs(epoch, t, agentId2);
    expect(await evil.balanceOf(await treasury.getAddress())).to.equal(2_000n);
    expect(await router.bucketOf(epoch, t)).to.equal(0n);
  });
});
