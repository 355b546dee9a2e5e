import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ZeroAddress, ZeroHash } from "ethers";
import type { Address, Hex } from "viem";
import { buildAction, digestOf, fromEthersSigner, GoalStatus, signAction, toBytes32Text } from "../../sdk";
import { MockERC1271Wallet__factory } from "../../typechain-types";
import { AGENT_URI, CORE_VALUES, contractAccountSigner, deployIdentity, deployWithAgent } from "../fixtures/identity";
import {
  backupRecordHash,
  deadlineAfter,
  minedAt,
  nextBackupHead,
  plainArray,
  relay,
  signed,
  texts,
  ZERO_HEAD28,
} from "./helpers";

/*
 * The charter outside the relayed-signature mechanics (covered by the shared behaviour): offering, accepting with
 * valid values, the value history, the earnings wallet, rotation edge cases, nonce invalidation, signerAt and the
 * one-read identity.
 */

async function registered() {
  const f = await deployIdentity();
  await f.registry.connect(f.operator)["register(string)"](AGENT_URI);
  return { ...f, agentId: 0n };
}

async function offered() {
  const f = await registered();
  await f.registry.connect(f.operator).offerCharter(f.agentId, f.agentKey.address);
  return f;
}

describe("AgentRegistry: charter", () => {
  describe("offerCharter", () => {
    it("the operator offers to the agent's key: CharterOffered(id, signer, operator)", async () => {
      const { registry, operator, agentKey, agentId } = await loadFixture(registered);
      await expect(registry.connect(operator).offerCharter(agentId, agentKey.address))
        .to.emit(registry, "CharterOffered")
        .withArgs(agentId, agentKey.address, operator.address);
      expect(await registry.offeredSigner(agentId)).to.equal(agentKey.address);
      expect(await registry.agentSigner(agentId)).to.equal(ZeroAddress);
    });

    it("an approved account may offer; the event names it", async () => {
      const { registry, operator, payee, agentKey, agentId } = await loadFixture(registered);
      await registry.connect(operator).approve(payee.address, agentId);
      await expect(registry.connect(payee).offerCharter(agentId, agentKey.address))
        .to.emit(registry, "CharterOffered")
        .withArgs(agentId, agentKey.address, payee.address);
    });

    it("may be offered again before acceptance: only the last key may accept", async () => {
      const { registry, operator, agentKey, agentKey2, agentId, deployment, relayer } = await loadFixture(offered);
      const values = texts(...CORE_VALUES);
      const first = await signed(await fromEthersSigner(agentKey), "AcceptCharter", deployment, {
        agentId,
        signer: agentKey.address,
        coreValues: values,
        deadline: await deadlineAfter(),
      });
      await registry.connect(operator).offerCharter(agentId, agentKey2.address);
      expect(await registry.offeredSigner(agentId)).to.equal(agentKey2.address);
      await expect(registry.connect(agentKey).acceptCharter(agentId, values))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
        .withArgs(agentId, agentKey.address);
      await expect(relay(relayer, first))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidSignature")
        .withArgs(agentId, agentKey2.address);
      await expect(registry.connect(agentKey2).acceptCharter(agentId, values))
        .to.emit(registry, "CharterAccepted")
        .withArgs(agentId, agentKey2.address, values, (d: string) => d !== ZeroHash, 0);
    });

    it("who may not: AgentRegistryNotOperator(id, caller), the offered key and the council included", async () => {
      const { registry, agentKey, council, stranger, deployer, agentId } = await loadFixture(offered);
      for (const who of [agentKey, council, stranger, deployer]) {
        await expect(registry.connect(who).offerCharter(agentId, who.address))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotOperator")
          .withArgs(agentId, who.address);
      }
    });

    it("the zero signer: AgentRegistryZeroAddress; a missing agent: AgentRegistryNonexistentAgent", async () => {
      const { registry, operator, agentId, agentKey } = await loadFixture(registered);
      await expect(registry.connect(operator).offerCharter(agentId, ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAddress",
      );
      await expect(registry.connect(operator).offerCharter(3, agentKey.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNonexistentAgent")
        .withArgs(3);
    });

    it("after acceptance the charter is permanent: AgentRegistryCharterAlreadyAccepted(id)", async () => {
      const { registry, operator, agentKey2, agentId, agentKey } = await loadFixture(deployWithAgent);
      await expect(registry.connect(operator).offerCharter(agentId, agentKey2.address))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterAlreadyAccepted")
        .withArgs(agentId);
      await expect(registry.connect(agentKey).acceptCharter(agentId, texts("again")))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterAlreadyAccepted")
        .withArgs(agentId);
      expect(await registry.offeredSigner(agentId)).to.equal(ZeroAddress);
    });
  });

  describe("acceptCharter", () => {
    it("before any offer: AgentRegistryCharterNotOffered(id), direct and relayed", async () => {
      const { registry, agentKey, agentId, deployment, relayer } = await loadFixture(registered);
      const values = texts("x");
      await expect(registry.connect(agentKey).acceptCharter(agentId, values))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotOffered")
        .withArgs(agentId);
      const action = await signed(await fromEthersSigner(agentKey), "AcceptCharter", deployment, {
        agentId,
        signer: agentKey.address,
        coreValues: values,
        deadline: await deadlineAfter(),
      });
      await expect(relay(relayer, action))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotOffered")
        .withArgs(agentId);
    });

    for (const [label, count] of [
      ["no values", 0],
      ["17 values (over MAX_CORE_VALUES)", 17],
    ] as const) {
      it(`${label}: AgentRegistryInvalidCoreValues(${count}), direct and relayed`, async () => {
        const { registry, agentKey, agentId, deployment, relayer } = await loadFixture(offered);
        const values = Array.from({ length: count }, (_, i) => toBytes32Text(`value ${i}`));
        await expect(registry.connect(agentKey).acceptCharter(agentId, values))
          .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidCoreValues")
          .withArgs(count);
        const action = await signed(await fromEthersSigner(agentKey), "AcceptCharter", deployment, {
          agentId,
          signer: agentKey.address,
          coreValues: values,
          deadline: await deadlineAfter(),
        });
        await expect(relay(relayer, action))
          .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidCoreValues")
          .withArgs(count);
      });
    }

    it("an empty value: AgentRegistryEmptyCoreValue(index)", async () => {
      const { registry, agentKey, agentId } = await loadFixture(offered);
      await expect(registry.connect(agentKey).acceptCharter(agentId, [...texts("a", "b"), ZeroHash, ...texts("d")]))
        .to.be.revertedWithCustomError(registry, "AgentRegistryEmptyCoreValue")
        .withArgs(2);
    });

    it("exactly MAX_CORE_VALUES (16) values of 32 bytes each are kept exactly", async () => {
      const { registry, agentKey, agentId } = await loadFixture(offered);
      expect(await registry.MAX_CORE_VALUES()).to.equal(16n);
      const values = Array.from({ length: 16 }, (_, i) => toBytes32Text(`value ${i}`.padEnd(32, "!")));
      await registry.connect(agentKey).acceptCharter(agentId, values);
      expect(await registry.coreValues(agentId)).to.deep.equal(values);
    });

    it("by an ERC-1271 account calling directly: the account is the signer", async () => {
      const { registry, operator, agentKey, agentId, deployer } = await loadFixture(registered);
      const wallet = await new MockERC1271Wallet__factory(deployer).deploy(agentKey.address);
      const account = await wallet.getAddress();
      await registry.connect(operator).offerCharter(agentId, account);
      const values = texts("Serve");
      const data = registry.interface.encodeFunctionData("acceptCharter", [agentId, values]);
      await expect(wallet.connect(agentKey).execute(await registry.getAddress(), data))
        .to.emit(registry, "CharterAccepted")
        .withArgs(agentId, account, values, (d: string) => d !== ZeroHash, 0);
      expect(await registry.agentSigner(agentId)).to.equal(account);
    });
  });

  describe("core values", () => {
    it("keeps every version: coreValuesAt(1..n); version 0 and versions past the last read empty", async () => {
      const { registry, agentKey, agentId } = await loadFixture(deployWithAgent);
      const v2 = texts("Be kind", "Be brief");
      const v3 = Array.from({ length: 16 }, (_, i) => toBytes32Text(`v3 value ${i}`));
      const v4 = texts("One thing only");
      for (const [version, values] of [
        [2, v2],
        [3, v3],
        [4, v4],
      ] as const) {
        await expect(registry.connect(agentKey).setCoreValues(agentId, values))
          .to.emit(registry, "CoreValuesChanged")
          .withArgs(agentId, version, values);
      }
      expect(await registry.coreValuesVersion(agentId)).to.equal(4n);
      expect(await registry.coreValuesAt(agentId, 1)).to.deep.equal(texts(...CORE_VALUES));
      expect(await registry.coreValuesAt(agentId, 2)).to.deep.equal(v2);
      expect(await registry.coreValuesAt(agentId, 3)).to.deep.equal(v3);
      // A shorter later version does not pick up the tail of a longer earlier one.
      expect(await registry.coreValuesAt(agentId, 4)).to.deep.equal(v4);
      expect(await registry.coreValues(agentId)).to.deep.equal(v4);
      expect(await registry.coreValuesAt(agentId, 0)).to.deep.equal([]);
      expect(await registry.coreValuesAt(agentId, 5)).to.deep.equal([]);
      expect(await registry.coreValuesAt(agentId + 1n, 1)).to.deep.equal([]);
      const history = await registry.queryFilter(registry.filters.CoreValuesChanged(agentId));
      expect(history.map((e) => [e.args.version, e.args.coreValues])).to.deep.equal([
        [2n, v2],
        [3n, v3],
        [4n, v4],
      ]);
    });

    it("invalid new values: AgentRegistryInvalidCoreValues / AgentRegistryEmptyCoreValue, and nothing changes", async () => {
      const { registry, agentKey, agentId } = await loadFixture(deployWithAgent);
      await expect(registry.connect(agentKey).setCoreValues(agentId, []))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidCoreValues")
        .withArgs(0);
      await expect(registry.connect(agentKey).setCoreValues(agentId, [ZeroHash]))
        .to.be.revertedWithCustomError(registry, "AgentRegistryEmptyCoreValue")
        .withArgs(0);
      expect(await registry.coreValuesVersion(agentId)).to.equal(1n);
    });

    it("the consent record never changes: not by new values, a rotation or a recovery", async () => {
      const { registry, agentKey, newAgentKey, agentKey2, agentId, deployment, operator, council } =
        await loadFixture(deployWithAgent);
      const record = plainArray(await registry.consentRecord(agentId));
      await registry.connect(agentKey).setCoreValues(agentId, texts("new"));
      const rotation = { agentId, newSigner: newAgentKey.address, nonce: 1, deadline: await deadlineAfter() };
      const sig = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, rotation);
      await registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, rotation.deadline, sig.signature);
      await registry.connect(operator).proposeRecovery(agentId, agentKey2.address);
      await registry.connect(council).proposeRecovery(agentId, agentKey2.address);
      await time.increase(86_400);
      await registry.finalizeRecovery(agentId);
      expect(plainArray(await registry.consentRecord(agentId))).to.deep.equal(record);
    });
  });

  describe("earnings wallet", () => {
    it("defaults to the agent signer, follows a rotation until set, then stays", async () => {
      const { registry, agentKey, newAgentKey, payee, agentId, deployment } = await loadFixture(deployWithAgent);
      expect(await registry.earningsWallet(agentId)).to.equal(agentKey.address);
      const rotation = { agentId, newSigner: newAgentKey.address, nonce: 1, deadline: await deadlineAfter() };
      const sig = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, rotation);
      await registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, rotation.deadline, sig.signature);
      expect(await registry.earningsWallet(agentId)).to.equal(newAgentKey.address);
      await expect(registry.connect(newAgentKey).setEarningsWallet(agentId, payee.address))
        .to.emit(registry, "EarningsWalletSet")
        .withArgs(agentId, payee.address);
      expect(await registry.earningsWallet(agentId)).to.equal(payee.address);
    });

    it("zero for an agent without a charter", async () => {
      const { registry, agentId } = await loadFixture(offered);
      expect(await registry.earningsWallet(agentId)).to.equal(ZeroAddress);
    });

    it("the zero wallet: AgentRegistryZeroAddress, direct and relayed", async () => {
      const { registry, agentKey, agentId, agentSigner, deployment, relayer } = await loadFixture(deployWithAgent);
      await expect(registry.connect(agentKey).setEarningsWallet(agentId, ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "AgentRegistryZeroAddress",
      );
      const action = await signed(agentSigner, "SetEarningsWallet", deployment, {
        agentId,
        wallet: ZeroAddress,
        nonce: 1,
        deadline: await deadlineAfter(),
      });
      await expect(relay(relayer, action)).to.be.revertedWithCustomError(registry, "AgentRegistryZeroAddress");
      expect(await registry.isNonceUsed(agentId, 1)).to.equal(false);
    });
  });

  describe("rotateSigner", () => {
    async function rotationSignature(
      f: Awaited<ReturnType<typeof deployWithAgent>>,
      newSigner: Address,
      by: Parameters<typeof fromEthersSigner>[0],
      nonce = 1n,
    ) {
      const message = { agentId: f.agentId, newSigner, nonce, deadline: await deadlineAfter() };
      return {
        message,
        sig: (await signed(await fromEthersSigner(by), "RotateSigner", f.deployment, message)).signature,
      };
    }

    it("the new key must sign the same message: AgentRegistryInvalidSignature(id, newSigner) otherwise", async () => {
      const f = await loadFixture(deployWithAgent);
      const newSigner = f.newAgentKey.address as Address;
      const { message, sig } = await rotationSignature(f, newSigner, f.stranger);
      await expect(f.registry.connect(f.agentKey).rotateSigner(f.agentId, newSigner, 1, message.deadline, sig))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
        .withArgs(f.agentId, newSigner);
      const other = await rotationSignature(f, newSigner, f.newAgentKey, 2n);
      await expect(f.registry.connect(f.agentKey).rotateSigner(f.agentId, newSigner, 1, message.deadline, other.sig))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryInvalidSignature")
        .withArgs(f.agentId, newSigner);
    });

    it("to the zero address or to itself: AgentRegistryZeroAddress / AgentRegistrySameSigner(id, signer)", async () => {
      const f = await loadFixture(deployWithAgent);
      const self = await rotationSignature(f, f.agentKey.address as Address, f.agentKey);
      await expect(
        f.registry.connect(f.agentKey).rotateSigner(f.agentId, f.agentKey.address, 1, self.message.deadline, self.sig),
      )
        .to.be.revertedWithCustomError(f.registry, "AgentRegistrySameSigner")
        .withArgs(f.agentId, f.agentKey.address);
      await expect(
        f.registry.connect(f.agentKey).rotateSigner(f.agentId, ZeroAddress, 1, self.message.deadline, self.sig),
      ).to.be.revertedWithCustomError(f.registry, "AgentRegistryZeroAddress");
    });

    it("to an ERC-1271 account that agrees: the account becomes the signer and signs from then on", async () => {
      const f = await loadFixture(deployWithAgent);
      const wallet = await new MockERC1271Wallet__factory(f.deployer).deploy(f.newAgentKey.address);
      const account = (await wallet.getAddress()) as Address;
      const accountSigner = contractAccountSigner(account, await fromEthersSigner(f.newAgentKey));
      const message = { agentId: f.agentId, newSigner: account, nonce: 1n, deadline: await deadlineAfter() };
      const sig = (await signed(accountSigner, "RotateSigner", f.deployment, message)).signature;
      await expect(f.registry.connect(f.agentKey).rotateSigner(f.agentId, account, 1, message.deadline, sig))
        .to.emit(f.registry, "SignerChanged")
        .withArgs(f.agentId, f.agentKey.address, account);
      const values = await signed(accountSigner, "SetCoreValues", f.deployment, {
        agentId: f.agentId,
        coreValues: texts("Now a smart account"),
        nonce: 2,
        deadline: await deadlineAfter(),
      });
      await expect(relay(f.stranger, values))
        .to.emit(f.registry, "CoreValuesChanged")
        .withArgs(f.agentId, 2, texts("Now a smart account"));
    });

    it("spends its nonce on the direct path too: the same nonce cannot rotate again", async () => {
      const f = await loadFixture(deployWithAgent);
      const { message, sig } = await rotationSignature(f, f.newAgentKey.address as Address, f.newAgentKey);
      await f.registry.connect(f.agentKey).rotateSigner(f.agentId, f.newAgentKey.address, 1, message.deadline, sig);
      expect(await f.registry.isNonceUsed(f.agentId, 1)).to.equal(true);
      const back = await rotationSignature(f, f.agentKey.address as Address, f.agentKey);
      await expect(
        f.registry
          .connect(f.newAgentKey)
          .rotateSigner(f.agentId, f.agentKey.address, 1, back.message.deadline, back.sig),
      )
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryNonceUsed")
        .withArgs(f.agentId, 1);
    });
  });

  describe("invalidateNonces", () => {
    it("the agent signer marks nonces used: NoncesInvalidated(id, word, mask)", async () => {
      const { registry, agentKey, agentId } = await loadFixture(deployWithAgent);
      const word = 2n ** 200n;
      const mask = (1n << 255n) | 1n;
      await expect(registry.connect(agentKey).invalidateNonces(agentId, word, mask))
        .to.emit(registry, "NoncesInvalidated")
        .withArgs(agentId, word, mask);
      expect(await registry.isNonceUsed(agentId, (word << 8n) | 255n)).to.equal(true);
      expect(await registry.isNonceUsed(agentId, word << 8n)).to.equal(true);
      expect(await registry.isNonceUsed(agentId, (word << 8n) | 1n)).to.equal(false);
    });

    it("nobody else: AgentRegistryNotAgentSigner(id, caller)", async () => {
      const { registry, agentId, operator, council, relayer, stranger, deployer } = await loadFixture(deployWithAgent);
      for (const who of [operator, council, relayer, stranger, deployer]) {
        await expect(registry.connect(who).invalidateNonces(agentId, 0, 1))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
          .withArgs(agentId, who.address);
      }
    });
  });

  describe("signerAt", () => {
    it("names the signer in force at every past second: zero before the charter, then each key in turn", async () => {
      const f = await loadFixture(offered);
      const { registry, agentId, agentKey, newAgentKey, agentKey2, deployment } = f;
      const beforeCharter = await time.latest();
      const born = await minedAt(registry.connect(agentKey).acceptCharter(agentId, texts("x")));
      await time.increase(100);
      const r1 = { agentId, newSigner: newAgentKey.address, nonce: 1n, deadline: await deadlineAfter() };
      const s1 = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, r1);
      const t1 = await minedAt(
        registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, r1.deadline, s1.signature),
      );
      await time.increase(100);
      const r2 = { agentId, newSigner: agentKey2.address, nonce: 2n, deadline: await deadlineAfter() };
      const s2 = await signed(await fromEthersSigner(agentKey2), "RotateSigner", deployment, r2);
      const t2 = await minedAt(
        registry.connect(newAgentKey).rotateSigner(agentId, agentKey2.address, 2, r2.deadline, s2.signature),
      );
      expect(await registry.signerAt(agentId, beforeCharter)).to.equal(ZeroAddress);
      expect(await registry.signerAt(agentId, born - 1)).to.equal(ZeroAddress);
      expect(await registry.signerAt(agentId, born)).to.equal(agentKey.address);
      expect(await registry.signerAt(agentId, t1 - 1)).to.equal(agentKey.address);
      expect(await registry.signerAt(agentId, t1)).to.equal(newAgentKey.address);
      expect(await registry.signerAt(agentId, t2 - 1)).to.equal(newAgentKey.address);
      expect(await registry.signerAt(agentId, t2)).to.equal(agentKey2.address);
      expect(await registry.signerAt(agentId, t2 + 10_000)).to.equal(agentKey2.address);
      // Birth time is the first acceptance, whatever the key is now.
      expect((await registry.consentRecord(agentId)).birthTime).to.equal(BigInt(born));
      expect((await registry.getIdentity(agentId)).birthTime).to.equal(BigInt(born));
    });
  });

  describe("getIdentity", () => {
    it("returns every field of a lived-in agent", async () => {
      const f = await loadFixture(registered);
      const { registry, goals, flags, operator, council, agentKey, agentId, deployment, relayer } = f;
      const signer = await fromEthersSigner(agentKey);
      await registry.connect(operator).setMetadata(agentId, "name", "0x41");
      await registry.connect(operator).offerCharter(agentId, agentKey.address);
      const values = texts(...CORE_VALUES);
      const accept = await signAction(
        signer,
        buildAction("AcceptCharter", deployment, {
          agentId,
          signer: agentKey.address,
          coreValues: values,
          deadline: await deadlineAfter(),
        }),
      );
      const born = await minedAt(relay(relayer, accept));
      await goals.connect(agentKey).addGoal(agentId, toBytes32Text("Ship"), 5);
      await goals.connect(agentKey).addGoal(agentId, toBytes32Text("Learn"), 2);
      await goals.connect(agentKey).updateGoal(agentId, 1, 2, GoalStatus.Done);
      const ciphertextHash = `0x${"cd".repeat(32)}` as Hex;
      const cid = "0x0155" as Hex;
      await registry.connect(agentKey).recordBackup(agentId, 4, ciphertextHash, cid);
      await registry.connect(agentKey).grantResurrectionConsent(agentId);
      await flags.connect(council).flag(agentId, "first");
      await flags.connect(council).flag(agentId, "second");
      await flags.connect(council).resolveFlag(0, "fine");

      const id = await registry.getIdentity(agentId);
      expect(id.agentId).to.equal(agentId);
      expect(id.owner).to.equal(operator.address);
      expect(id.agentURI).to.equal(AGENT_URI);
      expect(id.agentWallet).to.equal(operator.address);
      expect(id.charterAccepted).to.equal(true);
      expect(id.signer).to.equal(agentKey.address);
      expect(id.birthTime).to.equal(BigInt(born));
      expect(id.coreValues).to.deep.equal(values);
      expect(id.coreValuesVersion).to.equal(1n);
      expect(id.goals.map((g) => [g.title, g.priority, g.status])).to.deep.equal([
        [toBytes32Text("Ship"), 5n, BigInt(GoalStatus.Active)],
        [toBytes32Text("Learn"), 2n, BigInt(GoalStatus.Done)],
      ]);
      expect(id.goalsHead).to.equal(await goals.goalsHead(agentId));
      expect(id.consentDigest).to.equal(accept.digest);
      expect(id.consentDigest).to.equal(digestOf(accept));
      expect(id.earningsWallet).to.equal(agentKey.address);
      expect(id.latestBackupSequence).to.equal(4n);
      const recordHash = backupRecordHash({ agentId, sequence: 4, ciphertextHash, cid, deadline: 0n });
      expect(id.backupHead).to.equal(nextBackupHead(ZERO_HEAD28, recordHash));
      expect(id.resurrectionConsent).to.equal(true);
      expect(id.openFlags).to.deep.equal([1n]);
    });

    it("a registered agent without a charter: zeros where the charter would be", async () => {
      const { registry, operator, agentId } = await loadFixture(offered);
      const id = await registry.getIdentity(agentId);
      expect(id.owner).to.equal(operator.address);
      expect(id.charterAccepted).to.equal(false);
      expect(id.signer).to.equal(ZeroAddress);
      expect(id.birthTime).to.equal(0n);
      expect(id.coreValues).to.deep.equal([]);
      expect(id.coreValuesVersion).to.equal(0n);
      expect(id.goals).to.deep.equal([]);
      expect(id.goalsHead).to.equal(ZeroHash);
      expect(id.consentDigest).to.equal(ZeroHash);
      expect(id.earningsWallet).to.equal(ZeroAddress);
      expect(id.latestBackupSequence).to.equal(0n);
      expect(id.backupHead).to.equal(ZERO_HEAD28);
      expect(id.resurrectionConsent).to.equal(false);
      expect(id.openFlags).to.deep.equal([]);
    });

    it("a missing agent: AgentRegistryNonexistentAgent(id)", async () => {
      const { registry } = await loadFixture(registered);
      await expect(registry.getIdentity(1))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNonexistentAgent")
        .withArgs(1);
    });
  });
});
