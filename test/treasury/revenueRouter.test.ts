import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { revenueShareCall } from "../../sdk";
import {
  MockFeeOnTransferToken__factory,
  MockHostileReceiver__factory,
  MockNoBoolToken__factory,
  MockReentrantToken__factory,
} from "../../typechain-types";
import { deployTreasury, EPOCH_LENGTH } from "../fixtures/treasury";
import { ETH, ONE, ref, sign } from "./helpers";

const MODE = { Accept: 0, Revert: 1, Reenter: 2 } as const;

describe("RevenueRouter", () => {
  describe("pay in ETH", () => {
    it("credits the operator 90%, adds 10% to the epoch's bucket and records Paid", async () => {
      const { router, operator, user, agentId } = await loadFixture(deployTreasury);
      const epoch = await router.currentEpoch();
      const tx = router.connect(user).pay(agentId, ETH, ONE, ref("invoice"), { value: ONE });
      await expect(tx)
        .to.emit(router, "Paid")
        .withArgs(agentId, ETH, epoch, ONE, ONE / 10n, ref("invoice"));
      await expect(tx).to.changeEtherBalances([user, router], [-ONE, ONE]);
      expect(await router.bucketOf(epoch, ETH)).to.equal(ONE / 10n);
      expect(await router.creditOf(operator.address, ETH)).to.equal((ONE * 9n) / 10n);
    });

    it("rounds the agent share down and leaves the remainder with the user side", async () => {
      const { router, operator, user, agentId } = await loadFixture(deployTreasury);
      const epoch = await router.currentEpoch();
      await router.connect(user).pay(agentId, ETH, 19n, ref("odd"), { value: 19n });
      expect(await router.bucketOf(epoch, ETH)).to.equal(1n);
      expect(await router.creditOf(operator.address, ETH)).to.equal(18n);
    });

    it("puts a payment in the epoch of its block", async () => {
      const { router, user, agentId } = await loadFixture(deployTreasury);
      const start = await router.genesis();
      await time.setNextBlockTimestamp(start + BigInt(EPOCH_LENGTH) * 3n + 5n);
      await expect(router.connect(user).pay(agentId, ETH, 1000n, ref("later"), { value: 1000n }))
        .to.emit(router, "Paid")
        .withArgs(agentId, ETH, 3n, 1000n, 100n, ref("later"));
      expect(await router.bucketOf(3n, ETH)).to.equal(100n);
      expect(await router.epochAt(start + BigInt(EPOCH_LENGTH) * 3n - 1n)).to.equal(2n);
    });

    it("refuses a value that is not the amount, a zero amount and an unknown agent", async () => {
      const { router, registry, user, agentId } = await loadFixture(deployTreasury);
      await expect(router.connect(user).pay(agentId, ETH, ONE, ref("x"), { value: ONE - 1n }))
        .to.be.revertedWithCustomError(router, "RevenueRouterWrongValue")
        .withArgs(ONE, ONE - 1n);
      await expect(router.connect(user).pay(agentId, ETH, 0n, ref("x"))).to.be.revertedWithCustomError(
        router,
        "RevenueRouterZeroAmount",
      );
      await expect(router.connect(user).pay(99n, ETH, 5n, ref("x"), { value: 5n }))
        .to.be.revertedWithCustomError(registry, "ERC721NonexistentToken")
        .withArgs(99n);
    });
  });

  describe("pay in an ERC-20", () => {
    it("pulls the amount and splits it like ETH", async () => {
      const { router, token, operator, user, agentId } = await loadFixture(deployTreasury);
      const epoch = await router.currentEpoch();
      await token.connect(user).approve(await router.getAddress(), ONE);
      const tx = router.connect(user).pay(agentId, await token.getAddress(), ONE, ref("erc20"));
      await expect(tx)
        .to.emit(router, "Paid")
        .withArgs(agentId, await token.getAddress(), epoch, ONE, ONE / 10n, ref("erc20"));
      await expect(tx).to.changeTokenBalances(token, [user, router], [-ONE, ONE]);
      expect(await router.bucketOf(epoch, await token.getAddress())).to.equal(ONE / 10n);
      expect(await router.creditOf(operator.address, await token.getAddress())).to.equal((ONE * 9n) / 10n);
    });

    it("refuses a token the admin did not accept, and ETH sent along", async () => {
      const { router, token, user, agentId, deployer } = await loadFixture(deployTreasury);
      const other = await new MockNoBoolToken__factory(deployer).deploy();
      await expect(router.connect(user).pay(agentId, await other.getAddress(), 5n, ref("x")))
        .to.be.revertedWithCustomError(router, "RevenueRouterTokenNotAccepted")
        .withArgs(await other.getAddress());
      await expect(router.connect(user).pay(agentId, await token.getAddress(), 5n, ref("x"), { value: 1n }))
        .to.be.revertedWithCustomError(router, "RevenueRouterWrongValue")
        .withArgs(5n, 1n);
    });

    it("refuses a fee-on-transfer token by the balance difference", async () => {
      const { router, user, agentId, deployer } = await loadFixture(deployTreasury);
      const fee = await new MockFeeOnTransferToken__factory(deployer).deploy(100); // 1%
      await router.setTokenAccepted(await fee.getAddress(), true);
      await fee.mint(user.address, 10_000n);
      await fee.connect(user).approve(await router.getAddress(), 10_000n);
      await expect(router.connect(user).pay(agentId, await fee.getAddress(), 10_000n, ref("fee")))
        .to.be.revertedWithCustomError(router, "RevenueRouterFeeOnTransfer")
        .withArgs(await fee.getAddress(), 10_000n, 9_900n);
      expect(await fee.balanceOf(await router.getAddress())).to.equal(0n);
    });

    it("takes a token whose transfers return no bool", async () => {
      const { router, operator, user, agentId, deployer } = await loadFixture(deployTreasury);
      const usdt = await new MockNoBoolToken__factory(deployer).deploy();
      await router.setTokenAccepted(await usdt.getAddress(), true);
      await usdt.mint(user.address, 1_000n);
      await usdt.connect(user).approve(await router.getAddress(), 1_000n);
      await router.connect(user).pay(agentId, await usdt.getAddress(), 1_000n, ref("usdt"));
      expect(await usdt.balanceOf(await router.getAddress())).to.equal(1_000n);
      await expect(router.connect(operator).withdraw(await usdt.getAddress(), operator.address))
        .to.emit(router, "Withdrawn")
        .withArgs(operator.address, await usdt.getAddress(), operator.address, 900n);
      expect(await usdt.balanceOf(operator.address)).to.equal(900n);
    });

    it("stops a token that re-enters during its transfer, and the outer payment stays exact", async () => {
      const { router, operator, user, agentId, deployer } = await loadFixture(deployTreasury);
      const evil = await new MockReentrantToken__factory(deployer).deploy();
      const evilAddress = await evil.getAddress();
      await router.setTokenAccepted(evilAddress, true);
      await evil.mint(user.address, 10_000n);
      await evil.mint(evilAddress, 10_000n);
      await evil.connect(user).approve(await router.getAddress(), 10_000n);
      // The token tries to pay again from inside transferFrom (its own balance is approved to the router).
      await evil.arm(
        await router.getAddress(),
        router.interface.encodeFunctionData("pay", [agentId, evilAddress, 1_000n, ref("inner")]),
      );
      await router.connect(user).pay(agentId, evilAddress, 1_000n, ref("outer"));
      expect(await evil.reentered()).to.equal(true);
      expect(await evil.lastCallSucceeded()).to.equal(false);
      expect(await evil.lastCallResult()).to.equal(router.interface.encodeErrorResult("ReentrancyGuardReentrantCall"));
      const epoch = await router.currentEpoch();
      expect(await router.bucketOf(epoch, evilAddress)).to.equal(100n);
      expect(await router.creditOf(operator.address, evilAddress)).to.equal(900n);
      expect(await evil.balanceOf(await router.getAddress())).to.equal(1_000n);
    });
  });

  describe("withdraw", () => {
    it("pays the caller's whole credit to the address it names, once", async () => {
      const { router, operator, user, agentId, stranger } = await loadFixture(deployTreasury);
      await router.connect(user).pay(agentId, ETH, ONE, ref("a"), { value: ONE });
      const tx = router.connect(operator).withdraw(ETH, stranger.address);
      await expect(tx)
        .to.emit(router, "Withdrawn")
        .withArgs(operator.address, ETH, stranger.address, (ONE * 9n) / 10n);
      await expect(tx).to.changeEtherBalances([router, stranger], [-(ONE * 9n) / 10n, (ONE * 9n) / 10n]);
      await expect(router.connect(operator).withdraw(ETH, stranger.address))
        .to.be.revertedWithCustomError(router, "RevenueRouterNothingToWithdraw")
        .withArgs(operator.address, ETH);
      await expect(router.connect(operator).withdraw(ETH, hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(
        router,
        "RevenueRouterZeroAddress",
      );
    });

    it("lets a payee that refuses ETH withdraw elsewhere, and blocks no one else", async () => {
      const { router, operator, operator2, user, agentId, agentId2, deployer, stranger } =
        await loadFixture(deployTreasury);
      const hostile = await new MockHostileReceiver__factory(deployer).deploy();
      const hostileAddress = await hostile.getAddress();
      await hostile.setMode(MODE.Revert, hre.ethers.ZeroAddress, "0x");
      await router.connect(operator).setPayee(agentId, hostileAddress);
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("a"), { value: 1_000n });
      await router.connect(user).pay(agentId2, ETH, 1_000n, ref("b"), { value: 1_000n });
      // Payments never push to it, so the hostile payee cannot block them; its own pull to itself fails.
      await expect(
        hostile.execute(
          await router.getAddress(),
          router.interface.encodeFunctionData("withdraw", [ETH, hostileAddress]),
        ),
      ).to.be.revertedWithCustomError(hostile, "MockHostileReceiverRefused");
      await expect(router.connect(operator2).withdraw(ETH, operator2.address)).to.changeEtherBalance(operator2, 900n);
      await expect(
        hostile.execute(
          await router.getAddress(),
          router.interface.encodeFunctionData("withdraw", [ETH, stranger.address]),
        ),
      ).to.changeEtherBalance(stranger, 900n);
      expect(await router.creditOf(operator.address, ETH)).to.equal(0n);
    });

    it("gives a re-entering receiver nothing twice", async () => {
      const { router, operator, user, agentId, deployer } = await loadFixture(deployTreasury);
      const hostile = await new MockHostileReceiver__factory(deployer).deploy();
      const hostileAddress = await hostile.getAddress();
      const withdrawCall = router.interface.encodeFunctionData("withdraw", [ETH, hostileAddress]);
      await hostile.setMode(MODE.Reenter, await router.getAddress(), withdrawCall);
      await router.connect(operator).setPayee(agentId, hostileAddress);
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("a"), { value: 1_000n });
      await hostile.execute(await router.getAddress(), withdrawCall);
      expect(await hostile.reentries()).to.equal(1n);
      expect(await hostile.lastCallSucceeded()).to.equal(false);
      expect(await hre.ethers.provider.getBalance(hostileAddress)).to.equal(900n);
      expect(await hre.ethers.provider.getBalance(await router.getAddress())).to.equal(100n);
    });
  });

  describe("payee", () => {
    it("credits the payee the operator named, and the next owner again after a transfer", async () => {
      const { router, registry, operator, operator2, user, agentId, payee } = await loadFixture(deployTreasury);
      await expect(router.connect(operator).setPayee(agentId, payee.address))
        .to.emit(router, "PayeeSet")
        .withArgs(agentId, operator.address, payee.address);
      expect(await router.payeeOf(agentId)).to.equal(payee.address);
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("a"), { value: 1_000n });
      expect(await router.creditOf(payee.address, ETH)).to.equal(900n);

      await registry.connect(operator).transferFrom(operator.address, operator2.address, agentId);
      expect(await router.payeeOf(agentId)).to.equal(operator2.address);
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("b"), { value: 1_000n });
      expect(await router.creditOf(operator2.address, ETH)).to.equal(900n);
      expect(await router.creditOf(payee.address, ETH)).to.equal(900n);
    });

    it("goes back to the operator when the payee is cleared", async () => {
      const { router, operator, user, agentId, payee } = await loadFixture(deployTreasury);
      await router.connect(operator).setPayee(agentId, payee.address);
      await router.connect(operator).setPayee(agentId, hre.ethers.ZeroAddress);
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("a"), { value: 1_000n });
      expect(await router.creditOf(operator.address, ETH)).to.equal(900n);
    });

    it("may be named only by the owner or an approved account", async () => {
      const { router, registry, operator, agentId, stranger, payee } = await loadFixture(deployTreasury);
      await expect(router.connect(stranger).setPayee(agentId, payee.address))
        .to.be.revertedWithCustomError(router, "RevenueRouterNotOperator")
        .withArgs(agentId, stranger.address);
      await registry.connect(operator).approve(stranger.address, agentId);
      await expect(router.connect(stranger).setPayee(agentId, payee.address))
        .to.emit(router, "PayeeSet")
        .withArgs(agentId, operator.address, payee.address);
    });
  });

  describe("user/agent ratio", () => {
    const share = { userBps: 8_000, agentBps: 2_000 };

    it("changes when the operator calls with the agent's signature", async () => {
      const { router, deployment, operator, user, agentId, agentKey } = await loadFixture(deployTreasury);
      const agent = await sign(agentKey, "SetRevenueShare", deployment, { agentId, ...share, nonce: 1n });
      const call = revenueShareCall({ agent });
      await expect(operator.sendTransaction({ to: call.to, data: call.data }))
        .to.emit(router, "RevenueShareSet")
        .withArgs(agentId, 8_000, 2_000, operator.address);
      const [userBps, agentBps] = await router.revenueShare(agentId);
      expect([userBps, agentBps]).to.deep.equal([8_000n, 2_000n]);
      const epoch = await router.currentEpoch();
      await router.connect(user).pay(agentId, ETH, 1_000n, ref("a"), { value: 1_000n });
      expect(await router.bucketOf(epoch, ETH)).to.equal(200n);
    });

    it("changes when the agent calls with the operator's signature", async () => {
      const { router, deployment, operator, agentId, agentKey } = await loadFixture(deployTreasury);
      const op = await sign(operator, "SetRevenueShare", deployment, { agentId, ...share, nonce: 2n });
      const call = revenueShareCall({ operator: op });
      await expect(agentKey.sendTransaction({ to: call.to, data: call.data }))
        .to.emit(router, "RevenueShareSet")
        .withArgs(agentId, 8_000, 2_000, operator.address);
      expect(await router.isNonceUsed(agentId, 2n)).to.equal(true);
    });

    it("changes when anyone relays both signatures, and never twice from them", async () => {
      const { router, deployment, operator, agentId, agentKey, relayer } = await loadFixture(deployTreasury);
      const op = await sign(operator, "SetRevenueShare", deployment, { agentId, ...share, nonce: 3n });
      const agent = await sign(agentKey, "SetRevenueShare", deployment, { agentId, ...share, nonce: 3n });
      const call = revenueShareCall({ operator: op, agent });
      await expect(relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.emit(router, "RevenueShareSet")
        .withArgs(agentId, 8_000, 2_000, operator.address);
      await expect(relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(router, "AgentSignedNonceUsed")
        .withArgs(agentId, 3n);
      // The operator's half cannot be replayed by the agent alone either.
      const opOnly = revenueShareCall({ operator: op });
      await expect(agentKey.sendTransaction({ to: opOnly.to, data: opOnly.data }))
        .to.be.revertedWithCustomError(router, "AgentSignedNonceUsed")
        .withArgs(agentId, 3n);
    });

    it("does not change with the operator alone or the agent alone", async () => {
      const { router, deployment, operator, agentId, agentKey, stranger } = await loadFixture(deployTreasury);
      const deadline = BigInt((await time.latest()) + 3600);
      await expect(router.connect(operator).setRevenueShare(agentId, 8_000, 2_000, 4n, deadline, "0x", "0x"))
        .to.be.revertedWithCustomError(router, "AgentSignedNotAgentSigner")
        .withArgs(agentId, operator.address);
      await expect(router.connect(agentKey).setRevenueShare(agentId, 8_000, 2_000, 4n, deadline, "0x", "0x"))
        .to.be.revertedWithCustomError(router, "RevenueRouterNotOperator")
        .withArgs(agentId, agentKey.address);
      // A stranger's signature in the operator's place.
      const fake = await sign(stranger, "SetRevenueShare", deployment, { agentId, ...share, nonce: 4n });
      const agent = await sign(agentKey, "SetRevenueShare", deployment, { agentId, ...share, nonce: 4n });
      const call = revenueShareCall({ operator: fake, agent });
      await expect(stranger.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(router, "RevenueRouterInvalidOperatorSignature")
        .withArgs(agentId, operator.address);
    });

    it("stops taking the old owner's signature once the agent changes hands", async () => {
      const { router, registry, deployment, operator, operator2, agentId, agentKey } =
        await loadFixture(deployTreasury);
      const op = await sign(operator, "SetRevenueShare", deployment, { agentId, ...share, nonce: 5n });
      await registry.connect(operator).transferFrom(operator.address, operator2.address, agentId);
      const call = revenueShareCall({ operator: op });
      await expect(agentKey.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(router, "RevenueRouterInvalidOperatorSignature")
        .withArgs(agentId, operator2.address);
    });

    it("refuses basis points that do not sum to 10,000, and an expired message", async () => {
      const { router, deployment, operator, agentId, agentKey } = await loadFixture(deployTreasury);
      const bad = await sign(agentKey, "SetRevenueShare", deployment, {
        agentId,
        userBps: 9_000,
        agentBps: 2_000,
        nonce: 6n,
      });
      const call = revenueShareCall({ agent: bad });
      await expect(operator.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(router, "RevenueRouterInvalidSplit")
        .withArgs(9_000, 2_000);
      const late = await sign(agentKey, "SetRevenueShare", deployment, {
        agentId,
        ...share,
        nonce: 7n,
        deadline: BigInt(await time.latest()),
      });
      await time.increase(2);
      const lateCall = revenueShareCall({ agent: late });
      await expect(operator.sendTransaction({ to: lateCall.to, data: lateCall.data }))
        .to.be.revertedWithCustomError(router, "AgentSignedExpired")
        .withArgs(late.message.deadline);
    });
  });

  describe("administration", () => {
    it("accepts tokens by the admin only", async () => {
      const { router, token, stranger } = await loadFixture(deployTreasury);
      const tokenAddress = await token.getAddress();
      await expect(router.connect(stranger).setTokenAccepted(tokenAddress, false))
        .to.be.revertedWithCustomError(router, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, hre.ethers.ZeroHash);
      await expect(router.setTokenAccepted(tokenAddress, false))
        .to.emit(router, "TokenAcceptedSet")
        .withArgs(tokenAddress, false);
      expect(await router.isTokenAccepted(tokenAddress)).to.equal(false);
      expect(await router.isTokenAccepted(ETH)).to.equal(true);
    });

    it("is bound to its distributor once, and only the distributor releases buckets", async () => {
      const { router, distributor, treasury, stranger } = await loadFixture(deployTreasury);
      expect(await router.distributor()).to.equal(await distributor.getAddress());
      expect(await router.treasury()).to.equal(await treasury.getAddress());
      await expect(router.bindDistributor(await distributor.getAddress())).to.be.revertedWithCustomError(
        router,
        "RevenueRouterAlreadyBound",
      );
      await expect(router.connect(stranger).releaseBucket(0n, ETH))
        .to.be.revertedWithCustomError(router, "RevenueRouterNotDistributor")
        .withArgs(stranger.address);
    });
  });
});
