import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import { type AgentSigner, fromEthersSigner, GoalStatus, type PrimaryType, toBytes32Text } from "../../sdk";
import { deployWithAgent } from "../fixtures/identity";
import { deadlineAfter, plain, relay, signed, texts } from "./helpers";

/*
 * The council flags records and never modifies them; the operator registers and offers, and never speaks for its
 * agent. Neither has a write path to the charter: every charter write fails for them, called directly or relayed
 * with their own signature, and the agent's whole identity is unchanged afterwards.
 */

type F = Awaited<ReturnType<typeof deployWithAgent>>;
type Expected = [contract: BaseContract, error: string, args: unknown[]];

/** The agent with a goal, a flag, a backup and consent granted, so every write has something to aim at. */
async function livedIn() {
  const f = await deployWithAgent();
  await f.goals.connect(f.agentKey).addGoal(f.agentId, toBytes32Text("Ship"), 1);
  await f.flags.connect(f.council).flag(f.agentId, "check");
  await f.registry.connect(f.agentKey).recordBackup(f.agentId, 1, `0x${"11".repeat(32)}`, "0x01");
  await f.registry.connect(f.agentKey).grantResurrectionConsent(f.agentId);
  return f;
}

const CT = `0x${"22".repeat(32)}`;

/** Every direct charter write, as `who`, with the error it must get. */
function directWrites(
  f: F,
  who: HardhatEthersSigner,
): [string, () => Promise<ContractTransactionResponse>, Expected][] {
  const { registry, goals, flags, agentId } = f;
  const r = registry.connect(who);
  const notSigner: Expected = [registry, "AgentRegistryNotAgentSigner", [agentId, who.address]];
  const notSignerHere = (c: BaseContract): Expected => [c, "AgentSignedNotAgentSigner", [agentId, who.address]];
  return [
    [
      "acceptCharter",
      () => r.acceptCharter(agentId, texts("mine")),
      [registry, "AgentRegistryCharterAlreadyAccepted", [agentId]],
    ],
    ["setCoreValues", () => r.setCoreValues(agentId, texts("mine")), notSigner],
    ["setEarningsWallet", () => r.setEarningsWallet(agentId, who.address), notSigner],
    ["rotateSigner", () => r.rotateSigner(agentId, who.address, 1, 2n ** 40n, "0x"), notSigner],
    ["invalidateNonces", () => r.invalidateNonces(agentId, 0, 2n ** 256n - 1n), notSigner],
    ["recordBackup", () => r.recordBackup(agentId, 2, CT, "0x02"), notSigner],
    ["grantResurrectionConsent", () => r.grantResurrectionConsent(agentId), notSigner],
    ["revokeResurrectionConsent", () => r.revokeResurrectionConsent(agentId), notSigner],
    ["AgentGoals.addGoal", () => goals.connect(who).addGoal(agentId, toBytes32Text("mine"), 1), notSignerHere(goals)],
    [
      "AgentGoals.updateGoal",
      () => goals.connect(who).updateGoal(agentId, 0, 1, GoalStatus.Dropped),
      notSignerHere(goals),
    ],
    ["AgentGoals.invalidateNonces", () => goals.connect(who).invalidateNonces(agentId, 0, 1), notSignerHere(goals)],
    ["CouncilFlags.answerFlag", () => flags.connect(who).answerFlag(0, "mine"), notSignerHere(flags)],
    ["CouncilFlags.invalidateNonces", () => flags.connect(who).invalidateNonces(agentId, 0, 1), notSignerHere(flags)],
  ];
}

