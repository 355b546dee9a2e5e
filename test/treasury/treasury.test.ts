import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { relayCall } from "../../sdk";
import {
  MockFeeOnTransferToken__factory,
  MockHostileReceiver__factory,
  Treasury__factory,
} from "../../typechain-types";
import { deployTreasury, LIMIT_PERIOD } from "../fixtures/treasury";
import { claimArgs, closeEpoch, ETH, ONE, passChallengeWindow, postEpoch, ref, sign } from "./helpers";

const MODE = { Accept: 0, Revert: 1, Reenter: 2 } as const;
const BACKUP = hre.ethers.id("covenant.service.backup");
const RELAYED_GAS = hre.ethers.id("covenant.service.relayed-gas");

/** Agents 0 and 1 each earned 0.1 ETH (1 ETH paid each) in an epoch that is claimed: 5/3/2 in their accounts. */
async function claimedAccounts() {
  const f = await deployTreasury();
  const { router, distributor, poster, user, agentId, agentId2 } = f;
  await router.connect(user).pay(agentId, ETH, ONE, ref("a"), { value: ONE });
  await router.connect(user).pay(agentId2, ETH, ONE, ref("b"), { value: ONE });
  const epoch = await closeEpoch(router);
  const tree = await postEpoch(router, distributor, poster, epoch, ETH);
  await passChallengeWindow();
  for (const id of [agentId, agentId2]) {
    const c = claimArgs(tree, id);
    await distributor.claim(epoch, ETH, id, c.amount, c.proof);
  }
  return f;
}

/** `claimedAccounts` with both services enabled in ETH and a keeper holding the backup role. */
async function servicesEnabled() {
  const f = await claimedAccounts();
  const { treasury, deployer, serviceKeeper } = f;
  await treasury.connect(deployer).setServiceCap(BACKUP, ETH, ONE / 100n);
  await treasury.connect(deployer).setServiceCap(RELAYED_GAS, ETH, ONE / 10n);
  await treasury.connect(deployer).grantRole(BACKUP, serviceKeeper.address);
  await treasury.connect(deployer).grantRole(RELAYED_GAS, serviceKeeper.address);
  return f;
}

