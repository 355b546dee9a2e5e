import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { Interface } from "ethers";
import hre from "hardhat";
import {
  approveSpendDigest,
  approveSpendTypedData,
  ETH,
  type QueuedSpendView,
  spendRelayCall,
  toQueuedSpendView,
} from "../../sdk";
import { approveSafeMessageOnChain, signSafeMessage } from "../../sdk/safe";
import {
  asSafe,
  birthAgent,
  deploySpending,
  ONE,
  QUEUE_DELAY,
  type SpendingFixture,
  signSpend,
  TOKEN_PER_TX,
} from "../fixtures/spending";
import { moduleAsSafe } from "./helpers";

const Status = { None: 0n, Pending: 1n, Approved: 2n, Executed: 3n, Vetoed: 4n, Cancelled: 5n };
const LARGE = 500n * ONE;
const targetInterface = new Interface(["function ping(uint256)", "function fail(uint256)"]);

/** Queues a relayed spend of 500 tokens (above the 100 per-transaction cap); returns its id. */
async function queueLarge(f: SpendingFixture, amount = LARGE): Promise<bigint> {
  const id = await f.module.queueLength();
  const signed = await signSpend(f, { token: f.tokenAddress, to: f.recipient.address, amount });
  const call = spendRelayCall(signed, "queue");
  await (await f.relayer.sendTransaction({ to: call.to, data: call.data })).wait();
  return id;
}

async function queued(f: SpendingFixture, id: bigint): Promise<QueuedSpendView> {
  return toQueuedSpendView(await f.module.queuedSpend(id));
}

/** The owners' approval signatures (protocol-kit Safe message) for queued spend `id`. */
async function ownersApproval(f: SpendingFixture, id: bigint, owners = f.ownerKeys) {
  const typedData = approveSpendTypedData(f.chainId, f.moduleAddress, id, await queued(f, id));
  return signSafeMessage(f.safeConn, f.safe, owners, typedData as never);
}

async function queuedAndApproved(f: SpendingFixture) {
  const id = await queueLarge(f);
  await f.module.connect(f.stranger).approveQueuedSpendBySig(id, await ownersApproval(f, id));
  return id;
}