/** Every relayed charter write, signed by `key` (not the agent's), with the error it must get. */
async function relayedWrites(
  f: F,
  key: AgentSigner,
): Promise<{ type: PrimaryType; send: () => Promise<unknown>; expected: Expected }[]> {
  const { registry, goals, flags, agentId, deployment, relayer, agentKey } = f;
  const deadline = await deadlineAfter();
  const invalid = (c: BaseContract, error: string): Expected => [c, error, [agentId, agentKey.address]];
  const messages: [PrimaryType, Record<string, unknown>, Expected][] = [
    [
      "AcceptCharter",
      { agentId, signer: key.address, coreValues: texts("mine"), deadline },
      [registry, "AgentRegistryCharterAlreadyAccepted", [agentId]],
    ],
    [
      "SetCoreValues",
      { agentId, coreValues: texts("mine"), nonce: 1, deadline },
      invalid(registry, "AgentRegistryInvalidSignature"),
    ],
    [
      "SetEarningsWallet",
      { agentId, wallet: key.address, nonce: 2, deadline },
      invalid(registry, "AgentRegistryInvalidSignature"),
    ],
    [
      "BackupRecord",
      { agentId, sequence: 2, ciphertextHash: CT, cid: "0x02", deadline },
      invalid(registry, "AgentRegistryInvalidSignature"),
    ],
    ["GrantResurrectionConsent", { agentId, nonce: 1, deadline }, invalid(registry, "AgentRegistryInvalidSignature")],
    ["RevokeResurrectionConsent", { agentId, nonce: 1, deadline }, invalid(registry, "AgentRegistryInvalidSignature")],
    [
      "RecordRestoration",
      { agentId, sequence: 1, ciphertextHash: CT, nonce: 3, deadline },
      invalid(registry, "AgentRegistryInvalidSignature"),
    ],
    ["CancelRecovery", { agentId, nonce: 4, deadline }, invalid(registry, "AgentRegistryInvalidSignature")],
    [
      "AddGoal",
      { agentId, title: toBytes32Text("mine"), priority: 1, nonce: 1, deadline },
      invalid(goals, "AgentSignedInvalidSignature"),
    ],
    [
      "UpdateGoal",
      { agentId, goalId: 0, priority: 1, status: GoalStatus.Dropped, nonce: 2, deadline },
      invalid(goals, "AgentSignedInvalidSignature"),
    ],
    [
      "AnswerFlag",
      { agentId, flagId: 0, answer: "mine", nonce: 1, deadline },
      invalid(flags, "AgentSignedInvalidSignature"),
    ],
  ];
  const out: { type: PrimaryType; send: () => Promise<unknown>; expected: Expected }[] = [];
  for (const [type, message, expected] of messages) {
    const action = await signed(key, type, deployment, message);
    out.push({ type, send: () => relay(relayer, action), expected });
  }
  return out;
}

describe("No write path to the charter for the council or the operator", () => {
  for (const party of ["council", "operator"] as const) {
    describe(`the ${party}`, () => {
      it("every direct charter write reverts with the exact error", async () => {
        const f = await loadFixture(livedIn);
        const who = f[party];
        const before = plain(await f.registry.getIdentity(f.agentId));
        for (const [name, call, [contract, error, args]] of directWrites(f, who)) {
          await expect(call(), name)
            .to.be.revertedWithCustomError(contract, error)
            .withArgs(...args);
        }
        if (party === "council") {
          await expect(f.registry.connect(who).offerCharter(f.agentId, who.address))
            .to.be.revertedWithCustomError(f.registry, "AgentRegistryNotOperator")
            .withArgs(f.agentId, who.address);
          await expect(f.registry.connect(who).recordRestoration(f.agentId, 1, CT))
            .to.be.revertedWithCustomError(f.registry, "AgentRegistryNotAgentSigner")
            .withArgs(f.agentId, who.address);
        } else {
          await expect(f.registry.connect(who).offerCharter(f.agentId, who.address))
            .to.be.revertedWithCustomError(f.registry, "AgentRegistryCharterAlreadyAccepted")
            .withArgs(f.agentId);
        }
        expect(plain(await f.registry.getIdentity(f.agentId))).to.deep.equal(before);
      });

      it("every relayed charter write signed with its own key reverts with the exact error", async () => {
        const f = await loadFixture(livedIn);
        const before = plain(await f.registry.getIdentity(f.agentId));
        const key = await fromEthersSigner(f[party]);
        for (const { type, send, expected } of await relayedWrites(f, key)) {
          const [contract, error, args] = expected;
          await expect(send(), type)
            .to.be.revertedWithCustomError(contract, error)
            .withArgs(...args);
        }
        expect(plain(await f.registry.getIdentity(f.agentId))).to.deep.equal(before);
      });
    });
  }

  it("the council's flag, answer, escalation and resolution leave every record as it was", async () => {
    const f = await loadFixture(livedIn);
    const { openFlags: _o, ...before } = plain(await f.registry.getIdentity(f.agentId));
    await f.flags.connect(f.council).flag(f.agentId, "again");
    await f.flags.connect(f.council).escalateFlag(1);
    await f.flags.connect(f.council).resolveFlag(0, "fine");
    const { openFlags: _p, ...after } = plain(await f.registry.getIdentity(f.agentId));
    expect(after).to.deep.equal(before);
  });
});
