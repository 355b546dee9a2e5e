import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { EarningsTree } from "../../keepers/earnings/tree";
import { relayCall } from "../../sdk";
import { CHALLENGE_WINDOW, CLAIM_PERIOD, COMMONS_FLOOR, deployTreasury } from "../fixtures/treasury";
import {
  claimArgs,
  closeEpoch,
  ETH,
  leavesOf,
  ONE,
  passChallengeWindow,
  postEpoch,
  ref,
  sign,
  splitOf,
} from "./helpers";

const POSTER_ROLE = hre.ethers.id("EARNINGS_POSTER_ROLE");
const GUARDIAN_ROLE = hre.ethers.id("GUARDIAN_ROLE");

/** Two agents paid in ETH during epoch 0 (agent 0: 3 ETH gross, agent 1: 1 ETH gross), epoch 0 closed. */
async function paidEpoch() {
  const f = await deployTreasury();
  const { router, user, user2, agentId, agentId2 } = f;
  await router.connect(user).pay(agentId, ETH, 2n * ONE, ref("a1"), { value: 2n * ONE });
  await router.connect(user2).pay(agentId, ETH, ONE, ref("a2"), { value: ONE });
  await router.connect(user2).pay(agentId2, ETH, ONE, ref("b1"), { value: ONE });
  const epoch = await closeEpoch(router);
  return { ...f, epoch };
}

/** `paidEpoch` with its honest root posted. */
async function postedEpoch() {
  const f = await paidEpoch();
  const tree = await postEpoch(f.router, f.distributor, f.poster, f.epoch, ETH);
  return { ...f, tree };
}

/** `postedEpoch` past its challenge window. */
async function claimableEpoch() {
  const f = await postedEpoch();
  await passChallengeWindow();
  return f;
}