describe("SpendingLimitModule: the withdrawal approval queue", () => {
  describe("queueing", () => {
    it("records the spend as pending, with every field, and moves nothing", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      const q = await queued(f, id);
      expect(q.agentId).to.equal(f.agentId);
      expect(q.safe).to.equal(f.safe);
      expect(q.token).to.equal(f.tokenAddress);
      expect(q.to).to.equal(f.recipient.address);
      expect(q.amount).to.equal(LARGE);
      expect(q.data).to.equal("0x");
      expect(q.gas).to.equal(60_000n);
      expect(q.executableAt).to.equal(0n);
      expect(q.status).to.equal(Status.Pending);
      expect(await f.token.balanceOf(f.recipient.address)).to.equal(0n);
      expect(await f.module.queueLength()).to.equal(id + 1n);
    });

    it("only spends above the per-transaction cap can be queued; above it they can only be queued", async () => {
      const f = await loadFixture(deploySpending);
      await expect(
        f.module.connect(f.agentKey).queueSpend(f.agentId, f.tokenAddress, f.recipient.address, TOKEN_PER_TX, "0x", 1n),
      )
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotQueueable")
        .withArgs(f.agentId, f.tokenAddress, TOKEN_PER_TX, TOKEN_PER_TX);
      await expect(f.module.connect(f.agentKey).spend(f.agentId, f.tokenAddress, f.recipient.address, LARGE))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleOverPerTxCap")
        .withArgs(f.agentId, f.tokenAddress, LARGE, TOKEN_PER_TX);
      // A call without value is never over a cap, so never queued.
      const ping = targetInterface.encodeFunctionData("ping", [1n]);
      await expect(f.module.connect(f.agentKey).queueSpend(f.agentId, ETH, f.targetAddress, 0n, ping, 100_000n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotQueueable")
        .withArgs(f.agentId, ETH, 0n, ONE);
    });

    it("a queued call must still be allowed; a frozen agent queues nothing", async () => {
      const f = await loadFixture(deploySpending);
      const data = "0xdeadbeef";
      await expect(f.module.connect(f.agentKey).queueSpend(f.agentId, ETH, f.targetAddress, 2n * ONE, data, 1n))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallNotAllowed")
        .withArgs(f.agentId, f.targetAddress, data);
      await f.module.connect(f.sentinel).freeze(f.agentId);
      await expect(
        f.module.connect(f.agentKey).queueSpend(f.agentId, f.tokenAddress, f.recipient.address, LARGE, "0x", 1n),
      )
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleFrozen")
        .withArgs(f.agentId);
    });
  });

  describe("approval by the owners' threshold", () => {
    it("two of three owners sign the approval with protocol-kit; anyone submits it", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      const typedData = approveSpendTypedData(f.chainId, f.moduleAddress, id, await queued(f, id));
      expect(await f.module.approvalDigest(id)).to.equal(approveSpendDigest(typedData));
      const signatures = await ownersApproval(f, id);
      const approvedAt = (await time.latest()) + 10;
      await time.setNextBlockTimestamp(approvedAt);
      const executableAt = approvedAt + QUEUE_DELAY;
      await expect(f.module.connect(f.stranger).approveQueuedSpendBySig(id, signatures))
        .to.emit(f.module, "QueuedSpendApproved")
        .withArgs(id, f.agentId, executableAt);
      const q = await queued(f, id);
      expect(q.status).to.equal(Status.Approved);
      expect(q.executableAt).to.equal(BigInt(executableAt));
    });

    it("one owner is below the threshold; strangers' signatures and another spend's approval do not count", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      const other = await queueLarge(f);
      const one = await ownersApproval(f, id, [f.operator.address]);
      await expect(f.module.approveQueuedSpendBySig(id, one))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidApproval")
        .withArgs(id, f.safe);
      const forOther = await ownersApproval(f, other);
      await expect(f.module.approveQueuedSpendBySig(id, forOther))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidApproval")
        .withArgs(id, f.safe);
      // Signatures of non-owners: sign the same Safe message with keys that are not owners.
      const typedData = approveSpendTypedData(f.chainId, f.moduleAddress, id, await queued(f, id));
      const { hashTypedData } = await import("viem");
      const safeMessage = {
        domain: { chainId: f.chainId, verifyingContract: f.safe },
        types: { SafeMessage: [{ name: "message", type: "bytes" }] },
        primaryType: "SafeMessage",
        message: { message: hashTypedData(typedData) },
      };
      const strangers = [f.stranger, f.relayer].sort((a, b) =>
        a.address.toLowerCase() < b.address.toLowerCase() ? -1 : 1,
      );
      let forged = "0x";
      for (const s of strangers) {
        const sig = await s.signTypedData(safeMessage.domain, safeMessage.types, safeMessage.message);
        forged += sig.slice(2);
      }
      await expect(f.module.approveQueuedSpendBySig(id, forged))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleInvalidApproval")
        .withArgs(id, f.safe);
      expect((await queued(f, id)).status).to.equal(Status.Pending);
    });

    it("owners may instead approve the Safe message hash on-chain (approveHash)", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      const typedData = approveSpendTypedData(f.chainId, f.moduleAddress, id, await queued(f, id));
      const signatures = await approveSafeMessageOnChain(f.safeConn, f.safe, f.ownerKeys, typedData as never);
      await expect(f.module.connect(f.stranger).approveQueuedSpendBySig(id, signatures)).to.emit(
        f.module,
        "QueuedSpendApproved",
      );
    });

    it("the Safe approves by a Safe transaction; nobody else approves directly", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      for (const caller of [f.operator, f.agentKey, f.guardian]) {
        await expect(f.module.connect(caller).approveQueuedSpend(id))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotSafe")
          .withArgs(f.agentId, caller.address);
      }
      const hash = await asSafe(f, [
        {
          to: f.moduleAddress,
          data: f.module.interface.encodeFunctionData("approveQueuedSpend", [id]) as `0x${string}`,
        },
      ]);
      const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
      const block = await hre.ethers.provider.getBlock(receipt!.blockNumber);
      const event = receipt!.logs
        .map((l) => {
          try {
            return f.module.interface.parseLog(l);
          } catch {
            return null;
          }
        })
        .find((e) => e?.name === "QueuedSpendApproved");
      expect(event?.args.toArray()).to.deep.equal([id, f.agentId, BigInt(block!.timestamp + QUEUE_DELAY)]);
      await expect(f.module.approveQueuedSpendBySig(id, await ownersApproval(f, id)))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotOpen")
        .withArgs(id, Status.Pending + 1n);
    });
  });

  describe("execution after the delay", () => {
    it("too early is refused; at the second the delay ends anyone executes it", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queuedAndApproved(f);
      const { executableAt } = await queued(f, id);
      await expect(f.module.connect(f.stranger).executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendTooEarly")
        .withArgs(id, executableAt);
      await time.setNextBlockTimestamp(executableAt);
      const tx = f.module.connect(f.stranger).executeQueuedSpend(id);
      await expect(tx).to.changeTokenBalances(f.token, [f.safe, f.recipient], [-LARGE, LARGE]);
      await expect(tx).to.emit(f.module, "QueuedSpendExecuted").withArgs(id, f.agentId, f.stranger.address);
      expect((await queued(f, id)).status).to.equal(Status.Executed);
    });

    it("a queued spend executes once", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queuedAndApproved(f);
      await time.increaseTo((await queued(f, id)).executableAt);
      await f.module.executeQueuedSpend(id);
      await expect(f.module.executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotOpen")
        .withArgs(id, Status.Executed);
    });

    it("a spend the owners have not approved never executes, however long it waits", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      await time.increase(30 * 86_400);
      await expect(f.module.executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotApproved")
        .withArgs(id);
    });

    it("an approved spend left past its execution window expires", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queuedAndApproved(f);
      const { executableAt } = await queued(f, id);
      const window = await f.module.EXECUTION_WINDOW();
      await time.setNextBlockTimestamp(executableAt + window + 1n);
      await expect(f.module.executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendExpired")
        .withArgs(id, executableAt + window);
    });

    it("a frozen agent's queued spend waits for the unfreeze; a rebound agent's never runs from the new Safe", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queuedAndApproved(f);
      await time.increaseTo((await queued(f, id)).executableAt);
      await f.module.connect(f.cosigner2).freeze(f.agentId);
      await expect(f.module.executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleFrozen")
        .withArgs(f.agentId);
      await (await moduleAsSafe(f)).unfreeze(f.agentId);
      await f.module.connect(f.operator).unbindSafe(f.agentId);
      await expect(f.module.executeQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleSafeChanged")
        .withArgs(id, f.safe, hre.ethers.ZeroAddress);
      await f.module.connect(f.operator).bindSafe(f.agentId, f.safe);
      await expect(f.module.executeQueuedSpend(id)).to.emit(f.module, "QueuedSpendExecuted");
    });

    it("a queued call that fails reverts and stays approved; ETH and calls execute too", async () => {
      const f = await loadFixture(deploySpending);
      const fail = targetInterface.encodeFunctionData("fail", [9n]);
      const failId = await f.module.queueLength();
      await f.module.connect(f.agentKey).queueSpend(f.agentId, ETH, f.targetAddress, 2n * ONE, fail, 100_000n);
      const ethId = await f.module.queueLength();
      await f.module.connect(f.agentKey).queueSpend(f.agentId, ETH, f.recipient.address, 2n * ONE, "0x", 50_000n);
      const ping = targetInterface.encodeFunctionData("ping", [5n]);
      const callId = await f.module.queueLength();
      await f.module.connect(f.agentKey).queueSpend(f.agentId, ETH, f.targetAddress, 2n * ONE, ping, 150_000n);
      for (const id of [failId, ethId, callId]) {
        await f.module.approveQueuedSpendBySig(id, await ownersApproval(f, id));
      }
      await time.increaseTo((await queued(f, callId)).executableAt);
      await expect(f.module.executeQueuedSpend(failId))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleCallFailed")
        .withArgs(
          f.agentId,
          new Interface(["error LimitsCallTargetFailed(uint256)"]).encodeErrorResult("LimitsCallTargetFailed", [9n]),
        );
      expect((await queued(f, failId)).status).to.equal(Status.Approved);
      await expect(f.module.executeQueuedSpend(ethId)).to.changeEtherBalances(
        [f.safe, f.recipient],
        [-2n * ONE, 2n * ONE],
      );
      await expect(f.module.executeQueuedSpend(callId)).to.changeEtherBalances(
        [f.safe, f.targetAddress],
        [-2n * ONE, 2n * ONE],
      );
      expect(await f.target.calls()).to.equal(1n);
      // Owner-approved spends are outside the agent's own daily allowance.
      expect(await f.module.remainingToday(f.agentId, ETH)).to.equal(
        (await f.module.tokenPolicy(f.agentId, ETH)).dailyCap,
      );
    });
  });

  describe("veto during the delay", () => {
    it("any single owner vetoes, pending or approved; a vetoed spend never executes", async () => {
      const f = await loadFixture(deploySpending);
      const pending = await queueLarge(f);
      await expect(f.module.connect(f.cosigner2).vetoQueuedSpend(pending))
        .to.emit(f.module, "QueuedSpendVetoed")
        .withArgs(pending, f.agentId, f.cosigner2.address);
      const approved = await queuedAndApproved(f);
      await expect(f.module.connect(f.operator).vetoQueuedSpend(approved))
        .to.emit(f.module, "QueuedSpendVetoed")
        .withArgs(approved, f.agentId, f.operator.address);
      await time.increaseTo((await queued(f, approved)).executableAt);
      await expect(f.module.executeQueuedSpend(approved))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotOpen")
        .withArgs(approved, Status.Vetoed);
      await expect(f.module.approveQueuedSpendBySig(pending, await ownersApproval(f, pending)))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotOpen")
        .withArgs(pending, Status.Vetoed);
    });

    it("the guardian vetoes; the Safe itself vetoes", async () => {
      const f = await loadFixture(deploySpending);
      const a = await queuedAndApproved(f);
      await expect(f.module.connect(f.guardian).vetoQueuedSpend(a))
        .to.emit(f.module, "QueuedSpendVetoed")
        .withArgs(a, f.agentId, f.guardian.address);
      const b = await queueLarge(f);
      await expect((await moduleAsSafe(f)).vetoQueuedSpend(b))
        .to.emit(f.module, "QueuedSpendVetoed")
        .withArgs(b, f.agentId, f.safe);
    });

    it("nobody else vetoes: not a stranger, the agent, the sentinel or the council", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      for (const caller of [f.stranger, f.agentKey, f.sentinel, f.council]) {
        await expect(f.module.connect(caller).vetoQueuedSpend(id))
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleNotVetoer")
          .withArgs(id, caller.address);
      }
    });

    it("an executed spend cannot be vetoed; an unknown one is named", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queuedAndApproved(f);
      await time.increaseTo((await queued(f, id)).executableAt);
      await f.module.executeQueuedSpend(id);
      await expect(f.module.connect(f.guardian).vetoQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleQueuedSpendNotOpen")
        .withArgs(id, Status.Executed);
      for (const call of [
        () => f.module.vetoQueuedSpend(99n),
        () => f.module.executeQueuedSpend(99n),
        () => f.module.approveQueuedSpendBySig(99n, "0x"),
        () => f.module.approvalDigest(99n),
        () => f.module.connect(f.agentKey).cancelQueuedSpend(99n),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(f.module, "SpendingLimitModuleUnknownQueuedSpend")
          .withArgs(99n);
      }
    });

    it("the agent withdraws its own queued spend; nobody else cancels", async () => {
      const f = await loadFixture(deploySpending);
      const id = await queueLarge(f);
      await expect(f.module.connect(f.operator).cancelQueuedSpend(id))
        .to.be.revertedWithCustomError(f.module, "AgentSignedNotAgentSigner")
        .withArgs(f.agentId, f.operator.address);
      await expect(f.module.connect(f.agentKey).cancelQueuedSpend(id))
        .to.emit(f.module, "QueuedSpendCancelled")
        .withArgs(id, f.agentId);
      expect((await queued(f, id)).status).to.equal(Status.Cancelled);
    });
  });

  describe("views of the queue", () => {
    it("pages through every queued spend with its status", async () => {
      const f = await loadFixture(deploySpending);
      const ids = [await queueLarge(f), await queuedAndApproved(f), await queueLarge(f, 600n * ONE)];
      await f.module.connect(f.guardian).vetoQueuedSpend(ids[0]!);
      const all = await f.module.queuedSpends(0n, 10n);
      expect(all.map((q) => q.status)).to.deep.equal([Status.Vetoed, Status.Approved, Status.Pending]);
      expect(all.map((q) => q.amount)).to.deep.equal([LARGE, LARGE, 600n * ONE]);
      expect((await f.module.queuedSpends(1n, 1n)).map((q) => q.amount)).to.deep.equal([LARGE]);
      expect(await f.module.queuedSpends(3n, 5n)).to.deep.equal([]);
      expect(await f.module.queuedSpends(10n, 5n)).to.deep.equal([]);
    });

    it("another agent's spends are approved by its own Safe only", async () => {
      const f = await loadFixture(deploySpending);
      const other = await birthAgent(f.registry, f.operator, f.agentKey2);
      await f.module.connect(f.operator).bindSafe(other, f.safe);
      await (await moduleAsSafe(f)).setTokenPolicy(other, f.tokenAddress, ONE, ONE);
      const id = await f.module.queueLength();
      await f.module.connect(f.agentKey2).queueSpend(other, f.tokenAddress, f.recipient.address, 2n * ONE, "0x", 1n);
      const q = await queued(f, id);
      expect(q.agentId).to.equal(other);
      expect(q.safe).to.equal(f.safe);
    });
  });
});
