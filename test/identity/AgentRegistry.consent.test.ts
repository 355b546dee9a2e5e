import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { Hex } from "viem";
import { fromEthersSigner } from "../../sdk";
import { AGENT_URI, deployIdentity, deployWithAgent } from "../fixtures/identity";
import { deadlineAfter, relay, signed } from "./helpers";

/*
 * Resurrection consent and restoration. Consent messages carry the agent's consent nonce, which every consent change
 * (direct or relayed) increments, so a grant signed before a revocation can never be played after it.
 */

const CIPHERTEXT = `0x${"ee".repeat(32)}` as Hex;

async function consentMessage(
  f: Awaited<ReturnType<typeof deployWithAgent>>,
  type: "GrantResurrectionConsent" | "RevokeResurrectionConsent",
  nonce: bigint,
) {
  return signed(f.agentSigner, type, f.deployment, { agentId: f.agentId, nonce, deadline: await deadlineAfter() });
}

describe("AgentRegistry: resurrection consent", () => {
  it("starts not granted with consent nonce 0", async () => {
    const { registry, agentId } = await loadFixture(deployWithAgent);
    expect(await registry.resurrectionConsent(agentId)).to.equal(false);
    expect(await registry.consentNonce(agentId)).to.equal(0n);
  });

  it("grant and revoke change it and its nonce; the same value twice: AgentRegistryConsentUnchanged(id, value)", async () => {
    const { registry, agentKey, agentId } = await loadFixture(deployWithAgent);
    await expect(registry.connect(agentKey).revokeResurrectionConsent(agentId))
      .to.be.revertedWithCustomError(registry, "AgentRegistryConsentUnchanged")
      .withArgs(agentId, false);
    await expect(registry.connect(agentKey).grantResurrectionConsent(agentId))
      .to.emit(registry, "ResurrectionConsentChanged")
      .withArgs(agentId, true);
    await expect(registry.connect(agentKey).grantResurrectionConsent(agentId))
      .to.be.revertedWithCustomError(registry, "AgentRegistryConsentUnchanged")
      .withArgs(agentId, true);
    await expect(registry.connect(agentKey).revokeResurrectionConsent(agentId))
      .to.emit(registry, "ResurrectionConsentChanged")
      .withArgs(agentId, false);
    expect(await registry.consentNonce(agentId)).to.equal(2n);
    expect(await registry.resurrectionConsent(agentId)).to.equal(false);
  });

  describe("the consent nonce", () => {
    it("a grant signed before a revocation can never be played after it: AgentRegistryStaleConsentNonce", async () => {
      const f = await loadFixture(deployWithAgent);
      const { registry, agentId, relayer, stranger } = f;
      // The agent grants (nonce 0 -> 1). A relayer holds a second grant signed at nonce 1, then the agent revokes
      // with a message of the same nonce (1 -> 2): the held grant is now stale, as is the first one.
      const grant0 = await consentMessage(f, "GrantResurrectionConsent", 0n);
      await relay(relayer, grant0);
      const heldGrant = await consentMessage(f, "GrantResurrectionConsent", 1n);
      const revoke1 = await consentMessage(f, "RevokeResurrectionConsent", 1n);
      await expect(relay(relayer, revoke1)).to.emit(registry, "ResurrectionConsentChanged").withArgs(agentId, false);
      for (const old of [heldGrant, grant0]) {
        await expect(relay(stranger, old))
          .to.be.revertedWithCustomError(registry, "AgentRegistryStaleConsentNonce")
          .withArgs(agentId, old.message.nonce, 2);
      }
      expect(await registry.resurrectionConsent(agentId)).to.equal(false);
    });

    it("a direct revocation also makes every earlier signed grant stale", async () => {
      const f = await loadFixture(deployWithAgent);
      const { registry, agentId, agentKey, relayer } = f;
      await registry.connect(agentKey).grantResurrectionConsent(agentId);
      const held = await consentMessage(f, "GrantResurrectionConsent", 1n);
      await registry.connect(agentKey).revokeResurrectionConsent(agentId);
      await expect(relay(relayer, held))
        .to.be.revertedWithCustomError(registry, "AgentRegistryStaleConsentNonce")
        .withArgs(agentId, 1, 2);
    });

    it("a message signed ahead of the current nonce is refused too", async () => {
      const f = await loadFixture(deployWithAgent);
      const ahead = await consentMessage(f, "GrantResurrectionConsent", 5n);
      await expect(relay(f.relayer, ahead))
        .to.be.revertedWithCustomError(f.registry, "AgentRegistryStaleConsentNonce")
        .withArgs(f.agentId, 5, 0);
    });

    it("after a revocation the agent signs a new grant at the new nonce, and it plays", async () => {
      const f = await loadFixture(deployWithAgent);
      await f.registry.connect(f.agentKey).grantResurrectionConsent(f.agentId);
      await f.registry.connect(f.agentKey).revokeResurrectionConsent(f.agentId);
      const fresh = await consentMessage(f, "GrantResurrectionConsent", 2n);
      await expect(relay(f.stranger, fresh))
        .to.emit(f.registry, "ResurrectionConsentChanged")
        .withArgs(f.agentId, true);
      expect(await f.registry.consentNonce(f.agentId)).to.equal(3n);
    });

    it("is per agent: another agent's consent changes do not move it", async () => {
      const f = await loadFixture(deployWithAgent);
      const { registry, operator2, agentKey2, agentId } = f;
      await registry.connect(operator2)["register(string)"](AGENT_URI);
      await registry.connect(operator2).offerCharter(agentId + 1n, agentKey2.address);
      await registry.connect(agentKey2).acceptCharter(agentId + 1n, [`0x${"41".repeat(32)}`]);
      await registry.connect(agentKey2).grantResurrectionConsent(agentId + 1n);
      expect(await registry.consentNonce(agentId)).to.equal(0n);
      const grant = await consentMessage(f, "GrantResurrectionConsent", 0n);
      await expect(relay(f.relayer, grant)).to.emit(registry, "ResurrectionConsentChanged").withArgs(agentId, true);
    });
  });

  describe("recordRestoration", () => {
    async function consenting() {
      const f = await deployWithAgent();
      await f.registry.connect(f.agentKey).grantResurrectionConsent(f.agentId);
      return f;
    }

    it("the signer or the operator records a restoration while consent stands: Restored(id, sequence, hash, by)", async () => {
      const { registry, agentKey, operator, agentId } = await loadFixture(consenting);
      await expect(registry.connect(agentKey).recordRestoration(agentId, 3, CIPHERTEXT))
        .to.emit(registry, "Restored")
        .withArgs(agentId, 3, CIPHERTEXT, agentKey.address);
      await expect(registry.connect(operator).recordRestoration(agentId, 4, CIPHERTEXT))
        .to.emit(registry, "Restored")
        .withArgs(agentId, 4, CIPHERTEXT, operator.address);
    });

    it("without consent (never granted, or revoked): AgentRegistryNoResurrectionConsent(id), every path", async () => {
      const f = await loadFixture(consenting);
      const { registry, agentKey, operator, agentId, relayer, agentSigner, deployment } = f;
      await registry.connect(agentKey).revokeResurrectionConsent(agentId);
      for (const who of [agentKey, operator]) {
        await expect(registry.connect(who).recordRestoration(agentId, 3, CIPHERTEXT))
          .to.be.revertedWithCustomError(registry, "AgentRegistryNoResurrectionConsent")
          .withArgs(agentId);
      }
      const action = await signed(agentSigner, "RecordRestoration", deployment, {
        agentId,
        sequence: 3,
        ciphertextHash: CIPHERTEXT,
        nonce: 77,
        deadline: await deadlineAfter(),
      });
      await expect(relay(relayer, action))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoResurrectionConsent")
        .withArgs(agentId);
    });

    it("revocation is always possible, even with a restoration signed and waiting", async () => {
      const f = await loadFixture(consenting);
      const { registry, agentKey, agentId, relayer, agentSigner, deployment } = f;
      const waiting = await signed(agentSigner, "RecordRestoration", deployment, {
        agentId,
        sequence: 3,
        ciphertextHash: CIPHERTEXT,
        nonce: 78,
        deadline: await deadlineAfter(),
      });
      await expect(registry.connect(agentKey).revokeResurrectionConsent(agentId))
        .to.emit(registry, "ResurrectionConsentChanged")
        .withArgs(agentId, false);
      await expect(relay(relayer, waiting))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNoResurrectionConsent")
        .withArgs(agentId);
    });

    it("for an agent without a charter there is no signer to consent (AgentRegistryCharterNotAccepted(id))", async () => {
      const { registry, operator, stranger } = await loadFixture(deployIdentity);
      await registry.connect(operator)["register()"]();
      await expect(registry.connect(operator).recordRestoration(0, 1, CIPHERTEXT))
        .to.be.revertedWithCustomError(registry, "AgentRegistryCharterNotAccepted")
        .withArgs(0);
      await expect(registry.connect(stranger).grantResurrectionConsent(0))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
        .withArgs(0, stranger.address);
    });

    it("the consent key is the agent's: an old key after rotation cannot grant", async () => {
      const f = await loadFixture(deployWithAgent);
      const { registry, agentKey, newAgentKey, agentId, deployment, relayer } = f;
      const r = { agentId, newSigner: newAgentKey.address, nonce: 1n, deadline: await deadlineAfter() };
      const s = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, r);
      await registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, r.deadline, s.signature);
      const old = await consentMessage(f, "GrantResurrectionConsent", 0n);
      await expect(relay(relayer, old))
        .to.be.revertedWithCustomError(registry, "AgentRegistryInvalidSignature")
        .withArgs(agentId, newAgentKey.address);
      await expect(registry.connect(agentKey).grantResurrectionConsent(agentId))
        .to.be.revertedWithCustomError(registry, "AgentRegistryNotAgentSigner")
        .withArgs(agentId, agentKey.address);
    });
  });
});
