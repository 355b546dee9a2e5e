import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { AbiCoder } from "ethers";
import hre from "hardhat";
import { ETH } from "../../sdk";
import { LimitsFalseToken__factory, LimitsRevertingToken__factory } from "../../typechain-types";
import {
  asSafe,
  birthAgent,
  deploySpending,
  ONE,
  SAFE_ETH,
  SAFE_TOKENS,
  SENTINEL_MAX_FREEZES,
  SENTINEL_WINDOW,
  type SpendingFixture,
} from "../fixtures/spending";
import { moduleAsSafe } from "./helpers";

const ETH_THRESHOLD = 5n * ONE;
const TOKEN_THRESHOLD = 1_000n * ONE;

/** More agents of the fixture's operator, bound to the fixture's Safe (the sentinel's rate limit needs several). */
async function moreAgents(f: SpendingFixture, n: number): Promise<bigint[]> {
  const ids: bigint[] = [];
  for (let i = 0; i < n; i++) {
    const id = await birthAgent(f.registry, f.operator, f.agentKey2);
    await f.module.connect(f.operator).bindSafe(id, f.safe);
    ids.push(id);
  }
  return ids;
}

describe("SpendingLimitModule: freeze and sweep", () => {
  describe("who freezes", () => {
    it("the sentinel key freezes at once", async () => {
      const f = await loadFixture(deploySpending);
      const tx = f.module.connect(f.sentinel).freeze(f.agentId);
      await expect(tx).to.emit(f.module, "AgentFrozen").withArgs(f.agentId, f.sentinel.address);
      const state = await f.module.agentState(f.agentId);
      expect(state.frozen).to.equal(true);
      expect(state.frozenAt).to.equal(BigInt(await time.latest()));
      expect((await f.module.sentinelState(f.sentinel.address)).used).to.equal(1n);
    });

    it("the council, any single owner and the Safe freeze", async () => {
      const f = await loadFixture(deploySpending);
      const [a, b] = await moreAgents(f, 2);
      await expect(f.module.connect(f.council).freeze(f.agentId))
        .to.emit(f.module, "AgentFrozen")
        .withArgs(f.agentId, f.council.address);
      await expect(f.module.connect(f.cosigner2).freeze(a!))
        .to.emit(f.module, "AgentFrozen")
        .withArgs(a, f.cosigner2.address);
      await expect((await moduleAsSafe(f)).freeze(b!))
        .to.emit(f.module, "AgentFrozen")
        .withArgs(b, f.safe);
    });

    it("nobody else freezes: not a stranger, the agent, the guardian, the relayer", async () => {
      const f = await loadFixture(deploySpending);
      for (const caller of [f.stranger, f.agentKey, f.guardian, f.relayer]) {
        await expect(f.module.connect(caller).freeze(f.agentId))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotFreezer")
          .withArgs(f.agentId, caller.address);
      }
      expect((await f.module.agentState(f.agentId)).frozen).to.equal(false);
    });

    it("an owner of the agent's old Safe no longer freezes it once it is unbound", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.operator).unbindSafe(f.agentId);
      await expect(f.module.connect(f.cosigner2).freeze(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotFreezer")
        .withArgs(f.agentId, f.cosigner2.address);
    });

    it("freezing a frozen agent is refused (and costs the sentinel nothing)", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.council).freeze(f.agentId);
      await expect(f.module.connect(f.sentinel).freeze(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleAlreadyFrozen")
        .withArgs(f.agentId);
      expect((await f.module.sentinelState(f.sentinel.address)).used).to.equal(0n);
    });
  });

  describe("the sentinel's rate limit", () => {
    it("at most maxFreezes per window; the next window allows more; the council is not limited", async () => {
      const f = await loadFixture(deploySpending);
      const ids = await moreAgents(f, SENTINEL_MAX_FREEZES + 2);
      const windowStart = (await time.latest()) + 1;
      for (let i = 0; i < SENTINEL_MAX_FREEZES; i++) {
        if (i === 0) await time.setNextBlockTimestamp(windowStart);
        await f.module.connect(f.sentinel).freeze(ids[i]!);
      }
      const extra = ids[SENTINEL_MAX_FREEZES]!;
      await expect(f.module.connect(f.sentinel).freeze(extra))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleSentinelRateLimited")
        .withArgs(f.sentinel.address, windowStart + SENTINEL_WINDOW);
      await expect(f.module.connect(f.council).freeze(extra)).to.emit(f.module, "AgentFrozen");
      // The last second of the window is still limited; its end opens a new one.
      await time.setNextBlockTimestamp(windowStart + SENTINEL_WINDOW - 1);
      await expect(f.module.connect(f.sentinel).freeze(ids[SENTINEL_MAX_FREEZES + 1]!))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleSentinelRateLimited")
        .withArgs(f.sentinel.address, windowStart + SENTINEL_WINDOW);
      await time.setNextBlockTimestamp(windowStart + SENTINEL_WINDOW);
      await expect(f.module.connect(f.sentinel).freeze(ids[SENTINEL_MAX_FREEZES + 1]!))
        .to.emit(f.module, "AgentFrozen")
        .withArgs(ids[SENTINEL_MAX_FREEZES + 1], f.sentinel.address);
      const state = await f.module.sentinelState(f.sentinel.address);
      expect(state.windowStart).to.equal(BigInt(windowStart + SENTINEL_WINDOW));
      expect(state.used).to.equal(1n);
    });

    it("only the admin grants, changes and revokes sentinels, within bounds", async () => {
      const f = await loadFixture(deploySpending);
      const admin = await f.module.DEFAULT_ADMIN_ROLE();
      await expect(f.module.connect(f.stranger).setSentinel(f.stranger.address, 1, 60))
        .to.be.revertedWithCustomError(f.module, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, admin);
      await expect(f.module.connect(f.sentinel).revokeSentinel(f.sentinel.address))
        .to.be.revertedWithCustomError(f.module, "AccessControlUnauthorizedAccount")
        .withArgs(f.sentinel.address, admin);
      for (const [max, window] of [
        [0, 60],
        [1, 0],
        [1, 30 * 86_400 + 1],
      ] as const) {
        await expect(f.module.setSentinel(f.stranger.address, max, window))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidSentinelLimit")
          .withArgs(max, window);
      }
      await expect(f.module.setSentinel(hre.ethers.ZeroAddress, 1, 60)).to.be.revertedWithCustomError(
        f.module,
        "SpendingLimitModuleZeroAddress",
      );
      await expect(f.module.setSentinel(f.stranger.address, 1, 60))
        .to.emit(f.module, "SentinelSet")
        .withArgs(f.stranger.address, 1, 60);
      await expect(f.module.revokeSentinel(f.sentinel.address))
        .to.emit(f.module, "SentinelRevoked")
        .withArgs(f.sentinel.address);
      await expect(f.module.connect(f.sentinel).freeze(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotFreezer")
        .withArgs(f.agentId, f.sentinel.address);
      await expect(f.module.revokeSentinel(f.sentinel.address))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotSentinel")
        .withArgs(f.sentinel.address);
      await expect(f.module.connect(f.stranger).freeze(f.agentId)).to.emit(f.module, "AgentFrozen");
    });
  });

  describe("unfreeze", () => {
    it("only the Safe unfreezes, by a Safe transaction of its owners", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.sentinel).freeze(f.agentId);
      for (const caller of [f.operator, f.cosigner, f.sentinel, f.council, f.guardian, f.agentKey]) {
        await expect(f.module.connect(caller).unfreeze(f.agentId))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotSafe")
          .withArgs(f.agentId, caller.address);
      }
      const hash = await asSafe(f, [
        { to: f.moduleAddress, data: f.module.interface.encodeFunctionData("unfreeze", [f.agentId]) as `0x${string}` },
      ]);
      const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
      const events = receipt!.logs.flatMap((l) => {
        try {
          const parsed = f.module.interface.parseLog(l);
          return parsed ? [parsed] : [];
        } catch {
          return [];
        }
      });
      expect(events.map((e) => [e.name, ...e.args.toArray()])).to.deep.equal([["AgentUnfrozen", f.agentId, f.safe]]);
      expect((await f.module.agentState(f.agentId)).frozen).to.equal(false);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, ETH, f.recipient.address, 1n)).to.emit(
        f.module,
        "Spent",
      );
    });

    it("unfreezing an agent that is not frozen is refused", async () => {
      const f = await loadFixture(deploySpending);
      await expect((await moduleAsSafe(f)).unfreeze(f.agentId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotFrozen")
        .withArgs(f.agentId);
    });
  });

  describe("sweep", () => {
    it("anyone moves the ETH above the hot threshold to the cold address", async () => {
      const f = await loadFixture(deploySpending);
      const amount = SAFE_ETH - ETH_THRESHOLD;
      const tx = f.module.connect(f.stranger).sweep(f.agentId, ETH);
      await expect(tx).to.changeEtherBalances([f.safe, f.cold], [-amount, amount]);
      await expect(tx).to.emit(f.module, "Swept").withArgs(f.agentId, ETH, f.cold.address, amount);
      expect(await hre.ethers.provider.getBalance(f.safe)).to.equal(ETH_THRESHOLD);
    });

    it("tokens too; the agent's daily allowance is untouched", async () => {
      const f = await loadFixture(deploySpending);
      const amount = SAFE_TOKENS - TOKEN_THRESHOLD;
      const before = await f.module.remainingToday(f.agentId, f.tokenAddress);
      const tx = f.module.connect(f.stranger).sweep(f.agentId, f.tokenAddress);
      await expect(tx).to.changeTokenBalances(f.token, [f.safe, f.cold], [-amount, amount]);
      await expect(tx).to.emit(f.module, "Swept").withArgs(f.agentId, f.tokenAddress, f.cold.address, amount);
      expect(await f.module.remainingToday(f.agentId, f.tokenAddress)).to.equal(before);
    });

    it("nothing above the threshold: refused with the balance and the threshold", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.sweep(f.agentId, ETH);
      await expect(f.module.sweep(f.agentId, ETH))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNothingToSweep")
        .withArgs(f.agentId, ETH, ETH_THRESHOLD, ETH_THRESHOLD);
    });

    it("works while the agent is frozen", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.sentinel).freeze(f.agentId);
      await expect(f.module.sweep(f.agentId, ETH)).to.emit(f.module, "Swept");
    });

    it("needs a cold address and an enabled threshold; the owners set both", async () => {
      const f = await loadFixture(deploySpending);
      const asSafeModule = await moduleAsSafe(f);
      await expect(asSafeModule.setHotThreshold(f.agentId, ETH, ETH_THRESHOLD, false))
        .to.emit(f.module, "HotThresholdSet")
        .withArgs(f.agentId, f.safe, ETH, ETH_THRESHOLD, false);
      await expect(f.module.sweep(f.agentId, ETH))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleSweepNotConfigured")
        .withArgs(f.agentId, ETH);
      await expect(asSafeModule.setColdAddress(f.agentId, hre.ethers.ZeroAddress))
        .to.emit(f.module, "ColdAddressSet")
        .withArgs(f.agentId, f.safe, hre.ethers.ZeroAddress);
      await expect(f.module.sweep(f.agentId, f.tokenAddress))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleSweepNotConfigured")
        .withArgs(f.agentId, f.tokenAddress);
      for (const forbidden of [f.safe, f.moduleAddress]) {
        await expect(asSafeModule.setColdAddress(f.agentId, forbidden))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleForbiddenTarget")
          .withArgs(forbidden);
      }
      const max = await f.module.MAX_CAP();
      await expect(asSafeModule.setHotThreshold(f.agentId, ETH, max + 1n, true))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidThreshold")
        .withArgs(max + 1n);
      await expect(f.module.sweep(f.agentId + 99n, ETH))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNoSafe")
        .withArgs(f.agentId + 99n);
    });

    it("hostile tokens: a reverting balance stops the sweep; a transfer returning false is refused", async () => {
      const f = await loadFixture(deploySpending);
      const asSafeModule = await moduleAsSafe(f);
      const reverting = await new LimitsRevertingToken__factory(f.deployer).deploy();
      const falsy = await new LimitsFalseToken__factory(f.deployer).deploy();
      for (const t of [reverting, falsy]) {
        await t.mint(f.safe, 10n * ONE);
        await asSafeModule.setHotThreshold(f.agentId, await t.getAddress(), ONE, true);
      }
      await reverting.setBroken(true);
      await expect(f.module.sweep(f.agentId, await reverting.getAddress())).to.be.revertedWithCustomError(
        reverting,
        "LimitsRevertingTokenBroken",
      );
      await falsy.setRefusing(true);
      await expect(f.module.sweep(f.agentId, await falsy.getAddress()))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleTokenTransferFailed")
        .withArgs(f.agentId, await falsy.getAddress(), AbiCoder.defaultAbiCoder().encode(["bool"], [false]));
      expect(await falsy.balanceOf(f.safe)).to.equal(10n * ONE);
    });
  });
});