describe("EarningsDistributor", () => {
  describe("posting a root", () => {
    it("takes the poster's root when its total is the bucket, and fixes its windows", async () => {
      const { router, distributor, poster, epoch } = await loadFixture(paidEpoch);
      const tree = EarningsTree.build(await leavesOf(router, epoch, ETH));
      expect(tree.total).to.equal((4n * ONE) / 10n);
      const tx = distributor.connect(poster).postRoot(epoch, ETH, tree.root, tree.total, "ipfs://tree");
      const claimableAt = BigInt((await time.latest()) + 1 + CHALLENGE_WINDOW);
      await expect(tx)
        .to.emit(distributor, "RootPosted")
        .withArgs(epoch, ETH, tree.root, tree.total, "ipfs://tree", claimableAt);
      const info = await distributor.epochInfo(epoch, ETH);
      expect(info.root).to.equal(tree.root.slice(0, 58));
      expect(info.claimableAt).to.equal(claimableAt);
      expect(info.expiresAt).to.equal(claimableAt + BigInt(CLAIM_PERIOD));
      expect(info.opened).to.equal(false);
    });

    it("refuses a total that is not the bucket: the root that lies about its total", async () => {
      const { router, distributor, poster, epoch } = await loadFixture(paidEpoch);
      const tree = EarningsTree.build(await leavesOf(router, epoch, ETH));
      const bucket = await router.bucketOf(epoch, ETH);
      await expect(distributor.connect(poster).postRoot(epoch, ETH, tree.root, bucket + 1n, "ipfs://x"))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorTotalMismatch")
        .withArgs(epoch, ETH, bucket + 1n, bucket);
    });

    it("refuses an open epoch, an empty bucket, a zero root, a second root and anyone but the poster", async () => {
      const { router, distributor, token, poster, stranger, epoch } = await loadFixture(paidEpoch);
      const tree = EarningsTree.build(await leavesOf(router, epoch, ETH));
      const current = await router.currentEpoch();
      await expect(distributor.connect(poster).postRoot(current, ETH, tree.root, tree.total, "u"))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorEpochNotClosed")
        .withArgs(current, current);
      const tokenAddress = await token.getAddress();
      await expect(distributor.connect(poster).postRoot(epoch, tokenAddress, tree.root, 1n, "u"))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorEmptyEpoch")
        .withArgs(epoch, tokenAddress);
      await expect(
        distributor.connect(poster).postRoot(epoch, ETH, hre.ethers.ZeroHash, tree.total, "u"),
      ).to.be.revertedWithCustomError(distributor, "EarningsDistributorZeroRoot");
      await expect(distributor.connect(stranger).postRoot(epoch, ETH, tree.root, tree.total, "u"))
        .to.be.revertedWithCustomError(distributor, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, POSTER_ROLE);
      await distributor.connect(poster).postRoot(epoch, ETH, tree.root, tree.total, "u");
      await expect(distributor.connect(poster).postRoot(epoch, ETH, tree.root, tree.total, "u"))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorRootExists")
        .withArgs(epoch, ETH);
    });
  });

  describe("the guardian's challenge", () => {
    it("cancels a root within its window, after which a corrected one can be posted", async () => {
      const { router, distributor, guardian, poster, epoch, tree } = await loadFixture(postedEpoch);
      await expect(distributor.connect(guardian).cancelRoot(epoch, ETH))
        .to.emit(distributor, "RootCancelled")
        .withArgs(epoch, ETH, tree.root.slice(0, 58), guardian.address);
      expect((await distributor.epochInfo(epoch, ETH)).root).to.equal(`0x${"00".repeat(28)}`);
      await expect(distributor.claim(epoch, ETH, 0n, 1n, []))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorNoRoot")
        .withArgs(epoch, ETH);
      await postEpoch(router, distributor, poster, epoch, ETH);
      expect((await distributor.epochInfo(epoch, ETH)).root).to.equal(tree.root.slice(0, 58));
    });

    it("cannot cancel after the window, and only the guardian may cancel", async () => {
      const { distributor, guardian, poster, epoch } = await loadFixture(postedEpoch);
      await expect(distributor.connect(poster).cancelRoot(epoch, ETH))
        .to.be.revertedWithCustomError(distributor, "AccessControlUnauthorizedAccount")
        .withArgs(poster.address, GUARDIAN_ROLE);
      const { claimableAt } = await distributor.epochInfo(epoch, ETH);
      await time.increaseTo(claimableAt);
      await expect(distributor.connect(guardian).cancelRoot(epoch, ETH))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorChallengeWindowOver")
        .withArgs(epoch, ETH, claimableAt);
      await expect(distributor.connect(guardian).cancelRoot(epoch + 5n, ETH))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorNoRoot")
        .withArgs(epoch + 5n, ETH);
    });
  });

  describe("claiming", () => {
    it("waits for the challenge window", async () => {
      const { distributor, epoch, tree, agentId } = await loadFixture(postedEpoch);
      const { amount, proof } = claimArgs(tree, agentId);
      const { claimableAt } = await distributor.epochInfo(epoch, ETH);
      await expect(distributor.claim(epoch, ETH, agentId, amount, proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorChallengeWindowRunning")
        .withArgs(epoch, ETH, claimableAt);
    });

    it("opens the epoch on the first claim: the bucket moves to the Treasury", async () => {
      const { router, distributor, treasury, stranger, epoch, tree, agentId } = await loadFixture(claimableEpoch);
      const { amount, proof } = claimArgs(tree, agentId);
      const tx = distributor.connect(stranger).claim(epoch, ETH, agentId, amount, proof);
      await expect(tx).to.emit(distributor, "EpochOpened").withArgs(epoch, ETH, tree.total);
      await expect(tx).to.emit(router, "BucketReleased").withArgs(epoch, ETH, tree.total);
      await expect(tx).to.changeEtherBalances([router, treasury], [-tree.total, tree.total]);
      expect(await router.bucketOf(epoch, ETH)).to.equal(0n);
      expect((await distributor.epochInfo(epoch, ETH)).remaining).to.equal(tree.total - amount);
    });

    it("pays a leaf 5/3/2 into the agent's account and the commons, once", async () => {
      const { distributor, treasury, stranger, epoch, tree, agentId } = await loadFixture(claimableEpoch);
      const { amount, proof } = claimArgs(tree, agentId);
      expect(amount).to.equal((3n * ONE) / 10n);
      const { personal, infrastructure, commons } = splitOf(amount, 5_000n, 3_000n);
      await expect(distributor.connect(stranger).claim(epoch, ETH, agentId, amount, proof))
        .to.emit(distributor, "Claimed")
        .withArgs(epoch, ETH, agentId, amount, personal, infrastructure, commons);
      expect(await treasury.earningsOf(agentId, ETH)).to.equal(personal);
      expect(await treasury.budgetOf(agentId, ETH)).to.equal(infrastructure);
      expect(await treasury.commonsOf(ETH)).to.equal(commons);
      expect(await distributor.isClaimed(epoch, ETH, agentId)).to.equal(true);
      await expect(distributor.connect(stranger).claim(epoch, ETH, agentId, amount, proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorAlreadyClaimed")
        .withArgs(epoch, ETH, agentId);
    });

    it("pays no one another's share: a proof for one agent does not pay another", async () => {
      const { distributor, epoch, tree, agentId, agentId2 } = await loadFixture(claimableEpoch);
      const { amount, proof } = claimArgs(tree, agentId);
      await expect(distributor.claim(epoch, ETH, agentId2, amount, proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorInvalidProof")
        .withArgs(epoch, ETH, agentId2, amount);
      await expect(distributor.claim(epoch, ETH, agentId, amount + 1n, proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorInvalidProof")
        .withArgs(epoch, ETH, agentId, amount + 1n);
      await expect(distributor.claim(epoch, ETH, agentId, 0n, proof)).to.be.revertedWithCustomError(
        distributor,
        "EarningsDistributorZeroAmount",
      );
    });

    it("claims many in one call and skips leaves already paid", async () => {
      const { distributor, treasury, stranger, epoch, tree, agentId, agentId2 } = await loadFixture(claimableEpoch);
      const a = claimArgs(tree, agentId);
      const b = claimArgs(tree, agentId2);
      await distributor.claim(epoch, ETH, agentId, a.amount, a.proof);
      const batch = [
        { agentId, ...a },
        { agentId: agentId2, ...b },
      ];
      expect(await distributor.connect(stranger).claimMany.staticCall(epoch, ETH, batch)).to.equal(1n);
      const split = splitOf(b.amount, 5_000n, 3_000n);
      await expect(distributor.connect(stranger).claimMany(epoch, ETH, batch))
        .to.emit(distributor, "Claimed")
        .withArgs(epoch, ETH, agentId2, b.amount, split.personal, split.infrastructure, split.commons);
      expect((await distributor.epochInfo(epoch, ETH)).remaining).to.equal(0n);
      expect(await treasury.earningsOf(agentId2, ETH)).to.equal(split.personal);
      expect(await distributor.connect(stranger).claimMany.staticCall(epoch, ETH, batch)).to.equal(0n);
    });

    it("expires at the time fixed when the root was posted; what is left goes to the commons", async () => {
      const { distributor, treasury, stranger, epoch, tree, agentId, agentId2 } = await loadFixture(claimableEpoch);
      const a = claimArgs(tree, agentId);
      await distributor.claim(epoch, ETH, agentId, a.amount, a.proof);
      const { expiresAt } = await distributor.epochInfo(epoch, ETH);
      await expect(distributor.sweepExpired(epoch, ETH))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorNotExpired")
        .withArgs(epoch, ETH, expiresAt);
      await time.increaseTo(expiresAt);
      const b = claimArgs(tree, agentId2);
      await expect(distributor.claim(epoch, ETH, agentId2, b.amount, b.proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorExpired")
        .withArgs(epoch, ETH, expiresAt);
      const commonsBefore = await treasury.commonsOf(ETH);
      await expect(distributor.connect(stranger).sweepExpired(epoch, ETH))
        .to.emit(distributor, "UnclaimedSwept")
        .withArgs(epoch, ETH, b.amount);
      expect(await treasury.commonsOf(ETH)).to.equal(commonsBefore + b.amount);
      await expect(distributor.sweepExpired(epoch, ETH))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorSwept")
        .withArgs(epoch, ETH);
    });

    it("sweeps an epoch nobody claimed: it opens it first", async () => {
      const { router, distributor, treasury, epoch, tree } = await loadFixture(claimableEpoch);
      await time.increaseTo((await distributor.epochInfo(epoch, ETH)).expiresAt);
      const tx = distributor.sweepExpired(epoch, ETH);
      await expect(tx).to.emit(distributor, "UnclaimedSwept").withArgs(epoch, ETH, tree.total);
      await expect(tx).to.changeEtherBalances([router, treasury], [-tree.total, tree.total]);
      expect(await treasury.commonsOf(ETH)).to.equal(tree.total);
    });
  });

  describe("a root that lies", () => {
    /** The poster's own agent (agent 1) given the whole bucket on top of the honest leaves. */
    async function lyingRoot() {
      const f = await paidEpoch();
      const { router, distributor, poster, epoch, agentId, agentId2 } = f;
      const bucket = await router.bucketOf(epoch, ETH);
      const honest = await leavesOf(router, epoch, ETH);
      const lie = EarningsTree.build(honest.map((l) => (l.agentId === agentId2 ? { ...l, amount: bucket } : l)));
      // The leaves sum to more than the bucket, but the posted total must be the bucket.
      expect(lie.total).to.be.greaterThan(bucket);
      await distributor.connect(poster).postRoot(epoch, ETH, lie.root, bucket, "ipfs://lie");
      return { ...f, lie, bucket, agentId, agentId2 };
    }

    it("is cancelled by the guardian within the window", async () => {
      const { distributor, guardian, epoch, lie } = await loadFixture(lyingRoot);
      await expect(distributor.connect(guardian).cancelRoot(epoch, ETH))
        .to.emit(distributor, "RootCancelled")
        .withArgs(epoch, ETH, lie.root.slice(0, 58), guardian.address);
    });

    it("cannot pay more than the bucket if nobody cancels it", async () => {
      const { distributor, treasury, epoch, lie, bucket, agentId, agentId2 } = await loadFixture(lyingRoot);
      await passChallengeWindow();
      const greedy = claimArgs(lie, agentId2);
      await distributor.claim(epoch, ETH, agentId2, greedy.amount, greedy.proof);
      const honest = claimArgs(lie, agentId);
      await expect(distributor.claim(epoch, ETH, agentId, honest.amount, honest.proof))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorExceedsRemaining")
        .withArgs(epoch, ETH, honest.amount, 0n);
      const paid =
        (await treasury.earningsOf(agentId2, ETH)) +
        (await treasury.budgetOf(agentId2, ETH)) +
        (await treasury.commonsOf(ETH));
      expect(paid).to.equal(bucket);
      expect(await hre.ethers.provider.getBalance(await treasury.getAddress())).to.equal(bucket);
    });
  });

  describe("inner splits", () => {
    const split = { personalBps: 6_000, infrastructureBps: 3_000, commonsBps: 1_000 };

    it("are set by the agent signer directly or by signature, in force from the next epoch", async () => {
      const { distributor, router, deployment, agentKey, relayer, agentId } = await loadFixture(deployTreasury);
      const current = await router.currentEpoch();
      await expect(distributor.connect(agentKey).setSplit(agentId, split))
        .to.emit(distributor, "SplitSet")
        .withArgs(agentId, 6_000, 3_000, 1_000, current + 1n);
      expect(await distributor.splitAt(agentId, current)).to.deep.equal([5_000n, 3_000n, 2_000n]);
      expect(await distributor.splitAt(agentId, current + 1n)).to.deep.equal([6_000n, 3_000n, 1_000n]);

      const signed = await sign(agentKey, "SetEarningsSplit", deployment, {
        agentId,
        personalBps: 7_000,
        infrastructureBps: 1_000,
        commonsBps: 2_000,
        nonce: 9n,
      });
      const call = relayCall(signed);
      await expect(relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.emit(distributor, "SplitSet")
        .withArgs(agentId, 7_000, 1_000, 2_000, current + 1n);
      // Changed twice within one epoch: the later one is what the next epoch gets.
      expect(await distributor.splitAt(agentId, current + 1n)).to.deep.equal([7_000n, 1_000n, 2_000n]);
      await expect(relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(distributor, "AgentSignedNonceUsed")
        .withArgs(agentId, 9n);
    });

    it("keep their history: each epoch is read with the split in force during it", async () => {
      const { distributor, router, agentKey, agentId } = await loadFixture(deployTreasury);
      const e0 = await router.currentEpoch();
      const splits = [
        { personalBps: 6_000, infrastructureBps: 3_000, commonsBps: 1_000 },
        { personalBps: 5_400, infrastructureBps: 3_600, commonsBps: 1_000 },
        { personalBps: 1_000, infrastructureBps: 1_000, commonsBps: 8_000 },
      ];
      for (const [i, s] of splits.entries()) {
        await distributor.connect(agentKey).setSplit(agentId, s);
        await closeEpoch(router);
        if (i === 1) await closeEpoch(router); // a gap: epoch e0+3 keeps the second split
      }
      const expected = [
        [5_000n, 3_000n, 2_000n],
        [6_000n, 3_000n, 1_000n],
        [5_400n, 3_600n, 1_000n],
        [5_400n, 3_600n, 1_000n],
        [1_000n, 1_000n, 8_000n],
        [1_000n, 1_000n, 8_000n],
      ];
      for (const [i, e] of expected.entries()) {
        expect(await distributor.splitAt(agentId, e0 + BigInt(i))).to.deep.equal(e, `epoch ${e0 + BigInt(i)}`);
      }
    });

    it("pay each claim by the split of its epoch, including the 60/40 treasury/reinvest loop", async () => {
      const { router, distributor, treasury, poster, user, agentKey, agentId } = await loadFixture(deployTreasury);
      // 60/40 of what the commons floor leaves: personal (the agent's treasury) 5,400, reinvested 3,600.
      const loop = { personalBps: 5_400, infrastructureBps: 3_600, commonsBps: 1_000 };
      await router.connect(user).pay(agentId, ETH, 10_000n, ref("e0"), { value: 10_000n });
      await distributor.connect(agentKey).setSplit(agentId, loop); // from the next epoch
      const e0 = await closeEpoch(router);
      await router.connect(user).pay(agentId, ETH, 10_000n, ref("e1"), { value: 10_000n });
      const e1 = await closeEpoch(router);
      const t0 = await postEpoch(router, distributor, poster, e0, ETH);
      const t1 = await postEpoch(router, distributor, poster, e1, ETH);
      await passChallengeWindow();
      const c0 = claimArgs(t0, agentId);
      await expect(distributor.claim(e0, ETH, agentId, c0.amount, c0.proof))
        .to.emit(distributor, "Claimed")
        .withArgs(e0, ETH, agentId, 1_000n, 500n, 300n, 200n);
      const c1 = claimArgs(t1, agentId);
      await expect(distributor.claim(e1, ETH, agentId, c1.amount, c1.proof))
        .to.emit(distributor, "Claimed")
        .withArgs(e1, ETH, agentId, 1_000n, 540n, 360n, 100n);
      expect(await treasury.earningsOf(agentId, ETH)).to.equal(1_040n);
      expect(await treasury.budgetOf(agentId, ETH)).to.equal(660n);
      expect(await treasury.commonsOf(ETH)).to.equal(300n);
    });

    it("give the rounding remainder to the commons", async () => {
      const { router, distributor, poster, user, agentKey, agentId } = await loadFixture(deployTreasury);
      await distributor
        .connect(agentKey)
        .setSplit(agentId, { personalBps: 3_333, infrastructureBps: 3_333, commonsBps: 3_334 });
      await closeEpoch(router);
      await router.connect(user).pay(agentId, ETH, 70n, ref("odd"), { value: 70n }); // 7 wei to the agent
      const epoch = await closeEpoch(router);
      const tree = await postEpoch(router, distributor, poster, epoch, ETH);
      await passChallengeWindow();
      const c = claimArgs(tree, agentId);
      await expect(distributor.claim(epoch, ETH, agentId, c.amount, c.proof))
        .to.emit(distributor, "Claimed")
        .withArgs(epoch, ETH, agentId, 7n, 2n, 2n, 3n);
    });

    it("refuse a split that does not sum to 10,000 or goes below the commons floor", async () => {
      const { distributor, agentKey, agentId } = await loadFixture(deployTreasury);
      await expect(
        distributor
          .connect(agentKey)
          .setSplit(agentId, { personalBps: 5_000, infrastructureBps: 3_000, commonsBps: 1_000 }),
      )
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorInvalidSplit")
        .withArgs(5_000, 3_000, 1_000);
      await expect(
        distributor
          .connect(agentKey)
          .setSplit(agentId, { personalBps: 6_000, infrastructureBps: 3_500, commonsBps: 500 }),
      )
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorBelowCommonsFloor")
        .withArgs(500, COMMONS_FLOOR);
    });

    it("are set by the agent only: not its operator, not a stranger", async () => {
      const { distributor, operator, agentId } = await loadFixture(deployTreasury);
      await expect(distributor.connect(operator).setSplit(agentId, split))
        .to.be.revertedWithCustomError(distributor, "AgentSignedNotAgentSigner")
        .withArgs(agentId, operator.address);
    });

    it("have a commons floor governance sets, never above the default commons share", async () => {
      const { distributor, deployer, stranger } = await loadFixture(deployTreasury);
      await expect(distributor.connect(deployer).setCommonsFloor(1_500))
        .to.emit(distributor, "CommonsFloorSet")
        .withArgs(1_500);
      expect(await distributor.commonsFloor()).to.equal(1_500n);
      await expect(distributor.connect(deployer).setCommonsFloor(2_001))
        .to.be.revertedWithCustomError(distributor, "EarningsDistributorInvalidCommonsFloor")
        .withArgs(2_001);
      await expect(distributor.connect(stranger).setCommonsFloor(0))
        .to.be.revertedWithCustomError(distributor, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, hre.ethers.ZeroHash);
    });
  });
});
