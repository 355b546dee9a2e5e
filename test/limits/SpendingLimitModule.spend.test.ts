import { anyUint } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { AbiCoder, Interface } from "ethers";
import hre from "hardhat";
import { buildAction, buildSpend, ETH, signAction, spendRelayCall } from "../../sdk";
import {
  LimitsFalseToken__factory,
  LimitsNoBoolToken__factory,
  LimitsRejectingReceiver__factory,
  LimitsRevertingToken__factory,
} from "../../typechain-types";
import {
  deploySpending,
  ETH_DAILY,
  ETH_PER_TX,
  now,
  ONE,
  type SpendingFixture,
  signSpend,
  TOKEN_DAILY,
  TOKEN_PER_TX,
} from "../fixtures/spending";
import { type AgentSignedSpendCase, shouldBehaveLikeAgentSignedSpend } from "./agentSignedSpend.behavior";
import { moduleAsSafe, relaySpend, startOfNextDay } from "./helpers";

const abi = AbiCoder.defaultAbiCoder();

/** The revert data of a transaction that must fail ("0x" when it ran out of gas). */
async function revertDataOf(send: Promise<unknown>): Promise<string> {
  try {
    await send;
  } catch (err) {
    let current: unknown = err;
    for (let depth = 0; depth < 6 && current && typeof current === "object"; depth++) {
      const data = (current as { data?: unknown }).data;
      if (typeof data === "string" && data.startsWith("0x")) return data;
      current = (current as { error?: unknown; cause?: unknown }).error ?? (current as { cause?: unknown }).cause;
    }
    return "0x";
  }
  throw new Error("expected the transaction to fail");
}
const targetInterface = new Interface([
  "function ping(uint256 arg)",
  "function fail(uint256 code)",
  "function needsGas(uint256 needed)",
  "error LimitsCallTargetFailed(uint256 code)",
]);
const PING = targetInterface.getFunction("ping")!.selector;
const ping = (arg: bigint) => targetInterface.encodeFunctionData("ping", [arg]) as `0x${string}`;

const transferCase: AgentSignedSpendCase = {
  name: "a token transfer (spend / spendBySig)",
  mode: "spend",
  fields: (f) => ({ token: f.tokenAddress, to: f.recipient.address as `0x${string}`, amount: 10n * ONE, gas: 60_000n }),
  directCall: (f, x) => f.module.interface.encodeFunctionData("spend", [f.agentId, x.token!, x.to, x.amount]),
  expectEffect: async (f, send, x) => {
    const tx = send();
    await expect(tx).to.changeTokenBalances(f.token, [f.safe, x.to], [-x.amount, x.amount]);
    await expect(tx)
      .to.emit(f.module, "Spent")
      .withArgs(f.agentId, f.tokenAddress, x.to, x.amount, TOKEN_DAILY - x.amount);
  },
};

const callCase: AgentSignedSpendCase = {
  name: "an allowed call with value (spendCall / spendCallBySig)",
  mode: "spend",
  // ping writes four fresh slots (about 100,000 gas): the signed gas must cover it.
  fields: (f) => ({ to: f.targetAddress, amount: ONE / 2n, data: ping(7n), gas: 150_000n }),
  directCall: (f, x) => f.module.interface.encodeFunctionData("spendCall", [f.agentId, x.to, x.amount, x.data!]),
  expectEffect: async (f, send, x) => {
    const tx = send();
    await expect(tx).to.changeEtherBalances([f.safe, x.to], [-x.amount, x.amount]);
    await expect(tx)
      .to.emit(f.module, "CallSpent")
      .withArgs(f.agentId, x.to, PING, x.amount, ETH_DAILY - x.amount);
    await expect(tx).to.emit(f.target, "Called").withArgs(f.safe, x.amount, 7n);
  },
};

const queueCase: AgentSignedSpendCase = {
  name: "a spend above the per-transaction cap, queued (queueSpend / queueSpendBySig)",
  mode: "queue",
  fields: (f) => ({
    token: f.tokenAddress,
    to: f.recipient.address as `0x${string}`,
    amount: 500n * ONE,
    gas: 60_000n,
  }),
  directCall: (f, x) =>
    f.module.interface.encodeFunctionData("queueSpend", [f.agentId, x.token!, x.to, x.amount, "0x", x.gas]),
  expectEffect: async (f, send, x, nonce) => {
    const id = await f.module.queueLength();
    const tx = send();
    await expect(tx)
      .to.emit(f.module, "SpendQueued")
      .withArgs(id, f.agentId, f.safe, x.token, x.to, x.amount, "0x", x.gas, nonce);
    await expect(tx).to.changeTokenBalances(f.token, [f.safe, x.to], [0n, 0n]);
    expect((await f.module.queuedSpend(id)).status).to.equal(1n); // Pending
  },
};

