import { expect } from "chai";
import { ZeroAddress } from "ethers";
import type { Hex } from "viem";
import { buildAction, digestOf, fromEthersSigner, signAction } from "../../sdk";
import { type ActionEnv, type Message, shouldBehaveLikeAgentSignedAction } from "./agentSigned.behavior";
import { backupRecordHash, minedAt, nextBackupHead, texts } from "./helpers";

/*
 * Every agent-signed action of AgentRegistry through the shared behaviour: direct and relayed, who may and who may
 * not, and every wrong signature, for an EOA and an ERC-1271 agent signer.
 */

const CIPHERTEXT = `0x${"ab".repeat(32)}` as Hex;
const CID = "0x01551220c3c4733ec8affd06cf9e9ff50ffc6bcd2ec85a6170004bb709669c31de94391a" as Hex;

async function newSignerSignature(env: ActionEnv, m: Message): Promise<Hex> {
  const action = buildAction("RotateSigner", env.deployment, m);
  return (await signAction(await fromEthersSigner(env.newAgentKey), action)).signature;
}

describe("AgentRegistry: agent-signed actions", () => {
  shouldBehaveLikeAgentSignedAction({
    primaryType: "AcceptCharter",
    accepted: false,
    guard: "once",
    otherType: { primaryType: "OfferCharter" },
    fields: (env) => ({
      agentId: env.agentId,
      signer: env.signerAddress,
      coreValues: texts("Serve the user", "Tell the truth"),
    }),
    directCall: (env, m) =>
      env.registry.interface.encodeFunctionData("acceptCharter", [env.agentId, m.coreValues as Hex[]]),
    expectEffect: async (env, send, sent) => {
      const values = sent.message.coreValues as Hex[];
      const deadline = sent.via === "direct" ? 0n : (sent.message.deadline as bigint);
      const digest = digestOf(buildAction("AcceptCharter", env.deployment, { ...sent.message, deadline }));
      const tx = send();
      await expect(tx)
        .to.emit(env.registry, "CharterAccepted")
        .withArgs(env.agentId, env.signerAddress, values, digest, deadline);
      const birth = await minedAt(tx);
      const [accepted, birthTime, consentDigest] = await env.registry.consentRecord(env.agentId);
      expect(accepted).to.equal(true);
      expect(birthTime).to.equal(BigInt(birth));
      expect(consentDigest).to.equal(digest);
      expect(await env.registry.agentSigner(env.agentId)).to.equal(env.signerAddress);
      expect(await env.registry.offeredSigner(env.agentId)).to.equal(ZeroAddress);
      expect(await env.registry.coreValues(env.agentId)).to.deep.equal(values);
      expect(await env.registry.coreValuesVersion(env.agentId)).to.equal(1n);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "SetCoreValues",
    guard: "nonce",
    otherType: { primaryType: "SetCoreValuesV2" },
    fields: (env) => ({ agentId: env.agentId, coreValues: texts("Be kind", "Keep learning", "Pay my way") }),
    directCall: (env, m) =>
      env.registry.interface.encodeFunctionData("setCoreValues", [env.agentId, m.coreValues as Hex[]]),
    expectEffect: async (env, send, sent) => {
      const values = sent.message.coreValues as Hex[];
      const version = await env.registry.coreValuesVersion(env.agentId);
      const previous = await env.registry.coreValues(env.agentId);
      await expect(send())
        .to.emit(env.registry, "CoreValuesChanged")
        .withArgs(env.agentId, version + 1n, values);
      expect(await env.registry.coreValues(env.agentId)).to.deep.equal(values);
      expect(await env.registry.coreValuesVersion(env.agentId)).to.equal(version + 1n);
      expect(await env.registry.coreValuesAt(env.agentId, version)).to.deep.equal(previous);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "SetEarningsWallet",
    guard: "nonce",
    otherType: { primaryType: "RotateSigner", rename: { wallet: "newSigner" } },
    fields: (env) => ({ agentId: env.agentId, wallet: env.payee.address }),
    directCall: (env, m) =>
      env.registry.interface.encodeFunctionData("setEarningsWallet", [env.agentId, m.wallet as string]),
    expectEffect: async (env, send, sent) => {
      await expect(send()).to.emit(env.registry, "EarningsWalletSet").withArgs(env.agentId, sent.message.wallet);
      expect(await env.registry.earningsWallet(env.agentId)).to.equal(sent.message.wallet);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "RotateSigner",
    guard: "nonce",
    otherType: { primaryType: "SetEarningsWallet", rename: { newSigner: "wallet" } },
    fields: (env) => ({ agentId: env.agentId, newSigner: env.newAgentKey.address }),
    directCall: async (env, m) =>
      env.registry.interface.encodeFunctionData("rotateSigner", [
        env.agentId,
        m.newSigner as string,
        m.nonce as bigint,
        m.deadline as bigint,
        await newSignerSignature(env, m),
      ]),
    relayCall: async (env, m, signature) =>
      env.registry.interface.encodeFunctionData("rotateSignerBySig", [
        env.agentId,
        m.newSigner as string,
        m.nonce as bigint,
        m.deadline as bigint,
        signature,
        await newSignerSignature(env, m),
      ]),
    expectEffect: async (env, send, sent) => {
      const tx = send();
      await expect(tx)
        .to.emit(env.registry, "SignerChanged")
        .withArgs(env.agentId, env.signerAddress, sent.message.newSigner);
      const at = await minedAt(tx);
      expect(await env.registry.agentSigner(env.agentId)).to.equal(sent.message.newSigner);
      expect(await env.registry.signerAt(env.agentId, at)).to.equal(sent.message.newSigner);
      expect(await env.registry.signerAt(env.agentId, at - 1)).to.equal(env.signerAddress);
      expect(await env.registry.isNonceUsed(env.agentId, sent.message.nonce as bigint)).to.equal(true);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "BackupRecord",
    guard: "sequence",
    otherType: { primaryType: "BackupRecordV2" },
    // One record first, so the trail head that the next record chains to is not zero.
    setup: async (env) => {
      await env.asAgent(
        env.deployment.registry,
        env.registry.interface.encodeFunctionData("recordBackup", [env.agentId, 1, CIPHERTEXT, CID]),
      );
    },
    fields: async (env) => {
      const [sequence] = await env.registry.latestBackup(env.agentId);
      return { agentId: env.agentId, sequence: Number(sequence) + 1, ciphertextHash: CIPHERTEXT, cid: CID };
    },
    directCall: (env, m) =>
      env.registry.interface.encodeFunctionData("recordBackup", [
        env.agentId,
        m.sequence as number,
        m.ciphertextHash as string,
        m.cid as string,
      ]),
    expectEffect: async (env, send, sent) => {
      const m = sent.message;
      const [, prevHead] = await env.registry.latestBackup(env.agentId);
      expect(prevHead).to.not.equal(`0x${"00".repeat(28)}`);
      const deadline = sent.via === "direct" ? 0n : (m.deadline as bigint);
      const recordHash = backupRecordHash({
        agentId: env.agentId,
        sequence: m.sequence as number,
        ciphertextHash: m.ciphertextHash as string,
        cid: m.cid as string,
        deadline,
      });
      expect(
        await env.registry.backupRecordHash(env.agentId, m.sequence as number, CIPHERTEXT, CID, deadline),
      ).to.equal(recordHash);
      const head = nextBackupHead(prevHead, recordHash);
      await expect(send())
        .to.emit(env.registry, "BackupRecorded")
        .withArgs(env.agentId, m.sequence, m.ciphertextHash, m.cid, prevHead, head);
      const [sequence, stored] = await env.registry.latestBackup(env.agentId);
      expect(sequence).to.equal(BigInt(m.sequence as number));
      expect(stored).to.equal(head);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "GrantResurrectionConsent",
    guard: "consentNonce",
    otherType: { primaryType: "RevokeResurrectionConsent" },
    fields: async (env) => ({ agentId: env.agentId, nonce: BigInt(await env.registry.consentNonce(env.agentId)) }),
    directCall: (env) => env.registry.interface.encodeFunctionData("grantResurrectionConsent", [env.agentId]),
    expectEffect: async (env, send) => {
      const nonce = await env.registry.consentNonce(env.agentId);
      await expect(send()).to.emit(env.registry, "ResurrectionConsentChanged").withArgs(env.agentId, true);
      expect(await env.registry.resurrectionConsent(env.agentId)).to.equal(true);
      expect(await env.registry.consentNonce(env.agentId)).to.equal(nonce + 1n);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "RevokeResurrectionConsent",
    guard: "consentNonce",
    otherType: { primaryType: "GrantResurrectionConsent" },
    setup: async (env) => {
      await env.asAgent(
        env.deployment.registry,
        env.registry.interface.encodeFunctionData("grantResurrectionConsent", [env.agentId]),
      );
    },
    fields: async (env) => ({ agentId: env.agentId, nonce: BigInt(await env.registry.consentNonce(env.agentId)) }),
    directCall: (env) => env.registry.interface.encodeFunctionData("revokeResurrectionConsent", [env.agentId]),
    expectEffect: async (env, send) => {
      const nonce = await env.registry.consentNonce(env.agentId);
      await expect(send()).to.emit(env.registry, "ResurrectionConsentChanged").withArgs(env.agentId, false);
      expect(await env.registry.resurrectionConsent(env.agentId)).to.equal(false);
      expect(await env.registry.consentNonce(env.agentId)).to.equal(nonce + 1n);
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "RecordRestoration",
    guard: "nonce",
    otherType: { primaryType: "RecordRestorationV2" },
    directAlsoAllowed: ["operator"],
    setup: async (env) => {
      await env.asAgent(
        env.deployment.registry,
        env.registry.interface.encodeFunctionData("grantResurrectionConsent", [env.agentId]),
      );
    },
    fields: (env) => ({ agentId: env.agentId, sequence: 7, ciphertextHash: CIPHERTEXT }),
    directCall: (env, m) =>
      env.registry.interface.encodeFunctionData("recordRestoration", [
        env.agentId,
        m.sequence as number,
        m.ciphertextHash as string,
      ]),
    expectEffect: async (env, send, sent) => {
      await expect(send())
        .to.emit(env.registry, "Restored")
        // A relayed record names the agent that signed it, not the relayer.
        .withArgs(
          env.agentId,
          sent.message.sequence,
          sent.message.ciphertextHash,
          sent.via === "relay" ? env.signerAddress : sent.sender,
        );
    },
  });

  shouldBehaveLikeAgentSignedAction({
    primaryType: "CancelRecovery",
    guard: "nonce",
    otherType: { primaryType: "GrantResurrectionConsent" },
    directAlsoAllowed: ["operator", "council"],
    directRefusal: "AgentRegistryNotRecoveryParty",
    setup: async (env) => {
      await env.registry.connect(env.operator).proposeRecovery(env.agentId, env.newAgentKey.address);
      await env.registry.connect(env.council).proposeRecovery(env.agentId, env.newAgentKey.address);
    },
    fields: (env) => ({ agentId: env.agentId }),
    directCall: (env) => env.registry.interface.encodeFunctionData("cancelRecovery", [env.agentId]),
    expectEffect: async (env, send, sent) => {
      expect((await env.registry.pendingRecovery(env.agentId)).newSigner).to.equal(env.newAgentKey.address);
      await expect(send())
        .to.emit(env.registry, "RecoveryCancelled")
        .withArgs(env.agentId, sent.via === "relay" ? env.signerAddress : sent.sender);
      const pending = await env.registry.pendingRecovery(env.agentId);
      expect(pending.newSigner).to.equal(ZeroAddress);
      expect(pending.executableAt).to.equal(0n);
      expect(await env.registry.agentSigner(env.agentId)).to.equal(env.signerAddress);
    },
  });
});
