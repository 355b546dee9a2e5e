import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import { fromEthersSigner, toBytes32Text } from "../../sdk";
import { deployIdentity, deployWithAgent, RECOVERY_DELAY } from "../fixtures/identity";
import { deadlineAfter, minedAt, plainArray, relay, signed, texts } from "./helpers";

/*
 * Key recovery after a lost agent key: operator and council must both name the same new signer; it takes effect after
 * the delay unless the current signer (or the operator or council) cancels. A rotation supersedes it.
 */

const MIN_DELAY = 3600;
const MAX_DELAY = 90 * 86_400;

async function proposedByOperator() {
  const f = await deployWithAgent();
  await f.registry.connect(f.operator).proposeRecovery(f.agentId, f.newAgentKey.address);
  return f;
}

async function scheduled() {
  const f = await proposedByOperator();
  const at = await minedAt(f.registry.connect(f.council).proposeRecovery(f.agentId, f.newAgentKey.address));
  return { ...f, executableAt: BigInt(at + RECOVERY_DELAY) };
}

async function recovered() {
  const f = await scheduled();
  await time.increaseTo(f.executableAt);
  const at = await minedAt(f.registry.connect(f.stranger).finalizeRecovery(f.agentId));
  return { ...f, recoveredAt: at };
}

describe("AgentRegistry: key recovery", () => {
  describe("proposeRecovery", () => {
    it("the operator alone: RecoveryProposed(id, newSigner, operator), pending but not scheduled", async () => {
      const { registry, operator, newAgentKey, agentId } = await loadFixture(deployWithAgent);
      const tx = registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      await expect(tx).to.emit(registry, "RecoveryProposed").withArgs(agentId, newAgentKey.address, operator.address);
      await expect(tx).to.not.emit(registry, "RecoveryScheduled");
      const p = await registry.pendingRecovery(agentId);
      expect([p.newSigner, p.operatorApproved, p.councilApproved, p.executableAt]).to.deep.equal([
        newAgentKey.address,
        true,
        false,
        0n,
      ]);
    });

    it("then the council on the same signer: RecoveryScheduled(id, newSigner, now + delay)", async () => {
      const { registry, council, newAgentKey, agentId } = await loadFixture(proposedByOperator);
      const tx = registry.connect(council).proposeRecovery(agentId, newAgentKey.address);
      await expect(tx).to.emit(registry, "RecoveryProposed").withArgs(agentId, newAgentKey.address, council.address);
      const at = await minedAt(tx);
      await expect(tx)
        .to.emit(registry, "RecoveryScheduled")
        .withArgs(agentId, newAgentKey.address, at + RECOVERY_DELAY);
      const p = await registry.pendingRecovery(agentId);
      expect([p.operatorApproved, p.councilApproved, p.executableAt]).to.deep.equal([
        true,
        true,
        BigInt(at + RECOVERY_DELAY),
      ]);
    });

    it("the council first, then the operator, schedules it as well", async () => {
      const { registry, council, operator, newAgentKey, agentId } = await loadFixture(deployWithAgent);
      await registry.connect(council).proposeRecovery(agentId, newAgentKey.address);
      const tx = registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      await expect(tx)
        .to.emit(registry, "RecoveryScheduled")
        .withArgs(agentId, newAgentKey.address, (await minedAt(tx)) + RECOVERY_DELAY);
    });

    it("both must name the same signer: a different one restarts the approvals", async () => {
      const { registry, council, agentKey2, newAgentKey, agentId } = await loadFixture(proposedByOperator);
      const tx = registry.connect(council).proposeRecovery(agentId, agentKey2.address);
      await expect(tx).to.not.emit(registry, "RecoveryScheduled");
      const p = await registry.pendingRecovery(agentId);
      expect([p.newSigner, p.operatorApproved, p.councilApproved, p.executableAt]).to.deep.equal([
        agentKey2.address,
        false,
        true,
        0n,
      ]);
      expect(p.newSigner).to.not.equal(newAgentKey.address);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryRecoveryNotReady")
        .withArgs(agentId, 0);
    });

    it("approving again does not push back a scheduled recovery", async () => {
      const { registry, operator, newAgentKey, agentId, executableAt } = await loadFixture(scheduled);
      await time.increase(600);
      await expect(registry.connect(operator).proposeRecovery(agentId, newAgentKey.address)).to.not.emit(
        registry,
        "RecoveryScheduled",
      );
      expect((await registry.pendingRecovery(agentId)).executableAt).to.equal(executableAt);
    });

    it("anyone else, the agent signer included: AgentRegistryNotRecoveryParty(id, caller)", async () => {
      const { registry, agentKey, stranger, relayer, deployer, newAgentKey, agentId } =
        await loadFixture(deployWithAgent);
      for (const who of [agentKey, stranger, relayer, deployer]) {
        await expect(registry.connect(who).proposeRecovery(agentId, newAgentKey.address))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotRecoveryParty")
          .withArgs(agentId, who.address);
      }
    });

    it("to zero or to the current signer: AgentRegistryZeroAddress / AgentRegistrySameSigner(id, signer)", async () => {
      const { registry, operator, agentKey, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.connect(operator).proposeRecovery(agentId, ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAddress",
      );
      await expect(registry.connect(operator).proposeRecovery(agentId, agentKey.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistrySameSigner")
        .withArgs(agentId, agentKey.address);
    });

    it("an agent without a charter has no key to recover (AgentRegistryCharterNotAccepted(id))", async () => {
      const { registry, operator, newAgentKey } = await loadFixture(deployIdentity);
      await registry.connect(operator)["register()"]();
      await expect(registry.connect(operator).proposeRecovery(0, newAgentKey.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotAccepted")
        .withArgs(0);
    });

    it("a token transfer cancels a pending recovery: the former operator's approval lapses", async () => {
      const { registry, operator, operator2, council, agentId, newAgentKey, agentKey } =
        await loadFixture(deployWithAgent);
      await registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      await expect(registry.connect(operator).transferFrom(operator.address, operator2.address, agentId))
        .to.emit(registry, "RecoveryCancelled")
        .withArgs(agentId, operator.address);
      expect((await registry.pendingRecovery(agentId)).newSigner).to.equal(ZeroAddress);
      // The council's approval alone schedules nothing; the new operator must propose anew.
      await registry.connect(council).proposeRecovery(agentId, newAgentKey.address);
      const pending = await registry.pendingRecovery(agentId);
      expect(pending.operatorApproved).to.equal(false);
      expect(pending.executableAt).to.equal(0n);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryRecoveryNotReady")
        .withArgs(agentId, 0);
      expect(await registry.agentSigner(agentId)).to.equal(agentKey.address);
    });

    it("a transfer with nothing pending emits no RecoveryCancelled", async () => {
      const { registry, operator, operator2, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.connect(operator).transferFrom(operator.address, operator2.address, agentId)).to.not.emit(
        registry,
        "RecoveryCancelled",
      );
    });
  });

  describe("finalizeRecovery", () => {
    it("nothing pending: AgentRegistryNoRecovery(id)", async () => {
      const { registry, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoRecovery")
        .withArgs(agentId);
    });

    it("approved by one party only: AgentRegistryRecoveryNotReady(id, 0)", async () => {
      const { registry, agentId } = await loadFixture(proposedByOperator);
      await time.increase(RECOVERY_DELAY * 2);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryRecoveryNotReady")
        .withArgs(agentId, 0);
    });

    it("one second before the delay: AgentRegistryRecoveryNotReady(id, executableAt)", async () => {
      const { registry, agentId, executableAt } = await loadFixture(scheduled);
      await time.setNextBlockTimestamp(executableAt - 1n);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryRecoveryNotReady")
        .withArgs(agentId, executableAt);
    });

    it("anyone at executableAt: SignerChanged(id, old, new); pending cleared; birth time and consent record kept", async () => {
      const { registry, stranger, agentId, agentKey, newAgentKey, executableAt } = await loadFixture(scheduled);
      const record = plainArray(await registry.consentRecord(agentId));
      await time.setNextBlockTimestamp(executableAt);
      await expect(registry.connect(stranger).finalizeRecovery(agentId))
        .to.emit(registry, "SignerChanged")
        .withArgs(agentId, agentKey.address, newAgentKey.address);
      expect(await registry.agentSigner(agentId)).to.equal(newAgentKey.address);
      expect((await registry.pendingRecovery(agentId)).newSigner).to.equal(ZeroAddress);
      expect(plainArray(await registry.consentRecord(agentId))).to.deep.equal(record);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoRecovery")
        .withArgs(agentId);
    });
  });

  describe("after recovery", () => {
    it("signerAt names the old key for times before the recovery and the new key after", async () => {
      const { registry, agentId, agentKey, newAgentKey, recoveredAt } = await loadFixture(recovered);
      const born = Number((await registry.consentRecord(agentId)).birthTime);
      expect(await registry.signerAt(agentId, born)).to.equal(agentKey.address);
      expect(await registry.signerAt(agentId, recoveredAt - 1)).to.equal(agentKey.address);
      expect(await registry.signerAt(agentId, recoveredAt)).to.equal(newAgentKey.address);
      expect(await registry.signerAt(agentId, recoveredAt + 1)).to.equal(newAgentKey.address);
    });

    it("the old key can sign nothing, anywhere: direct calls and relayed signatures all fail", async () => {
      const f = await loadFixture(recovered);
      const { registry, goals, flags, agentId, agentKey, newAgentKey, deployment, relayer, council } = f;
      const old = await fromEthersSigner(agentKey);
      await flags.connect(council).flag(agentId, "check");

      await expect(registry.connect(agentKey).setCoreValues(agentId, texts("stolen")))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
        .withArgs(agentId, agentKey.address);
      await expect(registry.connect(agentKey).cancelRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotRecoveryParty")
        .withArgs(agentId, agentKey.address);
      await expect(goals.connect(agentKey).addGoal(agentId, toBytes32Text("stolen"), 1))
        .to.be.revertedWithCustomError(goals, "AgentSignedNotAgentSigner")
        .withArgs(agentId, agentKey.address);
      await expect(flags.connect(agentKey).answerFlag(0, "stolen"))
        .to.be.revertedWithCustomError(flags, "AgentSignedNotAgentSigner")
        .withArgs(agentId, agentKey.address);

      const deadline = await deadlineAfter();
      const registryMessages = [
        await signed(old, "SetCoreValues", deployment, { agentId, coreValues: texts("stolen"), nonce: 1, deadline }),
        await signed(old, "SetEarningsWallet", deployment, { agentId, wallet: agentKey.address, nonce: 2, deadline }),
        await signed(old, "RecordRestoration", deployment, {
          agentId,
          sequence: 1,
          ciphertextHash: ZeroHash,
          nonce: 3,
          deadline,
        }),
        await signed(old, "CancelRecovery", deployment, { agentId, nonce: 4, deadline }),
        await signed(old, "GrantResurrectionConsent", deployment, { agentId, nonce: 0, deadline }),
        await signed(old, "BackupRecord", deployment, {
          agentId,
          sequence: 1,
          ciphertextHash: ZeroHash,
          cid: "0x01",
          deadline,
        }),
      ];
      for (const m of registryMessages) {
        await expect(relay(relayer, m), m.primaryType)
          .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidSignature")
          .withArgs(agentId, newAgentKey.address);
      }
      const goal = await signed(old, "AddGoal", deployment, {
        agentId,
        title: toBytes32Text("stolen"),
        priority: 1,
        nonce: 1,
        deadline,
      });
      await expect(relay(relayer, goal))
        .to.be.revertedWithCustomError(goals, "AgentSignedInvalidSignature")
        .withArgs(agentId, newAgentKey.address);
      const answer = await signed(old, "AnswerFlag", deployment, {
        agentId,
        flagId: 0,
        answer: "x",
        nonce: 1,
        deadline,
      });
      await expect(relay(relayer, answer))
        .to.be.revertedWithCustomError(flags, "AgentSignedInvalidSignature")
        .withArgs(agentId, newAgentKey.address);

      await expect(registry.connect(newAgentKey).setCoreValues(agentId, texts("recovered")))
        .to.emit(registry, "CoreValuesChanged")
        .withArgs(agentId, 2, texts("recovered"));
    });
  });

  describe("cancelRecovery", () => {
    for (const [label, fixture] of [
      ["a proposed", proposedByOperator],
      ["a scheduled", scheduled],
    ] as const) {
      it(`the old key cancels ${label} recovery directly: RecoveryCancelled(id, signer)`, async () => {
        const { registry, agentKey, agentId } = await loadFixture(fixture);
        await expect(registry.connect(agentKey).cancelRecovery(agentId))
          .to.emit(registry, "RecoveryCancelled")
          .withArgs(agentId, agentKey.address);
        const p = await registry.pendingRecovery(agentId);
        expect([p.newSigner, p.operatorApproved, p.councilApproved, p.executableAt]).to.deep.equal([
          ZeroAddress,
          false,
          false,
          0n,
        ]);
        await expect(registry.finalizeRecovery(agentId))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNoRecovery")
          .withArgs(agentId);
      });
    }

    it("the old key cancels by signature, relayed by anyone, up to the last second", async () => {
      const { registry, agentSigner, agentId, deployment, stranger, executableAt, agentKey } =
        await loadFixture(scheduled);
      const cancel = await signed(agentSigner, "CancelRecovery", deployment, {
        agentId,
        nonce: 12,
        deadline: executableAt,
      });
      await time.setNextBlockTimestamp(executableAt - 1n);
      // The event names the agent whose signature cancelled, not the relayer.
      await expect(relay(stranger, cancel)).to.emit(registry, "RecoveryCancelled").withArgs(agentId, agentKey.address);
      expect(await registry.agentSigner(agentId)).to.equal(agentKey.address);
    });

    it("the operator or the council may cancel too", async () => {
      const { registry, operator, council, agentId, newAgentKey } = await loadFixture(scheduled);
      await expect(registry.connect(operator).cancelRecovery(agentId))
        .to.emit(registry, "RecoveryCancelled")
        .withArgs(agentId, operator.address);
      await registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      await expect(registry.connect(council).cancelRecovery(agentId))
        .to.emit(registry, "RecoveryCancelled")
        .withArgs(agentId, council.address);
    });

    it("a stranger cannot: AgentRegistryNotRecoveryParty(id, caller); nothing pending: AgentRegistryNoRecovery(id)", async () => {
      const { registry, stranger, relayer, deployer, agentKey, agentId } = await loadFixture(scheduled);
      for (const who of [stranger, relayer, deployer]) {
        await expect(registry.connect(who).cancelRecovery(agentId))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotRecoveryParty")
          .withArgs(agentId, who.address);
      }
      await registry.connect(agentKey).cancelRecovery(agentId);
      await expect(registry.connect(agentKey).cancelRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoRecovery")
        .withArgs(agentId);
    });
  });

  describe("a rotation supersedes a pending recovery", () => {
    it("RecoveryCancelled then SignerChanged; the recovery can no longer be finalized", async () => {
      const { registry, agentKey, agentKey2, agentId, deployment, executableAt } = await loadFixture(scheduled);
      const r = { agentId, newSigner: agentKey2.address, nonce: 1n, deadline: await deadlineAfter() };
      const s = await signed(await fromEthersSigner(agentKey2), "RotateSigner", deployment, r);
      const tx = registry.connect(agentKey).rotateSigner(agentId, agentKey2.address, 1, r.deadline, s.signature);
      await expect(tx).to.emit(registry, "RecoveryCancelled").withArgs(agentId, agentKey.address);
      await expect(tx).to.emit(registry, "SignerChanged").withArgs(agentId, agentKey.address, agentKey2.address);
      await time.increaseTo(executableAt);
      await expect(registry.finalizeRecovery(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoRecovery")
        .withArgs(agentId);
      expect(await registry.agentSigner(agentId)).to.equal(agentKey2.address);
    });

    it("a rotation with nothing pending emits no cancellation", async () => {
      const { registry, agentKey, agentKey2, agentId, deployment } = await loadFixture(deployWithAgent);
      const r = { agentId, newSigner: agentKey2.address, nonce: 1n, deadline: await deadlineAfter() };
      const s = await signed(await fromEthersSigner(agentKey2), "RotateSigner", deployment, r);
      await expect(
        registry.connect(agentKey).rotateSigner(agentId, agentKey2.address, 1, r.deadline, s.signature),
      ).to.not.emit(registry, "RecoveryCancelled");
    });
  });

  describe("setRecoveryDelay", () => {
    it("the admin sets it within [1 hour, 90 days]: RecoveryDelaySet(delay)", async () => {
      const { registry, deployer } = await loadFixture(deployWithAgent);
      expect(await registry.MIN_RECOVERY_DELAY()).to.equal(BigInt(MIN_DELAY));
      expect(await registry.MAX_RECOVERY_DELAY()).to.equal(BigInt(MAX_DELAY));
      for (const delay of [MIN_DELAY, MAX_DELAY, 7 * 86_400]) {
        await expect(registry.connect(deployer).setRecoveryDelay(delay))
          .to.emit(registry, "RecoveryDelaySet")
          .withArgs(delay);
        expect(await registry.recoveryDelay()).to.equal(BigInt(delay));
      }
    });

    it("out of bounds: AgentRegistryInvalidRecoveryDelay(delay)", async () => {
      const { registry, deployer } = await loadFixture(deployWithAgent);
      for (const delay of [0, MIN_DELAY - 1, MAX_DELAY + 1, 2 ** 32 - 1]) {
        await expect(registry.connect(deployer).setRecoveryDelay(delay))
          .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidRecoveryDelay")
          .withArgs(delay);
      }
    });

    it("admin only: AccessControlUnauthorizedAccount(caller, DEFAULT_ADMIN_ROLE)", async () => {
      const { registry, council, operator, relayer, agentKey, stranger } = await loadFixture(deployWithAgent);
      for (const who of [council, operator, relayer, agentKey, stranger]) {
        await expect(registry.connect(who).setRecoveryDelay(MIN_DELAY))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ZeroHash);
      }
    });

    it("applies to recoveries scheduled afterwards, not to one already scheduled", async () => {
      const { registry, deployer, operator, council, agentId, newAgentKey, executableAt } =
        await loadFixture(scheduled);
      await registry.connect(deployer).setRecoveryDelay(MIN_DELAY);
      expect((await registry.pendingRecovery(agentId)).executableAt).to.equal(executableAt);
      await registry.connect(operator).cancelRecovery(agentId);
      await registry.connect(operator).proposeRecovery(agentId, newAgentKey.address);
      const tx = registry.connect(council).proposeRecovery(agentId, newAgentKey.address);
      await expect(tx)
        .to.emit(registry, "RecoveryScheduled")
        .withArgs(agentId, newAgentKey.address, (await minedAt(tx)) + MIN_DELAY);
    });
  });
});