describe("SpendingLimitModule: spends", () => {
  shouldBehaveLikeAgentSignedSpend(transferCase);
  shouldBehaveLikeAgentSignedSpend(callCase);
  shouldBehaveLikeAgentSignedSpend(queueCase);

  /** Expects a refused relayed spend to leave its nonce unused and today's allowance as it was. */
  async function expectNothingSpent(f: SpendingFixture, nonce: bigint, token: string, remainingBefore: bigint) {
    expect(await f.module.isNonceUsed(f.agentId, nonce)).to.equal(false);
    expect(await f.module.remainingToday(f.agentId, token)).to.equal(remainingBefore);
  }

  describe("per-transaction and daily caps", () => {
    it("a spend of exactly the per-transaction cap passes; one wei more is refused", async () => {
      const f = await loadFixture(deploySpending);
      const { tx } = await relaySpend(f, { token: f.tokenAddress, to: f.recipient.address, amount: TOKEN_PER_TX });
      await expect(tx).to.changeTokenBalances(f.token, [f.safe, f.recipient], [-TOKEN_PER_TX, TOKEN_PER_TX]);
      const over = TOKEN_PER_TX + 1n;
      const { tx: tx2, signed } = await relaySpend(f, { token: f.tokenAddress, to: f.recipient.address, amount: over });
      await expect(tx2)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, f.tokenAddress, over, TOKEN_PER_TX);
      await expectNothingSpent(f, signed.message.nonce as bigint, f.tokenAddress, TOKEN_DAILY - TOKEN_PER_TX);
    });

    it("spends summing to exactly the daily cap pass; one wei more is refused with what is left", async () => {
      const f = await loadFixture(deploySpending);
      for (const amount of [TOKEN_PER_TX, TOKEN_PER_TX, TOKEN_DAILY - 2n * TOKEN_PER_TX]) {
        await (await relaySpend(f, { token: f.tokenAddress, to: f.recipient.address, amount })).tx;
      }
      expect(await f.module.remainingToday(f.agentId, f.tokenAddress)).to.equal(0n);
      const { tx, signed } = await relaySpend(f, { token: f.tokenAddress, to: f.recipient.address, amount: 1n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverDailyCap")
        .withArgs(f.agentId, f.tokenAddress, 1n, 0n);
      await expectNothingSpent(f, signed.message.nonce as bigint, f.tokenAddress, 0n);
    });

    it("each spend reports what is left for the day, and the views agree", async () => {
      const f = await loadFixture(deploySpending);
      const { tx } = await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX });
      await expect(tx)
        .to.emit(f.module, "Spent")
        .withArgs(f.agentId, ETH, f.recipient.address, ETH_PER_TX, ETH_DAILY - ETH_PER_TX);
      const policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect(policy.perTxCap).to.equal(ETH_PER_TX);
      expect(policy.dailyCap).to.equal(ETH_DAILY);
      expect(policy.spentToday).to.equal(ETH_PER_TX);
      expect(policy.remainingToday).to.equal(ETH_DAILY - ETH_PER_TX);
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(ETH_DAILY - ETH_PER_TX);
      // The direct call returns it too.
      const direct = f.module.interface.encodeFunctionData("spend", [f.agentId, ETH, f.recipient.address, 1n]);
      const [returned] = f.module.interface.decodeFunctionResult(
        "spend",
        await hre.ethers.provider.call({ from: f.agentAddress, to: f.moduleAddress, data: direct }),
      );
      expect(returned).to.equal(ETH_DAILY - ETH_PER_TX - 1n);
    });

    it("ETH and each token have their own caps; a token without a policy cannot be spent", async () => {
      const f = await loadFixture(deploySpending);
      await (await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX })).tx;
      expect(await f.module.remainingToday(f.agentId, f.tokenAddress)).to.equal(TOKEN_DAILY);
      const other = await new LimitsNoBoolToken__factory(f.deployer).deploy();
      await other.mint(f.safe, ONE);
      const { tx } = await relaySpend(f, { token: await other.getAddress(), to: f.recipient.address, amount: 1n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, await other.getAddress(), 1n, 0n);
    });
  });

  describe("the UTC day", () => {
    it("the day's cap holds to its last second and refills at the first second of the next", async () => {
      const f = await loadFixture(deploySpending);
      // Per-transaction cap = daily cap here, so that only the daily cap speaks.
      await (await moduleAsSafe(f)).setTokenPolicy(f.agentId, ETH, ETH_DAILY, ETH_DAILY);
      const boundary = await startOfNextDay();
      await time.increaseTo(boundary - 10);
      await time.setNextBlockTimestamp(boundary - 3);
      await (await relaySpend(f, { to: f.recipient.address, amount: ETH_DAILY - ONE })).tx;
      await time.setNextBlockTimestamp(boundary - 2);
      const over = await relaySpend(f, { to: f.recipient.address, amount: ONE + 1n });
      await expect(over.tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverDailyCap")
        .withArgs(f.agentId, ETH, ONE + 1n, ONE);
      // The last second of the day (23:59:59 UTC): exactly what is left passes.
      await time.setNextBlockTimestamp(boundary - 1);
      await (await relaySpend(f, { to: f.recipient.address, amount: ONE })).tx;
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(0n);
      // The first second of the next day (00:00:00 UTC): the whole cap again.
      await time.setNextBlockTimestamp(boundary);
      const { tx } = await relaySpend(f, { to: f.recipient.address, amount: ETH_DAILY });
      await expect(tx).to.emit(f.module, "Spent").withArgs(f.agentId, ETH, f.recipient.address, ETH_DAILY, 0n);
      const policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect(policy.spentToday).to.equal(ETH_DAILY);
    });

    it("a view read the next day shows the full cap before any spend", async () => {
      const f = await loadFixture(deploySpending);
      await (await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX })).tx;
      await time.increaseTo(await startOfNextDay());
      const policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect(policy.spentToday).to.equal(0n);
      expect(policy.remainingToday).to.equal(ETH_DAILY);
    });
  });

  describe("caps changed mid-day", () => {
    it("a cut below today's spending leaves nothing today, and a raise later the same day still counts it", async () => {
      const f = await loadFixture(deploySpending);
      const asSafe = await moduleAsSafe(f);
      await (await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX })).tx;
      await (await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX })).tx;
      // Cut the daily cap to 1 ETH after 2 ETH were spent.
      await expect(asSafe.setTokenPolicy(f.agentId, ETH, ONE / 2n, ONE))
        .to.emit(f.module, "TokenPolicySet")
        .withArgs(f.agentId, f.safe, ETH, ONE / 2n, ONE);
      let policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect(policy.spentToday).to.equal(2n * ONE);
      expect(policy.remainingToday).to.equal(0n);
      const { tx } = await relaySpend(f, { to: f.recipient.address, amount: 1n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverDailyCap")
        .withArgs(f.agentId, ETH, 1n, 0n);
      // Raise it to 3 ETH the same day: 1 ETH is left, not 3 and not 2.
      await asSafe.setTokenPolicy(f.agentId, ETH, ETH_PER_TX, 3n * ONE);
      policy = await f.module.tokenPolicy(f.agentId, ETH);
      expect(policy.spentToday).to.equal(2n * ONE);
      expect(policy.remainingToday).to.equal(ONE);
      await (await relaySpend(f, { to: f.recipient.address, amount: ONE })).tx;
      const { tx: tx2 } = await relaySpend(f, { to: f.recipient.address, amount: 1n });
      await expect(tx2)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverDailyCap")
        .withArgs(f.agentId, ETH, 1n, 0n);
    });

    it("a raise mid-day adds the difference; a lower per-transaction cap applies at once", async () => {
      const f = await loadFixture(deploySpending);
      const asSafe = await moduleAsSafe(f);
      for (let i = 0; i < 3; i++) await (await relaySpend(f, { to: f.recipient.address, amount: ETH_PER_TX })).tx;
      await asSafe.setTokenPolicy(f.agentId, ETH, ONE / 4n, 5n * ONE);
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(2n * ONE);
      const { tx } = await relaySpend(f, { to: f.recipient.address, amount: ONE / 4n + 1n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, ETH, ONE / 4n + 1n, ONE / 4n);
    });

    it("caps must satisfy perTxCap <= dailyCap <= MAX_CAP", async () => {
      const f = await loadFixture(deploySpending);
      const asSafe = await moduleAsSafe(f);
      await expect(asSafe.setTokenPolicy(f.agentId, ETH, 2n, 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidCaps")
        .withArgs(2n, 1n);
      const max = await f.module.MAX_CAP();
      await expect(asSafe.setTokenPolicy(f.agentId, ETH, 1n, max + 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidCaps")
        .withArgs(1n, max + 1n);
      await expect(asSafe.setTokenPolicy(f.agentId, ETH, max, max)).to.emit(f.module, "TokenPolicySet");
    });
  });

  describe("who spends, and when nobody may", () => {
    it("a frozen agent spends nothing, directly or relayed", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.sentinel).freeze(f.agentId);
      const { tx, signed } = await relaySpend(f, { to: f.recipient.address, amount: 1n });
      await expect(tx).to.be.revertedWithCustomError(f.module, "SpendingLimitModuleFrozen").withArgs(f.agentId);
      await expectNothingSpent(f, signed.message.nonce as bigint, ETH, ETH_DAILY);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, ETH, f.recipient.address, 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleFrozen")
        .withArgs(f.agentId);
    });

    it("an agent without a Safe spends nothing", async () => {
      const f = await loadFixture(deploySpending);
      await f.module.connect(f.operator).unbindSafe(f.agentId);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, ETH, f.recipient.address, 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNoSafe")
        .withArgs(f.agentId);
    });

    it("the operator's key is not the agent's: its direct spend and its signature are refused", async () => {
      const f = await loadFixture(deploySpending);
      await expect(f.module.connect(f.operator).spend(f.agentId, ETH, f.operator.address, 1n))
        .to.be.revertedWithCustomError(f.module, "AgentSignedNotAgentSigner")
        .withArgs(f.agentId, f.operator.address);
      const { fromEthersSigner } = await import("../../sdk");
      const signed = await signSpend(f, { to: f.operator.address, amount: 1n }, await fromEthersSigner(f.operator));
      const call = spendRelayCall(signed);
      await expect(f.operator.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(f.module, "AgentSignedInvalidSignature")
        .withArgs(f.agentId, f.agentKey.address);
    });

    it("transfers of nothing and token transfers with call data are refused", async () => {
      const f = await loadFixture(deploySpending);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, f.tokenAddress, f.recipient.address, 0n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidSpend")
        .withArgs(f.agentId);
      // The SDK refuses to build it; signed by hand, the module refuses it too.
      const message = {
        agentId: f.agentId,
        token: f.tokenAddress,
        to: f.recipient.address,
        amount: 500n * ONE,
        data: ping(1n),
        nonce: 1n,
        deadline: BigInt((await now()) + 3600),
        gas: 60_000n,
      };
      expect(() => buildSpend(f.deployment, message as never)).to.throw("token 0");
      const signed = await signAction(f.agentSigner, buildAction("Spend", f.deployment, message));
      const call = spendRelayCall(signed, "queue");
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidSpend")
        .withArgs(f.agentId);
    });

    it("the Safe and the module itself can never be a token or a target", async () => {
      const f = await loadFixture(deploySpending);
      for (const forbidden of [f.safe, f.moduleAddress]) {
        await expect(f.module.connect(f.agentKey).spend(f.agentId, forbidden, f.recipient.address, 1n))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleForbiddenTarget")
          .withArgs(forbidden);
        await expect(f.module.connect(f.agentKey).spendCall(f.agentId, forbidden, 0n, ping(1n)))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleForbiddenTarget")
          .withArgs(forbidden);
      }
    });
  });

  describe("allow-listed calls", () => {
    it("only allowed (target, selector) pairs; the Safe revokes a permission", async () => {
      const f = await loadFixture(deploySpending);
      const tx = f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, 0n, ping(3n));
      await expect(tx).to.emit(f.module, "CallSpent").withArgs(f.agentId, f.targetAddress, PING, 0n, ETH_DAILY);
      expect(await f.target.calls()).to.equal(1n);
      expect(await f.target.lastCaller()).to.equal(f.safe);

      const other = "0x12345678";
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, 0n, `${other}${"00".repeat(32)}`))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallNotAllowed")
        .withArgs(f.agentId, f.targetAddress, other);
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.recipient.address, 0n, ping(3n)))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallNotAllowed")
        .withArgs(f.agentId, f.recipient.address, PING);
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, 0n, "0x8d4f8d"))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidSpend")
        .withArgs(f.agentId);

      const asSafe = await moduleAsSafe(f);
      await expect(asSafe.setCallPermission(f.agentId, f.targetAddress, PING, false))
        .to.emit(f.module, "CallPermissionSet")
        .withArgs(f.agentId, f.safe, f.targetAddress, PING, false);
      expect(await f.module.isCallAllowed(f.agentId, f.targetAddress, PING)).to.equal(false);
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, 0n, ping(3n)))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallNotAllowed")
        .withArgs(f.agentId, f.targetAddress, PING);
    });

    it("a call's value counts against the ETH caps", async () => {
      const f = await loadFixture(deploySpending);
      await expect(f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, ETH_PER_TX + 1n, ping(1n)))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, ETH, ETH_PER_TX + 1n, ETH_PER_TX);
      await f.module.connect(f.agentKey).spendCall(f.agentId, f.targetAddress, ETH_PER_TX, ping(1n));
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(ETH_DAILY - ETH_PER_TX);
    });
  });

  describe("a call that fails spends nothing", () => {
    it("a reverting target: the spend reverts with its return data; nonce and allowance untouched", async () => {
      const f = await loadFixture(deploySpending);
      const data = targetInterface.encodeFunctionData("fail", [42n]) as `0x${string}`;
      const signed = await signSpend(f, { to: f.targetAddress, amount: ONE / 10n, data, gas: 80_000n });
      const call = spendRelayCall(signed);
      const reason = targetInterface.encodeErrorResult("LimitsCallTargetFailed", [42n]);
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data }))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed")
        .withArgs(f.agentId, reason);
      await expectNothingSpent(f, signed.message.nonce as bigint, ETH, ETH_DAILY);
      expect(await f.target.calls()).to.equal(0n);
    });

    it("ETH to a receiver that refuses it: CallFailed with the receiver's revert", async () => {
      const f = await loadFixture(deploySpending);
      const receiver = await new LimitsRejectingReceiver__factory(f.deployer).deploy();
      const { tx, signed } = await relaySpend(f, { to: await receiver.getAddress(), amount: ONE / 10n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed")
        .withArgs(f.agentId, receiver.interface.encodeErrorResult("LimitsRejectingReceiverRefused"));
      await expectNothingSpent(f, signed.message.nonce as bigint, ETH, ETH_DAILY);
    });
  });

  describe("hostile tokens", () => {
    async function withToken(f: SpendingFixture, token: { getAddress(): Promise<string> }) {
      const address = await token.getAddress();
      const asSafe = await moduleAsSafe(f);
      await asSafe.setTokenPolicy(f.agentId, address, 10n * ONE, 20n * ONE);
      return address;
    }

    it("a token whose transfer returns nothing (USDT style) is spent normally", async () => {
      const f = await loadFixture(deploySpending);
      const token = await new LimitsNoBoolToken__factory(f.deployer).deploy();
      const address = await withToken(f, token);
      await token.mint(f.safe, 100n * ONE);
      const { tx } = await relaySpend(f, { token: address, to: f.recipient.address, amount: 3n * ONE });
      await expect(tx)
        .to.emit(f.module, "Spent")
        .withArgs(f.agentId, address, f.recipient.address, 3n * ONE, 17n * ONE);
      expect(await token.balanceOf(f.recipient.address)).to.equal(3n * ONE);
      expect(await token.balanceOf(f.safe)).to.equal(97n * ONE);
    });

    it("a token that returns false: TokenTransferFailed, nothing spent", async () => {
      const f = await loadFixture(deploySpending);
      const token = await new LimitsFalseToken__factory(f.deployer).deploy();
      const address = await withToken(f, token);
      await token.mint(f.safe, 100n * ONE);
      await token.setRefusing(true);
      const { tx, signed } = await relaySpend(f, { token: address, to: f.recipient.address, amount: ONE });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleTokenTransferFailed")
        .withArgs(f.agentId, address, abi.encode(["bool"], [false]));
      await expectNothingSpent(f, signed.message.nonce as bigint, address, 20n * ONE);
      expect(await token.balanceOf(f.safe)).to.equal(100n * ONE);
    });

    it("a token that reverts: CallFailed with its revert data, nothing spent", async () => {
      const f = await loadFixture(deploySpending);
      const token = await new LimitsRevertingToken__factory(f.deployer).deploy();
      const address = await withToken(f, token);
      await token.mint(f.safe, 100n * ONE);
      await token.setBroken(true);
      const { tx, signed } = await relaySpend(f, { token: address, to: f.recipient.address, amount: ONE });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed")
        .withArgs(f.agentId, token.interface.encodeErrorResult("LimitsRevertingTokenBroken"));
      await expectNothingSpent(f, signed.message.nonce as bigint, address, 20n * ONE);
    });

    it("a 'token' without code: TokenTransferFailed, nothing spent", async () => {
      const f = await loadFixture(deploySpending);
      const fake = f.stranger.address;
      const asSafe = await moduleAsSafe(f);
      await asSafe.setTokenPolicy(f.agentId, fake, ONE, ONE);
      const { tx, signed } = await relaySpend(f, { token: fake, to: f.recipient.address, amount: 1n });
      await expect(tx)
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleTokenTransferFailed")
        .withArgs(f.agentId, fake, "0x");
      await expectNothingSpent(f, signed.message.nonce as bigint, fake, ONE);
    });
  });

  describe("the signed gas (63/64 rule)", () => {
    const NEEDED = 95_000n;
    const SIGNED_GAS = 100_000n;

    async function gasHungrySpend(f: SpendingFixture, signedGas = SIGNED_GAS, needed = NEEDED) {
      const data = targetInterface.encodeFunctionData("needsGas", [needed]) as `0x${string}`;
      const signed = await signSpend(f, { to: f.targetAddress, amount: 0n, data, gas: signedGas });
      return { signed, call: spendRelayCall(signed) };
    }

    it("a relayer that sends too little gas gets InsufficientGas and burns no nonce, never a failed call", async () => {
      const f = await loadFixture(deploySpending);
      const { signed, call } = await gasHungrySpend(f);
      const estimate = await f.relayer.estimateGas({ to: call.to, data: call.data });
      // Every gas limit below the estimate: the spend refuses to start the call (or runs out itself), never
      // reports the agent's call as failed, and the nonce stays unused.
      const insufficient = f.module.interface.getError("SpendingLimitModuleInsufficientGas")!.selector;
      let refusals = 0;
      for (let gasLimit = 60_000n; gasLimit < estimate; gasLimit += 5_000n) {
        const revertData = await revertDataOf(f.relayer.sendTransaction({ to: call.to, data: call.data, gasLimit }));
        // Either the module's own refusal, or out of gas before the call starts (no data): never CallFailed.
        if (revertData !== "0x") {
          expect(revertData.slice(0, 10)).to.equal(insufficient);
          refusals++;
        }
        expect(await f.module.isNonceUsed(f.agentId, signed.message.nonce as bigint)).to.equal(false);
      }
      expect(refusals).to.be.greaterThan(3);
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data, gasLimit: estimate })).to.emit(
        f.module,
        "CallSpent",
      );
      expect(await f.target.lastGasReceived()).to.be.greaterThanOrEqual(NEEDED);
    });

    it("the exact refusal: InsufficientGas with the gas left and the gas required", async () => {
      const f = await loadFixture(deploySpending);
      const { call } = await gasHungrySpend(f);
      // safeGas = 100,000 + 100,000/63 + 25,000 + 36 bytes * 16 = 127,163; required = safeGas + safeGas/63 + 5,000.
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data, gasLimit: 110_000n }))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInsufficientGas")
        .withArgs(anyUint, 134_181n);
    });

    it("the call gets at least the signed gas, and not much more: a call needing more fails as the call's fault", async () => {
      const f = await loadFixture(deploySpending);
      const { signed, call } = await gasHungrySpend(f, SIGNED_GAS, 150_000n);
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data, gasLimit: 3_000_000n }))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed")
        .withArgs(f.agentId, "0x");
      const block = await hre.ethers.provider.getBlock("latest");
      const receipt = await hre.ethers.provider.getTransactionReceipt(block!.transactions[0]!);
      // The relayer paid for about the signed gas, not for the 3M it offered.
      expect(receipt!.gasUsed).to.be.lessThan(250_000n);
      expect(await f.module.isNonceUsed(f.agentId, signed.message.nonce as bigint)).to.equal(false);
    });

    it("an absurd signed gas is refused", async () => {
      const f = await loadFixture(deploySpending);
      const { call } = await gasHungrySpend(f, 2n ** 64n);
      await expect(f.relayer.sendTransaction({ to: call.to, data: call.data, gasLimit: 1_000_000n }))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleGasTooHigh")
        .withArgs(2n ** 64n);
    });
  });
});