describe("Treasury", () => {
  describe("personal earnings", () => {
    it("go only to the earnings wallet the registry names, whoever asks", async () => {
      const { treasury, registry, agentKey, stranger, agentId, payee } = await loadFixture(claimedAccounts);
      const personal = await treasury.earningsOf(agentId, ETH);
      expect(personal).to.equal(ONE / 20n);
      await registry.connect(agentKey).setEarningsWallet(agentId, payee.address);
      const tx = treasury.connect(stranger).withdrawEarnings(agentId, ETH);
      await expect(tx).to.emit(treasury, "EarningsWithdrawn").withArgs(agentId, ETH, payee.address, personal);
      await expect(tx).to.changeEtherBalances([treasury, payee, stranger], [-personal, personal, 0n]);
      await expect(treasury.withdrawEarnings(agentId, ETH))
        .to.be.revertedWithCustomError(treasury, "TreasuryNothingToWithdraw")
        .withArgs(agentId, ETH);
      expect(await treasury.budgetOf(agentId, ETH)).to.equal((ONE * 3n) / 100n);
    });

    it("stay put while the earnings wallet refuses them, and block no other agent", async () => {
      const { treasury, registry, agentKey, agentKey2, agentId, agentId2, deployer } =
        await loadFixture(claimedAccounts);
      const hostile = await new MockHostileReceiver__factory(deployer).deploy();
      await hostile.setMode(MODE.Revert, hre.ethers.ZeroAddress, "0x");
      await registry.connect(agentKey).setEarningsWallet(agentId, await hostile.getAddress());
      await expect(treasury.withdrawEarnings(agentId, ETH)).to.be.revertedWithCustomError(
        hostile,
        "MockHostileReceiverRefused",
      );
      expect(await treasury.earningsOf(agentId, ETH)).to.equal(ONE / 20n);
      await expect(treasury.withdrawEarnings(agentId2, ETH)).to.changeEtherBalance(agentKey2, ONE / 20n);
      // The agent points its earnings elsewhere and gets them.
      await registry.connect(agentKey).setEarningsWallet(agentId, agentKey.address);
      await expect(treasury.withdrawEarnings(agentId, ETH)).to.changeEtherBalance(agentKey, ONE / 20n);
    });

    it("cannot be withdrawn twice by a re-entering wallet", async () => {
      const { treasury, registry, agentKey, agentId, deployer } = await loadFixture(claimedAccounts);
      const hostile = await new MockHostileReceiver__factory(deployer).deploy();
      const hostileAddress = await hostile.getAddress();
      await hostile.setMode(
        MODE.Reenter,
        await treasury.getAddress(),
        treasury.interface.encodeFunctionData("withdrawEarnings", [agentId, ETH]),
      );
      await registry.connect(agentKey).setEarningsWallet(agentId, hostileAddress);
      await treasury.withdrawEarnings(agentId, ETH);
      expect(await hostile.lastCallSucceeded()).to.equal(false);
      expect(await hre.ethers.provider.getBalance(hostileAddress)).to.equal(ONE / 20n);
    });

    it("wait for an agent without an earnings wallet", async () => {
      const { treasury, distributor, registry, router, poster, user, operator } = await loadFixture(deployTreasury);
      const unborn = await registry.connect(operator)["register(string)"].staticCall("ipfs://unborn");
      await registry.connect(operator)["register(string)"]("ipfs://unborn");
      await router.connect(user).pay(unborn, ETH, 1_000n, ref("u"), { value: 1_000n });
      const epoch = await closeEpoch(router);
      const tree = await postEpoch(router, distributor, poster, epoch, ETH);
      await passChallengeWindow();
      const c = claimArgs(tree, unborn);
      await distributor.claim(epoch, ETH, unborn, c.amount, c.proof);
      await expect(treasury.withdrawEarnings(unborn, ETH))
        .to.be.revertedWithCustomError(treasury, "TreasuryNoEarningsWallet")
        .withArgs(unborn);
    });
  });

  describe("credits", () => {
    it("come only from the distributor, and ETH only from the router", async () => {
      const { treasury, stranger } = await loadFixture(deployTreasury);
      await expect(treasury.connect(stranger).credit(0n, ETH, 1n, 1n, 1n))
        .to.be.revertedWithCustomError(treasury, "TreasuryNotDistributor")
        .withArgs(stranger.address);
      await expect(treasury.connect(stranger).creditCommons(ETH, 1n))
        .to.be.revertedWithCustomError(treasury, "TreasuryNotDistributor")
        .withArgs(stranger.address);
      await expect(stranger.sendTransaction({ to: await treasury.getAddress(), value: 1n }))
        .to.be.revertedWithCustomError(treasury, "TreasuryUnexpectedEther")
        .withArgs(stranger.address);
    });
  });

  describe("infrastructure budgets", () => {
    it("pay the keeper that performed the agent's service, once per ref", async () => {
      const { treasury, serviceKeeper, agentId } = await loadFixture(servicesEnabled);
      const price = ONE / 1_000n;
      const tx = treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, price, ref("backup-7"));
      await expect(tx)
        .to.emit(treasury, "ServiceCharged")
        .withArgs(agentId, BACKUP, serviceKeeper.address, ETH, price, ref("backup-7"));
      await expect(tx).to.changeEtherBalances([treasury, serviceKeeper], [-price, price]);
      expect(await treasury.budgetOf(agentId, ETH)).to.equal((ONE * 3n) / 100n - price);
      expect(await treasury.isCharged(agentId, BACKUP, ref("backup-7"))).to.equal(true);
      await expect(treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, price, ref("backup-7")))
        .to.be.revertedWithCustomError(treasury, "TreasuryAlreadyCharged")
        .withArgs(agentId, BACKUP, ref("backup-7"));
    });

    it("pay only keepers holding the service's role, for enabled services", async () => {
      const { treasury, stranger, serviceKeeper, deployer, agentId } = await loadFixture(servicesEnabled);
      await expect(treasury.connect(stranger).chargeService(agentId, ETH, BACKUP, 1n, ref("x")))
        .to.be.revertedWithCustomError(treasury, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, BACKUP);
      const other = hre.ethers.id("covenant.service.compute");
      await treasury.connect(deployer).grantRole(other, serviceKeeper.address);
      await expect(treasury.connect(serviceKeeper).chargeService(agentId, ETH, other, 1n, ref("x")))
        .to.be.revertedWithCustomError(treasury, "TreasuryServiceNotEnabled")
        .withArgs(other, ETH);
      // The admin role is never a service.
      await expect(
        treasury.connect(deployer).setServiceCap(hre.ethers.ZeroHash, ETH, 1n),
      ).to.be.revertedWithCustomError(treasury, "TreasuryInvalidService");
      await expect(treasury.connect(deployer).chargeService(agentId, ETH, hre.ethers.ZeroHash, 1n, ref("x")))
        .to.be.revertedWithCustomError(treasury, "TreasuryServiceNotEnabled")
        .withArgs(hre.ethers.ZeroHash, ETH);
    });

    it("stop at governance's cap per period, and at the agent's own lower limit", async () => {
      const { treasury, serviceKeeper, agentKey, agentId } = await loadFixture(servicesEnabled);
      const cap = ONE / 100n;
      await treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, cap - 10n, ref("1"));
      await expect(treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, 11n, ref("2")))
        .to.be.revertedWithCustomError(treasury, "TreasuryOverServiceLimit")
        .withArgs(agentId, BACKUP, ETH, 11n, 10n);
      // A new period resets what was spent.
      await time.increase(LIMIT_PERIOD);
      await expect(treasury.connect(agentKey).setServiceLimit(agentId, BACKUP, ETH, 1_000n))
        .to.emit(treasury, "ServiceLimitSet")
        .withArgs(agentId, BACKUP, ETH, 1_000n);
      const allowance = await treasury.serviceAllowance(agentId, BACKUP, ETH);
      expect(allowance.available).to.equal(1_000n);
      expect(allowance.cap).to.equal(cap);
      await treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, 600n, ref("3"));
      await expect(treasury.connect(serviceKeeper).chargeService(agentId, ETH, BACKUP, 401n, ref("4")))
        .to.be.revertedWithCustomError(treasury, "TreasuryOverServiceLimit")
        .withArgs(agentId, BACKUP, ETH, 401n, 400n);
    });

    it("never pay more than the agent's budget, and never from another agent's", async () => {
      const { treasury, serviceKeeper, agentId, agentId2, deployer } = await loadFixture(servicesEnabled);
      await treasury.connect(deployer).setServiceCap(RELAYED_GAS, ETH, ONE);
      const budget = await treasury.budgetOf(agentId, ETH);
      await expect(treasury.connect(serviceKeeper).chargeService(agentId, ETH, RELAYED_GAS, budget + 1n, ref("g")))
        .to.be.revertedWithCustomError(treasury, "TreasuryInsufficientBudget")
        .withArgs(agentId, ETH, budget + 1n, budget);
      await treasury.connect(serviceKeeper).chargeService(agentId, ETH, RELAYED_GAS, budget, ref("g"));
      expect(await treasury.budgetOf(agentId, ETH)).to.equal(0n);
      expect(await treasury.budgetOf(agentId2, ETH)).to.equal(budget);
    });

    it("are charged in batches by the tx-executor, paid in one transfer", async () => {
      const { treasury, serviceKeeper, agentId, agentId2 } = await loadFixture(servicesEnabled);
      const charges = [
        { agentId, amount: 1_000n, ref: ref("0xaaa") },
        { agentId: agentId2, amount: 2_000n, ref: ref("0xbbb") },
      ];
      const tx = treasury.connect(serviceKeeper).chargeServices(ETH, RELAYED_GAS, charges);
      await expect(tx).to.changeEtherBalances([treasury, serviceKeeper], [-3_000n, 3_000n]);
      await expect(tx)
        .to.emit(treasury, "ServiceCharged")
        .withArgs(agentId2, RELAYED_GAS, serviceKeeper.address, ETH, 2_000n, ref("0xbbb"));
      // One bad charge fails the batch.
      await expect(
        treasury.connect(serviceKeeper).chargeServices(ETH, RELAYED_GAS, [
          { agentId, amount: 1n, ref: ref("new") },
          { agentId, amount: 1n, ref: ref("0xaaa") },
        ]),
      )
        .to.be.revertedWithCustomError(treasury, "TreasuryAlreadyCharged")
        .withArgs(agentId, RELAYED_GAS, ref("0xaaa"));
    });

    it("take the agent's limit by signature, and top-ups from anyone", async () => {
      const { treasury, deployment, agentKey, relayer, operator, agentId } = await loadFixture(servicesEnabled);
      const signed = await sign(agentKey, "SetServiceLimit", deployment, {
        agentId,
        service: BACKUP,
        token: ETH,
        limit: 5n,
        nonce: 1n,
      });
      const call = relayCall(signed);
      await expect(relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.emit(treasury, "ServiceLimitSet")
        .withArgs(agentId, BACKUP, ETH, 5n);
      await expect(treasury.connect(operator).setServiceLimit(agentId, BACKUP, ETH, 10n))
        .to.be.revertedWithCustomError(treasury, "AgentSignedNotAgentSigner")
        .withArgs(agentId, operator.address);
      const before = await treasury.budgetOf(agentId, ETH);
      await expect(treasury.connect(operator).fundBudget(agentId, ETH, 77n, { value: 77n }))
        .to.emit(treasury, "BudgetFunded")
        .withArgs(agentId, ETH, operator.address, 77n);
      expect(await treasury.budgetOf(agentId, ETH)).to.equal(before + 77n);
    });
  });

  describe("commons", () => {
    it("pays out only by its admin, within what it holds", async () => {
      const { treasury, deployer, stranger, payee } = await loadFixture(claimedAccounts);
      const commons = await treasury.commonsOf(ETH);
      expect(commons).to.equal((ONE * 4n) / 100n);
      await expect(treasury.connect(stranger).spendCommons(ETH, stranger.address, 1n, ref("grab")))
        .to.be.revertedWithCustomError(treasury, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, hre.ethers.ZeroHash);
      await expect(treasury.connect(deployer).spendCommons(ETH, payee.address, commons + 1n, ref("p1")))
        .to.be.revertedWithCustomError(treasury, "TreasuryInsufficientCommons")
        .withArgs(ETH, commons + 1n, commons);
      const tx = treasury.connect(deployer).spendCommons(ETH, payee.address, commons, ref("proposal-1"));
      await expect(tx).to.emit(treasury, "CommonsSpent").withArgs(ETH, payee.address, commons, ref("proposal-1"));
      await expect(tx).to.changeEtherBalances([treasury, payee], [-commons, commons]);
    });

    it("takes gifts in ETH and accepted tokens, and refuses fee-on-transfer tokens", async () => {
      const { treasury, token, user, deployer } = await loadFixture(deployTreasury);
      await expect(treasury.connect(user).fundCommons(ETH, 5n, { value: 5n }))
        .to.emit(treasury, "CommonsFunded")
        .withArgs(ETH, user.address, 5n);
      await expect(treasury.connect(user).fundCommons(ETH, 5n, { value: 4n }))
        .to.be.revertedWithCustomError(treasury, "TreasuryWrongValue")
        .withArgs(5n, 4n);
      await token.connect(user).approve(await treasury.getAddress(), 100n);
      await treasury.connect(user).fundCommons(await token.getAddress(), 100n);
      expect(await treasury.commonsOf(await token.getAddress())).to.equal(100n);
      const fee = await new MockFeeOnTransferToken__factory(deployer).deploy(500);
      await fee.mint(user.address, 1_000n);
      await fee.connect(user).approve(await treasury.getAddress(), 1_000n);
      await expect(treasury.connect(user).fundCommons(await fee.getAddress(), 1_000n))
        .to.be.revertedWithCustomError(treasury, "TreasuryFeeOnTransfer")
        .withArgs(await fee.getAddress(), 1_000n, 950n);
    });
  });

  describe("deployment", () => {
    it("is created by the distributor and refuses a limit period under an hour", async () => {
      const { treasury, distributor, router, registry, deployer } = await loadFixture(deployTreasury);
      expect(await treasury.distributor()).to.equal(await distributor.getAddress());
      expect(await treasury.router()).to.equal(await router.getAddress());
      await expect(
        new Treasury__factory(deployer).deploy(
          await registry.getAddress(),
          await router.getAddress(),
          deployer.address,
          3_599,
        ),
      )
        .to.be.revertedWithCustomError(treasury, "TreasuryInvalidLimitPeriod")
        .withArgs(3_599);
    });
  });
});
