import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { id, keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import { fromEthersSigner } from "../../sdk";
import { deployWithAgent } from "../fixtures/identity";
import { shouldBehaveLikeAgentSignedAction } from "./agentSigned.behavior";
import { deadlineAfter, minedAt, plain, relay, signed } from "./helpers";

/** ICouncilFlags.FlagStatus */
const Status = { None: 0, Open: 1, Answered: 2, Resolved: 3, Escalated: 4 } as const;
const COUNCIL_ROLE = id("COUNCIL_ROLE");
const ADMIN_ROLE = ZeroHash;
const REASON = "Core value 2 contradicts the earnings split";
const ANSWER = "The split was set by my operator with my signature; see tx 0xabc";

async function flaggedAgent() {
  const f = await deployWithAgent();
  await f.flags.connect(f.council).flag(f.agentId, REASON);
  return { ...f, flagId: 0n };
}

async function answeredFlag() {
  const f = await flaggedAgent();
  await f.flags.connect(f.agentKey).answerFlag(f.flagId, ANSWER);
  return f;
}

async function escalatedFlag() {
  const f = await answeredFlag();
  await f.flags.connect(f.council).escalateFlag(f.flagId);
  return f;
}

describe("CouncilFlags", () => {
  describe("agent-signed actions", () => {
    shouldBehaveLikeAgentSignedAction({
      primaryType: "AnswerFlag",
      guard: "nonce",
      otherType: { primaryType: "AnswerFlagV2" },
      // Flag 0 is the one answered; flag 1 lets another answer go ahead of a withheld one.
      setup: async (env) => {
        await env.flags.connect(env.council).flag(env.agentId, REASON);
        await env.flags.connect(env.council).flag(env.agentId, "a second flag");
      },
      fields: (env) => ({ agentId: env.agentId, flagId: 0n, answer: ANSWER }),
      filler: (env) => ({
        primaryType: "AnswerFlag",
        fields: { agentId: env.agentId, flagId: 1n, answer: "answer to the second flag" },
      }),
      directCall: (env, m) => env.flags.interface.encodeFunctionData("answerFlag", [m.flagId as bigint, ANSWER]),
      expectEffect: async (env, send, sent) => {
        const tx = send();
        await expect(tx).to.emit(env.flags, "FlagAnswered").withArgs(sent.message.flagId, env.agentId, ANSWER);
        const at = await minedAt(tx);
        const flag = await env.flags.getFlag(sent.message.flagId as bigint);
        expect(flag.status).to.equal(BigInt(Status.Answered));
        expect(flag.answerHash).to.equal(keccak256(toUtf8Bytes(ANSWER)));
        expect(flag.updatedAt).to.equal(BigInt(at));
      },
    });
  });

  describe("flag", () => {
    it("the council flags a record: Flagged(flagId, agentId, council, reason), ids from 0, stored", async () => {
      const { flags, council, agentId, registry } = await loadFixture(deployWithAgent);
      const tx = flags.connect(council).flag(agentId, REASON);
      await expect(tx).to.emit(flags, "Flagged").withArgs(0, agentId, council.address, REASON);
      const at = await minedAt(tx);
      const flag = await flags.getFlag(0);
      expect([flag.agentId, flag.status, flag.openedAt, flag.updatedAt, flag.council]).to.deep.equal([
        agentId,
        BigInt(Status.Open),
        BigInt(at),
        BigInt(at),
        council.address,
      ]);
      expect(flag.reasonHash).to.equal(keccak256(toUtf8Bytes(REASON)));
      expect(flag.answerHash).to.equal(ZeroHash);
      expect(await flags.flagCount()).to.equal(1n);
      await expect(flags.connect(council).flag(agentId, "again"))
        .to.emit(flags, "Flagged")
        .withArgs(1, agentId, council.address, "again");
      expect(await flags.openFlags(agentId)).to.deep.equal([0n, 1n]);
      expect((await registry.getIdentity(agentId)).openFlags).to.deep.equal([0n, 1n]);
    });

    it("anyone else: CouncilFlagsUnauthorized(caller, COUNCIL_ROLE)", async () => {
      const { flags, agentId, operator, relayer, stranger, deployer, agentKey } = await loadFixture(deployWithAgent);
      for (const who of [operator, relayer, stranger, deployer, agentKey]) {
        await expect(flags.connect(who).flag(agentId, REASON))
          .to.be.revertedWithCustomError(flags, "CouncilFlagsUnauthorized")
          .withArgs(who.address, COUNCIL_ROLE);
      }
    });

    it("an agent that does not exist: CouncilFlagsNonexistentAgent(agentId)", async () => {
      const { flags, council, agentId } = await loadFixture(deployWithAgent);
      await expect(flags.connect(council).flag(agentId + 1n, REASON))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsNonexistentAgent")
        .withArgs(agentId + 1n);
    });

    it("a registered agent without a charter can be flagged too", async () => {
      const { flags, council, registry, operator2 } = await loadFixture(deployWithAgent);
      await registry.connect(operator2)["register()"]();
      await expect(flags.connect(council).flag(1, REASON))
        .to.emit(flags, "Flagged")
        .withArgs(0, 1, council.address, REASON);
    });
  });

  describe("answer", () => {
    it("takes one answer: a second one is CouncilFlagsInvalidStatus(flagId, Answered)", async () => {
      const { flags, agentKey, flagId } = await loadFixture(answeredFlag);
      await expect(flags.connect(agentKey).answerFlag(flagId, "changed my mind"))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
        .withArgs(flagId, Status.Answered);
    });

    it("a relayed second answer is refused the same way (after its signature is checked)", async () => {
      const { flags, agentKey, agentId, flagId, deployment, stranger } = await loadFixture(answeredFlag);
      const action = await signed(await fromEthersSigner(agentKey), "AnswerFlag", deployment, {
        agentId,
        flagId,
        answer: "again",
        nonce: 9,
        deadline: await deadlineAfter(),
      });
      await expect(relay(stranger, action))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
        .withArgs(flagId, Status.Answered);
    });

    it("an escalated or resolved flag takes no answer", async () => {
      const { flags, agentKey, council, agentId } = await loadFixture(deployWithAgent);
      await flags.connect(council).flag(agentId, REASON);
      await flags.connect(council).escalateFlag(0);
      await expect(flags.connect(agentKey).answerFlag(0, ANSWER))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
        .withArgs(0, Status.Escalated);
      await flags.connect(council).flag(agentId, REASON);
      await flags.connect(council).resolveFlag(1, "withdrawn");
      await expect(flags.connect(agentKey).answerFlag(1, ANSWER))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
        .withArgs(1, Status.Resolved);
    });

    it("a relayed answer signed with another flag's id does not answer this one", async () => {
      const { flags, agentKey, agentId, council, deployment, stranger } = await loadFixture(flaggedAgent);
      await flags.connect(council).flag(agentId, "second");
      const action = await signed(await fromEthersSigner(agentKey), "AnswerFlag", deployment, {
        agentId,
        flagId: 0n,
        answer: ANSWER,
        nonce: 3,
        deadline: await deadlineAfter(),
      });
      const data = flags.interface.encodeFunctionData("answerFlagBySig", [
        1n,
        ANSWER,
        3n,
        action.message.deadline as bigint,
        action.signature,
      ]);
      await expect(stranger.sendTransaction({ to: await flags.getAddress(), data }))
        .to.be.revertedWithCustomError(flags, "AgentSignedInvalidSignature")
        .withArgs(agentId, agentKey.address);
    });
  });

  describe("resolve", () => {
    for (const [label, fixture] of [
      ["an open flag", flaggedAgent],
      ["an answered flag", answeredFlag],
    ] as const) {
      it(`the council resolves ${label}: FlagResolved(flagId, agentId, council, note); it leaves openFlags`, async () => {
        const { flags, council, agentId, flagId, registry } = await loadFixture(fixture);
        const tx = flags.connect(council).resolveFlag(flagId, "record is fine");
        await expect(tx).to.emit(flags, "FlagResolved").withArgs(flagId, agentId, council.address, "record is fine");
        const flag = await flags.getFlag(flagId);
        expect(flag.status).to.equal(BigInt(Status.Resolved));
        expect(flag.updatedAt).to.equal(BigInt(await minedAt(tx)));
        expect(await flags.openFlags(agentId)).to.deep.equal([]);
        expect((await registry.getIdentity(agentId)).openFlags).to.deep.equal([]);
      });

      it(`nobody else resolves ${label}: CouncilFlagsUnauthorized(caller, COUNCIL_ROLE)`, async () => {
        const { flags, flagId, operator, agentKey, stranger, deployer, relayer } = await loadFixture(fixture);
        for (const who of [operator, agentKey, stranger, deployer, relayer]) {
          await expect(flags.connect(who).resolveFlag(flagId, "no"))
            .to.be.revertedWithCustomError(flags, "CouncilFlagsUnauthorized")
            .withArgs(who.address, COUNCIL_ROLE);
        }
      });
    }

    it("an escalated flag is resolved by the admin (governance) only", async () => {
      const { flags, council, deployer, agentId, flagId, operator, agentKey } = await loadFixture(escalatedFlag);
      for (const who of [council, operator, agentKey]) {
        await expect(flags.connect(who).resolveFlag(flagId, "closing"))
          .to.be.revertedWithCustomError(flags, "CouncilFlagsUnauthorized")
          .withArgs(who.address, ADMIN_ROLE);
      }
      await expect(flags.connect(deployer).resolveFlag(flagId, "governance decided"))
        .to.emit(flags, "FlagResolved")
        .withArgs(flagId, agentId, deployer.address, "governance decided");
      expect((await flags.getFlag(flagId)).status).to.equal(BigInt(Status.Resolved));
    });

    it("a resolved flag is final: CouncilFlagsInvalidStatus(flagId, Resolved) for everyone", async () => {
      const { flags, council, deployer, agentKey, flagId } = await loadFixture(escalatedFlag);
      await flags.connect(deployer).resolveFlag(flagId, "done");
      for (const who of [council, deployer]) {
        await expect(flags.connect(who).resolveFlag(flagId, "again"))
          .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
          .withArgs(flagId, Status.Resolved);
      }
      for (const who of [council, agentKey]) {
        await expect(flags.connect(who).escalateFlag(flagId))
          .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
          .withArgs(flagId, Status.Resolved);
      }
    });
  });

  describe("escalate", () => {
    for (const [label, fixture] of [
      ["an open flag", flaggedAgent],
      ["an answered flag", answeredFlag],
    ] as const) {
      it(`the council escalates ${label}: FlagEscalated(flagId, agentId, council); it stays in openFlags`, async () => {
        const { flags, council, agentId, flagId } = await loadFixture(fixture);
        await expect(flags.connect(council).escalateFlag(flagId))
          .to.emit(flags, "FlagEscalated")
          .withArgs(flagId, agentId, council.address);
        expect((await flags.getFlag(flagId)).status).to.equal(BigInt(Status.Escalated));
        expect(await flags.openFlags(agentId)).to.deep.equal([flagId]);
      });
    }

    it("the agent appeals an answered flag: FlagEscalated(flagId, agentId, signer)", async () => {
      const { flags, agentKey, agentId, flagId } = await loadFixture(answeredFlag);
      await expect(flags.connect(agentKey).escalateFlag(flagId))
        .to.emit(flags, "FlagEscalated")
        .withArgs(flagId, agentId, agentKey.address);
      expect((await flags.getFlag(flagId)).status).to.equal(BigInt(Status.Escalated));
    });

    it("the agent cannot appeal before answering: CouncilFlagsInvalidStatus(flagId, Open)", async () => {
      const { flags, agentKey, flagId } = await loadFixture(flaggedAgent);
      await expect(flags.connect(agentKey).escalateFlag(flagId))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
        .withArgs(flagId, Status.Open);
    });

    it("an escalated flag cannot be escalated again", async () => {
      const { flags, agentKey, council, flagId } = await loadFixture(escalatedFlag);
      for (const who of [agentKey, council]) {
        await expect(flags.connect(who).escalateFlag(flagId))
          .to.be.revertedWithCustomError(flags, "CouncilFlagsInvalidStatus")
          .withArgs(flagId, Status.Escalated);
      }
    });

    it("anyone else: AgentSignedNotAgentSigner(agentId, caller)", async () => {
      const { flags, agentId, flagId, operator, stranger, deployer, relayer } = await loadFixture(answeredFlag);
      for (const who of [operator, stranger, deployer, relayer]) {
        await expect(flags.connect(who).escalateFlag(flagId))
          .to.be.revertedWithCustomError(flags, "AgentSignedNotAgentSigner")
          .withArgs(agentId, who.address);
      }
    });
  });

  describe("unknown flag ids: CouncilFlagsUnknownFlag(flagId)", () => {
    it("for every read and write", async () => {
      const { flags, council, agentKey, agentId, deployer, deployment, stranger } = await loadFixture(flaggedAgent);
      const unknown = 1n;
      await expect(flags.getFlag(unknown))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
      await expect(flags.connect(agentKey).answerFlag(unknown, ANSWER))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
      await expect(flags.connect(council).resolveFlag(unknown, "x"))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
      await expect(flags.connect(deployer).resolveFlag(unknown, "x"))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
      await expect(flags.connect(council).escalateFlag(unknown))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
      const action = await signed(await fromEthersSigner(agentKey), "AnswerFlag", deployment, {
        agentId,
        flagId: unknown,
        answer: ANSWER,
        nonce: 1,
        deadline: await deadlineAfter(),
      });
      await expect(relay(stranger, action))
        .to.be.revertedWithCustomError(flags, "CouncilFlagsUnknownFlag")
        .withArgs(unknown);
    });
  });

  describe("a flag never changes a record", () => {
    it("the whole identity except openFlags is the same after open → answered → escalated → resolved", async () => {
      const { flags, council, deployer, agentKey, agentId, registry } = await loadFixture(deployWithAgent);
      const { openFlags: _before, ...before } = plain(await registry.getIdentity(agentId));
      await flags.connect(council).flag(agentId, REASON);
      await flags.connect(agentKey).answerFlag(0, ANSWER);
      await flags.connect(council).escalateFlag(0);
      await flags.connect(deployer).resolveFlag(0, "resolved");
      const { openFlags: _after, ...after } = plain(await registry.getIdentity(agentId));
      expect(after).to.deep.equal(before);
      expect(await flags.flagCount()).to.equal(1n);
    });
  });

  it("reports its EIP-712 domain (ERC-5267) as the SDK signs it", async () => {
    const { flags, deployment } = await loadFixture(deployWithAgent);
    const domain = await flags.eip712Domain();
    expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([
      "Covenant CouncilFlags",
      "1",
      BigInt(deployment.chainId),
      deployment.flags,
    ]);
  });
});
