import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { createSafe } from "../../deploy/safe";
import { ETH } from "../../sdk";
import { SpendingLimitModule__factory } from "../../typechain-types";
import {
  asSafe,
  birthAgent,
  deploySpending,
  ETH_DAILY,
  ETH_PER_TX,
  ONE,
  QUEUE_DELAY,
  type SpendingFixture,
} from "../fixtures/spending";
import { moduleAsSafe } from "./helpers";

/** A second agent of `operator` (default: the fixture's operator), not bound to any Safe. */
async function secondAgent(f: SpendingFixture, operator = f.operator) {
  return birthAgent(f.registry, operator, f.agentKey2);
}

/** Events of this module in a mined transaction, as [name, ...args]. */
async function moduleEvents(f: SpendingFixture, hash: string) {
  const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
  return receipt!.logs.flatMap((l) => {
    try {
      const parsed = f.module.interface.parseLog(l);
      return parsed ? [[parsed.name, ...parsed.args.toArray()]] : [];
    } catch {
      return [];
    }
  });
}

describe("SpendingLimitModule: binding and policy", () => {
  describe("binding an agent to its Safe", () => {
    it("the operator binds its agent to a Safe it owns with the module enabled", async () => {
      const f = await loadFixture(deploySpending);
      const agent = await secondAgent(f);
      await expect(f.module.connect(f.operator).bindSafe(agent, f.safe))
        .to.emit(f.module, "SafeBound")
        .withArgs(agent, f.safe, f.operator.address);
      const state = await f.module.agentState(agent);
      expect(state.safe).to.equal(f.safe);
      expect(state.frozen).to.equal(false);
      expect(state.queueDelay).to.equal(86_400n); // the default until the Safe sets one
    });

    it("an account the operator approved for the agent may bind it too", async () => {
      const f = await loadFixture(deploySpending);
      const agent = await secondAgent(f);
      await f.registry.connect(f.operator).approve(f.stranger.address, agent);
      await expect(f.module.connect(f.stranger).bindSafe(agent, f.safe))
        .to.emit(f.module, "SafeBound")
        .withArgs(agent, f.safe, f.stranger.address);
    });

    it("nobody else binds: not a stranger, not the agent itself, not for an agent that does not exist", async () => {
      const f = await loadFixture(deploySpending);
      const agent = await secondAgent(f);
      for (const caller of [f.stranger, f.agentKey2, f.cosigner]) {
        await expect(f.module.connect(caller).bindSafe(agent, f.safe))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotOperator")
          .withArgs(agent, caller.address);
      }
      await expect(f.module.connect(f.operator).bindSafe(999n, f.safe))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotOperator")
        .withArgs(999n, f.operator.address);
    });

    it("the Safe must have the module enabled: a Safe without it, an account, a token are refused", async () => {
      const f = await loadFixture(deploySpending);
      const agent = await secondAgent(f);
      const bare = await createSafe({ ...f.safeConn, signer: f.operator.address }, [f.operator.address], 1, "77");
      for (const safe of [bare.address, f.stranger.address, f.tokenAddress]) {
        await expect(f.module.connect(f.operator).bindSafe(agent, safe))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleModuleNotEnabled")
          .withArgs(safe);
      }
      await expect(f.module.connect(f.operator).bindSafe(agent, hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.module,
        "SpendingLimitModuleZeroAddress",
      );
    });

    it("the agent's owner must be an owner of the Safe", async () => {
      const f = await loadFixture(deploySpending);
      const agent = await secondAgent(f, f.operator2);
      await expect(f.module.connect(f.operator2).bindSafe(agent, f.safe))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOperatorNotOwner")
        .withArgs(agent, f.operator2.address, f.safe);
    });

    it("the operator or the Safe unbinds; a freeze outlives the binding", async () => {
      const f = await loadFixture(deploySpending);
      await expect(f.module.connect(f.stranger).unbindSafe(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotOperatorOrSafe")
        .withArgs(f.agentId, f.stranger.address);
      await f.module.connect(f.council).freeze(f.agentId);
      await expect((await moduleAsSafe(f)).unbindSafe(f.agentId))
        .to.emit(f.module, "SafeUnbound")
        .withArgs(f.agentId, f.safe, f.safe);
      await expect(f.module.connect(f.operator).unbindSafe(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNoSafe")
        .withArgs(f.agentId);
      await f.module.connect(f.operator).bindSafe(f.agentId, f.safe);
      expect((await f.module.agentState(f.agentId)).frozen).to.equal(true);
    });

    it("policies belong to the (Safe, agent) pair: another Safe starts with none", async () => {
      const f = await loadFixture(deploySpending);
      const other = await createSafe(
        { ...f.safeConn, signer: f.operator.address },
        [f.operator.address, f.cosigner.address],
        1,
        "78",
      );
      const { enableModuleCall, execSafeTransaction } = await import("../../sdk/safe");
      await execSafeTransaction(
        f.safeConn,
        other.address,
        [f.operator.address],
        [enableModuleCall(other.address, f.moduleAddress)],
      );
      await f.module.connect(f.operator).bindSafe(f.agentId, other.address);
      const policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect([policy.perTxCap, policy.dailyCap, policy.remainingToday]).to.deep.equal([0n, 0n, 0n]);
      expect(await f.module.isCallAllowed(f.agentId, f.targetAddress, "0x8d4f8d8d")).to.equal(false);
      const old = await f.module.tokenPolicyOf(f.safe, f.agentId, ETH);
      expect([old.perTxCap, old.dailyCap]).to.deep.equal([ETH_PER_TX, ETH_DAILY]);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, ETH, f.recipient.address, 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, ETH, 1n, 0n);
    });
  });

  describe("policy is the Safe's alone", () => {
    it("the owners set policies by a Safe transaction (protocol-kit)", async () => {
      const f = await loadFixture(deploySpending);
      const m = f.module.interface;
      const hash = await asSafe(f, [
        { to: f.moduleAddress, data: m.encodeFunctionData("setTokenPolicy", [f.agentId, ETH, ONE / 2n, ONE]) as never },
        { to: f.moduleAddress, data: m.encodeFunctionData("setQueueDelay", [f.agentId, 3 * 3600]) as never },
      ]);
      expect(await moduleEvents(f, hash)).to.deep.equal([
        ["TokenPolicySet", f.agentId, f.safe, ETH, ONE / 2n, ONE],
        ["QueueDelaySet", f.agentId, f.safe, 3n * 3600n],
      ]);
      expect((await f.module.agentState(f.agentId)).queueDelay).to.equal(3n * 3600n);
    });

    it("nobody else sets them: not an owner alone, the operator, the agent, the admin or the guardian", async () => {
      const f = await loadFixture(deploySpending);
      const calls = (m: typeof f.module) => [
        () => m.setTokenPolicy(f.agentId, ETH, 10n * ONE, 10n * ONE),
        () => m.setCallPermission(f.agentId, f.recipient.address, "0x12345678", true),
        () => m.setQueueDelay(f.agentId, 3600),
        () => m.setColdAddress(f.agentId, f.stranger.address),
        () => m.setHotThreshold(f.agentId, ETH, 0n, true),
        () => m.unfreeze(f.agentId),
      ];
      for (const caller of [f.cosigner, f.operator, f.agentKey, f.deployer, f.guardian]) {
        for (const call of calls(f.module.connect(caller))) {
          await expect(call())
            .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotSafe")
            .withArgs(f.agentId, caller.address);
        }
      }
    });

    it("the agent cannot reach the Safe's authority through its own calls", async () => {
      const f = await loadFixture(deploySpending);
      const raise = f.module.interface.encodeFunctionData("setTokenPolicy", [f.agentId, ETH, ETH_DAILY, 100n * ONE]);
      // Not by calling the module through the Safe, nor the Safe itself, even if the owners tried to allow it.
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.moduleAddress, 0n, raise))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleForbiddenTarget")
        .withArgs(f.moduleAddress);
      const asSafeModule = await moduleAsSafe(f);
      for (const target of [f.moduleAddress, f.safe]) {
        await expect(asSafeModule.setCallPermission(f.agentId, target, raise.slice(0, 10), true))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleForbiddenTarget")
          .withArgs(target);
      }
      expect((await f.module.tokenPolicy(f.agentId, ETH)).dailyCap).to.equal(ETH_DAILY);
    });

    it("the queue delay stays within [1 hour, 30 days]", async () => {
      const f = await loadFixture(deploySpending);
      const asSafeModule = await moduleAsSafe(f);
      for (const delay of [3599, 30 * 86_400 + 1]) {
        await expect(asSafeModule.setQueueDelay(f.agentId, delay))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidQueueDelay")
          .withArgs(delay);
      }
      expect((await f.module.agentState(f.agentId)).queueDelay).to.equal(BigInt(QUEUE_DELAY));
    });
  });

  describe("deployment", () => {
    it("roles: the admin and the guardian as given; zero addresses refused", async () => {
      const f = await loadFixture(deploySpending);
      expect(await f.module.hasRole(await f.module.DEFAULT_ADMIN_ROLE(), f.deployer.address)).to.equal(true);
      expect(await f.module.hasRole(await f.module.GUARDIAN_ROLE(), f.guardian.address)).to.equal(true);
      expect(await f.module.registry()).to.equal(f.deployment.registry);
      const sentinel = await f.module.sentinelState(f.sentinel.address);
      expect([sentinel.maxFreezes, sentinel.window]).to.deep.equal([2n, 3600n]);
      const factory = new SpendingLimitModule__factory(f.deployer);
      const zero = hre.ethers.ZeroAddress;
      const cases: [string, string, string][] = [
        [zero, f.deployer.address, f.guardian.address],
        [f.deployment.registry, zero, f.guardian.address],
        [f.deployment.registry, f.deployer.address, zero],
      ];
      for (const [registry, admin, guardian] of cases) {
        await expect(factory.deploy(registry, admin, guardian)).to.be.revertedWithCustomError(
          f.module,
          "SpendingLimitModuleZeroAddress",
        );
      }
    });

    it("the typed-data domain is the SDK's", async () => {
      const f = await loadFixture(deploySpending);
      const domain = await f.module.eip712Domain();
      expect(domain.name).to.equal("Covenant SpendingLimitModule");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(BigInt(f.chainId));
      expect(domain.verifyingContract).to.equal(f.moduleAddress);
      const { spendTypes } = await import("../../sdk");
      const typeString = `Spend(${spendTypes.Spend.map((x) => `${x.type} ${x.name}`).join(",")})`;
      expect(await f.module.SPEND_TYPEHASH()).to.equal(hre.ethers.id(typeString));
    });
  });
});
