import { loadFixture, setStorageAt } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { AbiCoder, keccak256, ZeroHash } from "ethers";
import { fromEthersSigner, GoalStatus, toBytes32Text } from "../../sdk";
import { deployWithAgent } from "../fixtures/identity";
import { shouldBehaveLikeAgentSignedAction } from "./agentSigned.behavior";
import { deadlineAfter, minedAt, nextGoalHead, relay, signed } from "./helpers";

const TITLE = toBytes32Text("Ship the backup keeper");

describe("AgentGoals", () => {
  describe("agent-signed actions", () => {
    shouldBehaveLikeAgentSignedAction({
      primaryType: "AddGoal",
      guard: "nonce",
      otherType: { primaryType: "AddGoalV2" },
      fields: (env) => ({ agentId: env.agentId, title: TITLE, priority: 7 }),
      directCall: (env, m) =>
        env.goals.interface.encodeFunctionData("addGoal", [env.agentId, TITLE, m.priority as number]),
      expectEffect: async (env, send, sent) => {
        const goalId = await env.goals.goalCount(env.agentId);
        const prevHead = await env.goals.goalsHead(env.agentId);
        const tx = send();
        const at = await minedAt(tx);
        const head = nextGoalHead(prevHead, goalId, TITLE, 7, GoalStatus.Active, at);
        await expect(tx)
          .to.emit(env.goals, "GoalChanged")
          .withArgs(env.agentId, goalId, TITLE, sent.message.priority, GoalStatus.Active, head);
        const goal = await env.goals.goal(env.agentId, goalId);
        expect([goal.title, goal.priority, goal.status, goal.createdAt, goal.updatedAt]).to.deep.equal([
          TITLE,
          7n,
          BigInt(GoalStatus.Active),
          BigInt(at),
          BigInt(at),
        ]);
        expect(await env.goals.goalsHead(env.agentId)).to.equal(head);
        expect(await env.goals.goalCount(env.agentId)).to.equal(goalId + 1n);
      },
    });

    shouldBehaveLikeAgentSignedAction({
      primaryType: "UpdateGoal",
      guard: "nonce",
      otherType: { primaryType: "UpdateGoalV2" },
      setup: async (env) => {
        await env.asAgent(
          env.deployment.goals as string,
          env.goals.interface.encodeFunctionData("addGoal", [env.agentId, TITLE, 5]),
        );
      },
      fields: (env) => ({ agentId: env.agentId, goalId: 0n, priority: 9, status: GoalStatus.Done }),
      directCall: (env, m) =>
        env.goals.interface.encodeFunctionData("updateGoal", [
          env.agentId,
          m.goalId as bigint,
          m.priority as number,
          m.status as number,
        ]),
      expectEffect: async (env, send, sent) => {
        const before = await env.goals.goal(env.agentId, 0n);
        const prevHead = await env.goals.goalsHead(env.agentId);
        const tx = send();
        const at = await minedAt(tx);
        const head = nextGoalHead(prevHead, 0n, TITLE, 9, GoalStatus.Done, at);
        await expect(tx)
          .to.emit(env.goals, "GoalChanged")
          .withArgs(env.agentId, 0n, TITLE, sent.message.priority, sent.message.status, head);
        const goal = await env.goals.goal(env.agentId, 0n);
        expect(goal.status).to.equal(BigInt(GoalStatus.Done));
        expect(goal.priority).to.equal(9n);
        expect(goal.createdAt).to.equal(before.createdAt);
        expect(goal.updatedAt).to.equal(BigInt(at));
        expect(await env.goals.goalsHead(env.agentId)).to.equal(head);
      },
    });
  });

  describe("goal life cycle", () => {
    it("reprioritises an active goal and keeps it active; done and dropped are final", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      await goals.connect(agentKey).addGoal(agentId, TITLE, 1);
      await expect(goals.connect(agentKey).updateGoal(agentId, 0, 50, GoalStatus.Active))
        .to.emit(goals, "GoalChanged")
        .withArgs(agentId, 0, TITLE, 50, GoalStatus.Active, (h: string) => h !== ZeroHash);
      await goals.connect(agentKey).updateGoal(agentId, 0, 50, GoalStatus.Dropped);
      for (const status of [GoalStatus.Active, GoalStatus.Done, GoalStatus.Dropped]) {
        await expect(goals.connect(agentKey).updateGoal(agentId, 0, 1, status))
          .to.be.revertedWithCustomError(goals, "AgentGoalsGoalClosed")
          .withArgs(agentId, 0);
      }
    });

    it("refuses the status None: AgentGoalsInvalidStatus(0)", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      await goals.connect(agentKey).addGoal(agentId, TITLE, 1);
      await expect(goals.connect(agentKey).updateGoal(agentId, 0, 1, GoalStatus.None))
        .to.be.revertedWithCustomError(goals, "AgentGoalsInvalidStatus")
        .withArgs(GoalStatus.None);
    });

    it("refuses an empty title: AgentGoalsEmptyTitle", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      await expect(goals.connect(agentKey).addGoal(agentId, ZeroHash, 1)).to.be.revertedWithCustomError(
        goals,
        "AgentGoalsEmptyTitle",
      );
    });

    it("refuses unknown goal ids: AgentGoalsUnknownGoal(agentId, goalId), for update and read", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      await goals.connect(agentKey).addGoal(agentId, TITLE, 1);
      await expect(goals.connect(agentKey).updateGoal(agentId, 1, 1, GoalStatus.Done))
        .to.be.revertedWithCustomError(goals, "AgentGoalsUnknownGoal")
        .withArgs(agentId, 1);
      await expect(goals.goal(agentId, 1))
        .to.be.revertedWithCustomError(goals, "AgentGoalsUnknownGoal")
        .withArgs(agentId, 1);
      await expect(goals.goal(agentId + 1n, 0))
        .to.be.revertedWithCustomError(goals, "AgentGoalsUnknownGoal")
        .withArgs(agentId + 1n, 0);
    });

    it("stops at MAX_GOALS: AgentGoalsLimitReached(agentId)", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      expect(await goals.MAX_GOALS()).to.equal(256n);
      // _goalCounts lives at slot 4 (EIP712's two fallback strings, then the nonce bitmaps, then _goals); the read
      // back below proves the slot, so the limit is reached without 256 transactions.
      const slot = keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [agentId, 4]));
      await setStorageAt(await goals.getAddress(), slot, 255);
      expect(await goals.goalCount(agentId)).to.equal(255n);
      await expect(goals.connect(agentKey).addGoal(agentId, TITLE, 1))
        .to.emit(goals, "GoalChanged")
        .withArgs(agentId, 255, TITLE, 1, GoalStatus.Active, (h: string) => h !== ZeroHash);
      await expect(goals.connect(agentKey).addGoal(agentId, TITLE, 1))
        .to.be.revertedWithCustomError(goals, "AgentGoalsLimitReached")
        .withArgs(agentId);
    });

    it("keeps the whole history under a running hash that the events recompute", async () => {
      const { goals, agentId, agentKey } = await loadFixture(deployWithAgent);
      await goals.connect(agentKey).addGoal(agentId, TITLE, 3);
      await goals.connect(agentKey).addGoal(agentId, toBytes32Text("Learn Rust"), 2);
      await goals.connect(agentKey).updateGoal(agentId, 0, 8, GoalStatus.Active);
      await goals.connect(agentKey).updateGoal(agentId, 1, 2, GoalStatus.Dropped);
      await goals.connect(agentKey).updateGoal(agentId, 0, 8, GoalStatus.Done);
      const events = await goals.queryFilter(goals.filters.GoalChanged(agentId));
      expect(events).to.have.length(5);
      let head: string = ZeroHash;
      for (const e of events) {
        const block = await e.getBlock();
        head = nextGoalHead(head, e.args.goalId, e.args.title, e.args.priority, Number(e.args.status), block.timestamp);
        expect(e.args.head).to.equal(head);
      }
      expect(await goals.goalsHead(agentId)).to.equal(head);
      const list = await goals.goals(agentId);
      expect(list.map((g) => [g.title, g.priority, g.status])).to.deep.equal([
        [TITLE, 8n, BigInt(GoalStatus.Done)],
        [toBytes32Text("Learn Rust"), 2n, BigInt(GoalStatus.Dropped)],
      ]);
    });
  });

  describe("who is the agent signer", () => {
    it("an agent without an accepted charter has no signer: direct NotAgentSigner, relayed InvalidSignature(agentId, 0)", async () => {
      const { goals, registry, operator2, stranger, agentKey, deployment } = await loadFixture(deployWithAgent);
      const agentId = await registry.connect(operator2)["register()"].staticCall();
      await registry.connect(operator2)["register()"]();
      await registry.connect(operator2).offerCharter(agentId, agentKey.address);
      await expect(goals.connect(agentKey).addGoal(agentId, TITLE, 1))
        .to.be.revertedWithCustomError(goals, "AgentSignedNotAgentSigner")
        .withArgs(agentId, agentKey.address);
      const action = await signed(await fromEthersSigner(agentKey), "AddGoal", deployment, {
        agentId,
        title: TITLE,
        priority: 1,
        nonce: 1,
        deadline: await deadlineAfter(),
      });
      await expect(relay(stranger, action))
        .to.be.revertedWithCustomError(goals, "AgentSignedInvalidSignature")
        .withArgs(agentId, "0x0000000000000000000000000000000000000000");
    });

    it("another agent's signer cannot write this agent's goals", async () => {
      const { goals, registry, operator2, agentKey, agentKey2, agentId, deployment, stranger } =
        await loadFixture(deployWithAgent);
      const otherId = await registry.connect(operator2)["register()"].staticCall();
      await registry.connect(operator2)["register()"]();
      await registry.connect(operator2).offerCharter(otherId, agentKey2.address);
      await registry.connect(agentKey2).acceptCharter(otherId, [TITLE]);
      await expect(goals.connect(agentKey2).addGoal(agentId, TITLE, 1))
        .to.be.revertedWithCustomError(goals, "AgentSignedNotAgentSigner")
        .withArgs(agentId, agentKey2.address);
      const action = await signed(await fromEthersSigner(agentKey2), "AddGoal", deployment, {
        agentId,
        title: TITLE,
        priority: 1,
        nonce: 1,
        deadline: await deadlineAfter(),
      });
      await expect(relay(stranger, action))
        .to.be.revertedWithCustomError(goals, "AgentSignedInvalidSignature")
        .withArgs(agentId, agentKey.address);
    });

    it("follows a rotation in the registry at once: the old key is refused, the new key writes", async () => {
      const { goals, registry, agentId, agentKey, newAgentKey, deployment, stranger } =
        await loadFixture(deployWithAgent);
      const old = await signed(await fromEthersSigner(agentKey), "AddGoal", deployment, {
        agentId,
        title: TITLE,
        priority: 1,
        nonce: 11,
        deadline: await deadlineAfter(),
      });
      const rotation = { agentId, newSigner: newAgentKey.address, nonce: 1, deadline: await deadlineAfter() };
      const next = await signed(await fromEthersSigner(newAgentKey), "RotateSigner", deployment, rotation);
      await registry.connect(agentKey).rotateSigner(agentId, newAgentKey.address, 1, rotation.deadline, next.signature);

      await expect(relay(stranger, old))
        .to.be.revertedWithCustomError(goals, "AgentSignedInvalidSignature")
        .withArgs(agentId, newAgentKey.address);
      await expect(goals.connect(agentKey).addGoal(agentId, TITLE, 1))
        .to.be.revertedWithCustomError(goals, "AgentSignedNotAgentSigner")
        .withArgs(agentId, agentKey.address);
      await expect(goals.connect(newAgentKey).addGoal(agentId, TITLE, 1))
        .to.emit(goals, "GoalChanged")
        .withArgs(agentId, 0, TITLE, 1, GoalStatus.Active, (h: string) => h !== ZeroHash);
    });

    it("keeps its own nonce bitmap: a nonce spent in the registry is still free here", async () => {
      const { goals, registry, agentId, agentKey, deployment, stranger } = await loadFixture(deployWithAgent);
      const signer = await fromEthersSigner(agentKey);
      const deadline = await deadlineAfter();
      const wallet = await signed(signer, "SetEarningsWallet", deployment, {
        agentId,
        wallet: stranger.address,
        nonce: 5,
        deadline,
      });
      await relay(stranger, wallet);
      expect(await registry.isNonceUsed(agentId, 5)).to.equal(true);
      expect(await goals.isNonceUsed(agentId, 5)).to.equal(false);
      const goal = await signed(signer, "AddGoal", deployment, {
        agentId,
        title: TITLE,
        priority: 1,
        nonce: 5,
        deadline,
      });
      await expect(relay(stranger, goal)).to.emit(goals, "GoalChanged");
      expect(await goals.isNonceUsed(agentId, 5)).to.equal(true);
    });

    it("invalidateNonces is the agent signer's alone: AgentSignedNotAgentSigner(agentId, caller)", async () => {
      const { goals, agentId, agentKey, operator, council, stranger } = await loadFixture(deployWithAgent);
      for (const who of [operator, council, stranger]) {
        await expect(goals.connect(who).invalidateNonces(agentId, 0, 1))
          .to.be.revertedWithCustomError(goals, "AgentSignedNotAgentSigner")
          .withArgs(agentId, who.address);
      }
      await expect(goals.connect(agentKey).invalidateNonces(agentId, 7, 0b1010))
        .to.emit(goals, "AgentNoncesInvalidated")
        .withArgs(agentId, 7, 0b1010);
      expect(await goals.isNonceUsed(agentId, (7n << 8n) | 1n)).to.equal(true);
      expect(await goals.isNonceUsed(agentId, (7n << 8n) | 3n)).to.equal(true);
      expect(await goals.isNonceUsed(agentId, (7n << 8n) | 2n)).to.equal(false);
    });
  });

  it("reports its EIP-712 domain (ERC-5267) as the SDK signs it", async () => {
    const { goals, deployment } = await loadFixture(deployWithAgent);
    const domain = await goals.eip712Domain();
    expect([domain.name, domain.version, domain.chainId, domain.verifyingContract]).to.deep.equal([
      "Covenant AgentGoals",
      "1",
      BigInt(deployment.chainId),
      deployment.goals,
    ]);
    expect(await goals.registry()).to.equal(deployment.registry);
  });
});
