import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import hre from "hardhat";
import {
  Abstain,
  Against,
  COMMONS_FUNDS,
  commonsSpend,
  deployWithAgents,
  ETH,
  endVoting,
  For,
  GOV,
  type GovernanceFixture,
  impersonate,
  ProposalState,
  proposeAndGetId,
  reachEta,
  startVoting,
} from "../fixtures/governance";

const ONE_ETH = hre.ethers.parseEther("1");
const CANCELLER_ROLE = hre.ethers.id("CANCELLER_ROLE");
const PROPOSER_ROLE = hre.ethers.id("PROPOSER_ROLE");

/** The bitmap Governor reports in GovernorUnexpectedProposalState. */
function bitmap(...states: bigint[]): string {
  return hre.ethers.toBeHex(
    states.reduce((acc, s) => acc | (1n << s), 0n),
    32,
  );
}

type F = GovernanceFixture & { agentA: bigint; agentB: bigint };

/** The commons proposal: the Treasury spends `amount` of the commons pool to the payee. */
async function proposeRelease(f: F, description = "Release 1 ETH to the payee", amount = ONE_ETH) {
  const { target, data } = await commonsSpend(f.treasury, f.payee.address, amount);
  const { id } = await proposeAndGetId(f.governor, f.human1, [target], [0n], [data], description);
  return { id, targets: [target], values: [0n], calldatas: [data], descriptionHash: hre.ethers.id(description) };
}

/** Votes: humans 1-3 and agents A, B with the given support (undefined: abstains from voting). */
async function vote(f: F, id: bigint, humans: (number | undefined)[], agents: (number | undefined)[]) {
  const h = [f.human1, f.human2, f.human3];
  const a = [f.agentKey, f.agentKey2];
  for (const [i, support] of humans.entries())
    if (support !== undefined) await f.governor.connect(h[i]!).castVote(id, support);
  for (const [i, support] of agents.entries())
    if (support !== undefined) await f.governor.connect(a[i]!).castVote(id, support);
}

/** Proposes, votes and queues a governor/timelock call made by governance itself; returns once executed. */
async function enact(f: F, targets: string[], calldatas: string[], description: string) {
  const { id } = await proposeAndGetId(
    f.governor,
    f.human1,
    targets,
    targets.map(() => 0n),
    calldatas,
    description,
  );
  await startVoting(f.governor, id);
  await vote(f, id, [For, For, For], [For, For]);
  await endVoting(f.governor, id);
  await f.governor["queue(uint256)"](id);
  await reachEta(f.governor, id);
  return f.governor["execute(uint256)"](id);
}

describe("CovenantGovernor", () => {
  describe("a proposal moving commons funds", () => {
    it("lives its full life: proposed, voted in both houses, passed, queued, executed", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f);
      expect(id).to.equal(1);
      expect(await f.governor.state(id)).to.equal(ProposalState.Pending);

      await startVoting(f.governor, id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Active);
      await expect(f.governor.connect(f.human1).castVote(id, For))
        .to.emit(f.governor, "VoteCast")
        .withArgs(f.human1.address, id, For, GOV.humanWeight, "");
      await vote(f, id, [undefined, For, Against], [For, Abstain]);

      const snapshot = await f.governor.proposalSnapshot(id);
      const agentWeight = await f.votes.getPastVotes(f.agentKey.address, snapshot);
      expect(await f.governor.humanHouseVotes(id)).to.deep.equal([200n, 100n, 0n, 120n]);
      expect(await f.governor.agentHouseVotes(id)).to.deep.equal([
        agentWeight,
        0n,
        await f.votes.getPastVotes(f.agentKey2.address, snapshot),
        (2n * BigInt(GOV.agentCap) * BigInt(GOV.agentQuorumBps)) / 10_000n,
      ]);
      expect(await f.governor.proposalVotes(id)).to.deep.equal([100n, 200n, 0n]);

      await endVoting(f.governor, id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Succeeded);
      const queued = await f.governor["queue(uint256)"](id);
      const eta = await f.governor.proposalEta(id);
      await expect(queued).to.emit(f.governor, "ProposalQueued").withArgs(id, eta);
      expect(eta).to.equal(BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp + GOV.timelockMinDelay));
      expect(await f.governor.state(id)).to.equal(ProposalState.Queued);
      await expect(f.governor["execute(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorNotReady")
        .withArgs(id, eta);

      await reachEta(f.governor, id);
      const executed = f.governor.connect(f.stranger)["execute(uint256)"](id);
      await expect(executed).to.changeEtherBalances([f.treasury, f.payee], [-ONE_ETH, ONE_ETH]);
      await expect(executed).to.emit(f.governor, "ProposalExecuted").withArgs(id);
      await expect(executed)
        .to.emit(f.treasury, "CommonsSpent")
        .withArgs(ETH, f.payee.address, ONE_ETH, hre.ethers.id("onboarding"));
      expect(await f.treasury.commonsOf(ETH)).to.equal(COMMONS_FUNDS - ONE_ETH);
      expect(await f.governor.state(id)).to.equal(ProposalState.Executed);
    });

    it("is vetoed by the guardian Safe while voting and while queued", async () => {
      const f = await loadFixture(deployWithAgents);
      const governorAddress = await f.governor.getAddress();
      const cancel = (id: bigint) => f.governor.interface.encodeFunctionData("cancel(uint256)", [id]);

      const first = await proposeRelease(f, "Release, vetoed while voting");
      await startVoting(f.governor, first.id);
      await f.governor.connect(f.human1).castVote(first.id, For);
      await expect(f.asGuardian(governorAddress, cancel(first.id)))
        .to.emit(f.governor, "ProposalCanceled")
        .withArgs(first.id);
      expect(await f.governor.state(first.id)).to.equal(ProposalState.Canceled);
      await expect(f.governor.connect(f.human2).castVote(first.id, For))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(first.id, ProposalState.Canceled, bitmap(ProposalState.Active));

      const second = await proposeRelease(f, "Release, vetoed while queued");
      await startVoting(f.governor, second.id);
      await vote(f, second.id, [For, For, For], [For, For]);
      await endVoting(f.governor, second.id);
      await f.governor["queue(uint256)"](second.id);
      await expect(f.asGuardian(governorAddress, cancel(second.id)))
        .to.emit(f.governor, "ProposalCanceled")
        .withArgs(second.id)
        .and.to.emit(f.timelock, "Cancelled");
      await reachEta(f.governor, second.id);
      await expect(f.governor["execute(uint256)"](second.id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(second.id, ProposalState.Canceled, bitmap(ProposalState.Queued));
      expect(await f.treasury.commonsOf(ETH)).to.equal(COMMONS_FUNDS);
    });

    it("can be vetoed by the guardian directly on the timelock (its canceller role)", async () => {
      const f = await loadFixture(deployWithAgents);
      const p = await proposeRelease(f, "Release, cancelled on the timelock");
      await startVoting(f.governor, p.id);
      await vote(f, p.id, [For, For, For], []);
      await endVoting(f.governor, p.id);
      await f.governor["queue(uint256)"](p.id);
      const salt = hre.ethers.toBeHex(
        (BigInt(await f.governor.getAddress()) * 2n ** 96n) ^ BigInt(p.descriptionHash),
        32,
      );
      const opId = await f.timelock.hashOperationBatch(p.targets, p.values, p.calldatas, hre.ethers.ZeroHash, salt);
      expect(await f.timelock.isOperationPending(opId)).to.equal(true);
      await f.asGuardian(await f.timelock.getAddress(), f.timelock.interface.encodeFunctionData("cancel", [opId]));
      expect(await f.governor.state(p.id)).to.equal(ProposalState.Canceled);
    });

    it("refuses a veto from anyone but the guardian (the proposer only while pending)", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, cancel attempts");
      await expect(f.governor.connect(f.stranger)["cancel(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(id, f.stranger.address);
      await startVoting(f.governor, id);
      await expect(f.governor.connect(f.human1)["cancel(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(id, f.human1.address);
      await expect(f.timelock.connect(f.stranger).cancel(hre.ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, CANCELLER_ROLE);
    });

    it("is defeated when the humans miss their quorum", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, too few voters");
      await startVoting(f.governor, id);
      await vote(f, id, [For], [For, For]);
      await endVoting(f.governor, id);
      expect((await f.governor.humanHouseVotes(id))[3]).to.equal(120);
      expect(await f.governor.state(id)).to.equal(ProposalState.Defeated);
      await expect(f.governor["queue(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(id, ProposalState.Defeated, bitmap(ProposalState.Succeeded));
    });

    it("is defeated when the humans vote it down, whatever the agents say", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, humans against");
      await startVoting(f.governor, id);
      await vote(f, id, [For, Against, Against], [For, For]);
      await endVoting(f.governor, id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Defeated);
    });

    it("fails in the agent house once the agent house is binding (advisory before)", async () => {
      const f = await loadFixture(deployWithAgents);
      const advisory = await proposeRelease(f, "Release, agents against, advisory");
      await startVoting(f.governor, advisory.id);
      await vote(f, advisory.id, [For, For, For], [Against, Against]);
      await endVoting(f.governor, advisory.id);
      expect(await f.governor.agentHouseBinding(advisory.id)).to.equal(false);
      expect(await f.governor.state(advisory.id)).to.equal(ProposalState.Succeeded);

      const governorAddress = await f.governor.getAddress();
      await expect(
        enact(
          f,
          [governorAddress],
          [f.governor.interface.encodeFunctionData("setAgentHouseBinding", [true])],
          "Make the agent house binding",
        ),
      )
        .to.emit(f.governor, "AgentHouseBindingSet")
        .withArgs(true);
      expect((await f.governor.votingRules())[2]).to.equal(true);
      // The proposal voted under the advisory rule keeps it.
      expect(await f.governor.state(advisory.id)).to.equal(ProposalState.Succeeded);

      const binding = await proposeRelease(f, "Release, agents against, binding");
      await startVoting(f.governor, binding.id);
      await vote(f, binding.id, [For, For, For], [Against, Against]);
      await endVoting(f.governor, binding.id);
      expect(await f.governor.agentHouseBinding(binding.id)).to.equal(true);
      expect(await f.governor.state(binding.id)).to.equal(ProposalState.Defeated);

      const agentsMissQuorum = await proposeRelease(f, "Release, agents absent, binding");
      await startVoting(f.governor, agentsMissQuorum.id);
      await vote(f, agentsMissQuorum.id, [For, For, For], []);
      await endVoting(f.governor, agentsMissQuorum.id);
      expect(await f.governor.state(agentsMissQuorum.id)).to.equal(ProposalState.Defeated);

      const bothPass = await proposeRelease(f, "Release, both houses for");
      await startVoting(f.governor, bothPass.id);
      await vote(f, bothPass.id, [For, For, For], [For, For]);
      await endVoting(f.governor, bothPass.id);
      expect(await f.governor.state(bothPass.id)).to.equal(ProposalState.Succeeded);
    });

    it("cannot be executed twice", async () => {
      const f = await loadFixture(deployWithAgents);
      const p = await proposeRelease(f, "Release once");
      await startVoting(f.governor, p.id);
      await vote(f, p.id, [For, For, For], [For, For]);
      await endVoting(f.governor, p.id);
      await f.governor["queue(uint256)"](p.id);
      await reachEta(f.governor, p.id);
      await f.governor["execute(uint256)"](p.id);
      await expect(f.governor["execute(uint256)"](p.id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Executed, bitmap(ProposalState.Queued));
      await expect(
        f.governor["execute(address[],uint256[],bytes[],bytes32)"](p.targets, p.values, p.calldatas, p.descriptionHash),
      )
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Executed, bitmap(ProposalState.Queued));
      await expect(f.governor["queue(uint256)"](p.id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(p.id, ProposalState.Executed, bitmap(ProposalState.Succeeded));
      expect(await f.treasury.commonsOf(ETH)).to.equal(COMMONS_FUNDS - ONE_ETH);
    });
  });

  describe("from a block explorer", () => {
    it("needs nothing but plain-argument calls and the id from ProposalCreated", async () => {
      const f = await loadFixture(deployWithAgents);
      // Write tab: propose(address[] targets, uint256[] values, bytes[] calldatas, string description).
      const calldata = f.treasury.interface.encodeFunctionData("spendCommons", [
        ETH,
        f.payee.address,
        ONE_ETH,
        hre.ethers.id("onboarding"),
      ]);
      const tx = await f.governor
        .connect(f.human2)
        .propose([await f.treasury.getAddress()], [0], [calldata], "Fund the onboarding of three agents");
      // Logs tab: ProposalCreated's first field is the id.
      const receipt = await tx.wait();
      const created = receipt!.logs
        .map((l) => f.governor.interface.parseLog(l))
        .find((l) => l?.name === "ProposalCreated");
      const id = created!.args[0] as bigint;
      // Read tab: state(id), proposalSnapshot(id), proposalDeadline(id).
      expect(await f.governor.state(id)).to.equal(ProposalState.Pending);
      await time.increaseTo((await f.governor.proposalSnapshot(id)) + 1n);
      // Write tab: castVote(id, support) from each human.
      for (const human of f.humans) await f.governor.connect(human).castVote(id, 1);
      await time.increaseTo((await f.governor.proposalDeadline(id)) + 1n);
      expect(await f.governor.state(id)).to.equal(ProposalState.Succeeded);
      // Write tab: queue(id), then execute(id) once proposalEta(id) has passed.
      await f.governor.connect(f.human3)["queue(uint256)"](id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Queued);
      await time.increaseTo(await f.governor.proposalEta(id));
      await expect(f.governor.connect(f.human3)["execute(uint256)"](id)).to.changeEtherBalance(f.payee, ONE_ETH);
      expect(await f.governor.state(id)).to.equal(ProposalState.Executed);
    });
  });

  describe("voting", () => {
    it("counts a vote with a reason", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, with reasons");
      await startVoting(f.governor, id);
      await expect(f.governor.connect(f.human2).castVoteWithReason(id, Against, "not yet"))
        .to.emit(f.governor, "VoteCast")
        .withArgs(f.human2.address, id, Against, GOV.humanWeight, "not yet");
      expect(await f.governor.hasVoted(id, f.human2.address)).to.equal(true);
      expect(await f.governor.hasVoted(id, f.human1.address)).to.equal(false);
    });

    it("counts an agent's signed vote relayed by a keeper, once", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, relayed agent vote");
      await startVoting(f.governor, id);
      const { chainId } = await hre.ethers.provider.getNetwork();
      const domain = {
        name: "CovenantGovernor",
        version: "1",
        chainId,
        verifyingContract: await f.governor.getAddress(),
      };
      const types = {
        Ballot: [
          { name: "proposalId", type: "uint256" },
          { name: "support", type: "uint8" },
          { name: "voter", type: "address" },
          { name: "nonce", type: "uint256" },
        ],
      };
      const nonce = await f.governor.nonces(f.agentKey.address);
      const signature = await f.agentKey.signTypedData(domain, types, {
        proposalId: id,
        support: For,
        voter: f.agentKey.address,
        nonce,
      });
      const weight = await f.votes.getPastVotes(f.agentKey.address, await f.governor.proposalSnapshot(id));
      await expect(f.governor.connect(f.relayer).castVoteBySig(id, For, f.agentKey.address, signature))
        .to.emit(f.governor, "VoteCast")
        .withArgs(f.agentKey.address, id, For, weight, "");
      expect((await f.governor.agentHouseVotes(id))[0]).to.equal(weight);
      expect(await f.governor.nonces(f.agentKey.address)).to.equal(nonce + 1n);
      await expect(f.governor.connect(f.relayer).castVoteBySig(id, For, f.agentKey.address, signature))
        .to.be.revertedWithCustomError(f.governor, "GovernorInvalidSignature")
        .withArgs(f.agentKey.address);
      const forged = await f.stranger.signTypedData(domain, types, {
        proposalId: id,
        support: Against,
        voter: f.agentKey2.address,
        nonce: 0,
      });
      await expect(f.governor.connect(f.relayer).castVoteBySig(id, Against, f.agentKey2.address, forged))
        .to.be.revertedWithCustomError(f.governor, "GovernorInvalidSignature")
        .withArgs(f.agentKey2.address);
    });

    it("refuses voters without weight at the snapshot, double votes and unknown support values", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, bad votes");
      await startVoting(f.governor, id);
      const snapshot = await f.governor.proposalSnapshot(id);
      await expect(f.governor.connect(f.stranger).castVote(id, For))
        .to.be.revertedWithCustomError(f.governor, "GovernorCountingHousesNoWeight")
        .withArgs(f.stranger.address, snapshot);
      await f.governor.connect(f.human1).castVote(id, For);
      await expect(f.governor.connect(f.human1).castVote(id, Against))
        .to.be.revertedWithCustomError(f.governor, "GovernorAlreadyCastVote")
        .withArgs(f.human1.address);
      await expect(f.governor.connect(f.human2).castVote(id, 3)).to.be.revertedWithCustomError(
        f.governor,
        "GovernorInvalidVoteType",
      );
      await expect(f.governor.connect(f.human2).castVote(99, For))
        .to.be.revertedWithCustomError(f.governor, "GovernorNonexistentProposal")
        .withArgs(99);
    });

    it("reads weight at the snapshot: a human added later has none, one removed later keeps it", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeRelease(f, "Release, changing electorate");
      await startVoting(f.governor, id);
      const timelock = await impersonate(await f.timelock.getAddress());
      await f.votes.connect(timelock).setHumanWeight(f.payee.address, 500);
      await f.votes.connect(timelock).setHumanWeight(f.human3.address, 0);
      await expect(f.governor.connect(f.payee).castVote(id, For))
        .to.be.revertedWithCustomError(f.governor, "GovernorCountingHousesNoWeight")
        .withArgs(f.payee.address, await f.governor.proposalSnapshot(id));
      await expect(f.governor.connect(f.human3).castVote(id, For))
        .to.emit(f.governor, "VoteCast")
        .withArgs(f.human3.address, id, For, GOV.humanWeight, "");
    });

    it("shows the rules and the human quorum (IGovernor views)", async () => {
      const f = await loadFixture(deployWithAgents);
      expect(await f.governor.COUNTING_MODE()).to.equal("support=bravo&quorum=for,abstain&houses=human,agent");
      expect(await f.governor.CLOCK_MODE()).to.equal("mode=timestamp");
      expect(await f.governor.votingRules()).to.deep.equal([
        BigInt(GOV.humanQuorumBps),
        BigInt(GOV.agentQuorumBps),
        GOV.agentHouseBinding,
      ]);
      const t = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp) - 1n;
      expect(await f.governor.quorum(t)).to.equal(
        (3n * BigInt(GOV.humanWeight) * BigInt(GOV.humanQuorumBps)) / 10_000n,
      );
      expect(await f.governor.votingDelay()).to.equal(GOV.votingDelay);
      expect(await f.governor.votingPeriod()).to.equal(GOV.votingPeriod);
      expect(await f.governor.proposalThreshold()).to.equal(GOV.proposalThreshold);
      expect(await f.governor.votesContract()).to.equal(await f.votes.getAddress());
      expect(await f.governor.evolutionRegistry()).to.equal(await f.evolution.getAddress());
      expect(await f.governor.proposalGuardian()).to.equal(f.guardianAddress);
    });
  });

  describe("proposing and storing proposals by id", () => {
    it("lets only voters propose", async () => {
      const f = await loadFixture(deployWithAgents);
      await expect(f.governor.connect(f.stranger).propose([f.payee.address], [0], ["0x"], "from a stranger"))
        .to.be.revertedWithCustomError(f.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.stranger.address, 0, GOV.proposalThreshold);
      // An admitted agent may propose too.
      await expect(f.governor.connect(f.agentKey).propose([f.payee.address], [0], ["0x"], "from an agent")).to.emit(
        f.governor,
        "ProposalCreated",
      );
    });

    it("numbers proposals 1, 2, 3 and refuses an identical one", async () => {
      const f = await loadFixture(deployWithAgents);
      const a = await proposeRelease(f, "first");
      const b = await proposeRelease(f, "second");
      expect([a.id, b.id]).to.deep.equal([1n, 2n]);
      expect(await f.governor.proposalCount()).to.equal(2);
      expect(await f.governor.latestProposalId()).to.equal(2);
      expect(await f.governor.getProposalId(a.targets, a.values, a.calldatas, a.descriptionHash)).to.equal(1);
      await expect(f.governor.connect(f.human2).propose(a.targets, a.values, a.calldatas, "first"))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState")
        .withArgs(1, ProposalState.Pending, hre.ethers.ZeroHash);
    });

    it("returns exactly what was proposed, for any calls (property)", async () => {
      const f = await loadFixture(deployWithAgents);
      const call = fc.record({
        target: fc
          .uint8Array({ minLength: 20, maxLength: 20 })
          .map((b) => hre.ethers.getAddress(hre.ethers.hexlify(b))),
        value: fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 2n ** 256n - 1n })),
        data: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => hre.ethers.hexlify(b)),
      });
      const seed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
      console.log(`      fast-check seed ${seed} (replay with FC_SEED=${seed})`);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 5 }), async (calls) => {
          const description = `property proposal ${n++}`;
          const targets = calls.map((c) => c.target);
          const values = calls.map((c) => c.value);
          const calldatas = calls.map((c) => c.data);
          const { id } = await proposeAndGetId(f.governor, f.human1, targets, values, calldatas, description);
          // (ethers' Result has a values() method, so read by position.)
          const [storedTargets, storedValues, storedCalldatas, descriptionHash] = await f.governor.proposalDetails(id);
          expect([...storedTargets]).to.deep.equal(targets);
          expect([...storedValues]).to.deep.equal(values);
          expect([...storedCalldatas]).to.deep.equal(calldatas);
          expect(descriptionHash).to.equal(hre.ethers.id(description));
          const [atId, , , atCalldatas] = await f.governor.proposalDetailsAt(id - 1n);
          expect(atId).to.equal(id);
          expect([...atCalldatas]).to.deep.equal(calldatas);
          const code = await hre.ethers.provider.getCode(await f.governor.proposalDetailsContract(id));
          expect(code.slice(0, 4)).to.equal("0x00");
        }),
        { numRuns: 12, seed },
      );
    });

    it("refuses unknown ids and proposals too large for one data contract", async () => {
      const f = await loadFixture(deployWithAgents);
      for (const fn of ["proposalDetails", "queue(uint256)", "execute(uint256)", "state"] as const) {
        await expect(f.governor[fn](42))
          .to.be.revertedWithCustomError(f.governor, "GovernorNonexistentProposal")
          .withArgs(42);
      }
      await expect(f.governor.proposalDetails(0))
        .to.be.revertedWithCustomError(f.governor, "GovernorNonexistentProposal")
        .withArgs(0);
      const big = `0x${"ab".repeat(24_600)}`;
      await expect(f.governor.connect(f.human1).propose([f.payee.address], [0], [big], "too big"))
        .to.be.revertedWithCustomError(f.governor, "GovernorCompactStorageTooLarge")
        .withArgs(33 + 24 + 24_600, 24_576);
    });
  });

  describe("governance settings", () => {
    it("changes only through a passed proposal, for proposals whose snapshot comes after", async () => {
      const f = await loadFixture(deployWithAgents);
      await expect(f.governor.connect(f.human1).setQuorums(1, 1))
        .to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor")
        .withArgs(f.human1.address);
      await expect(f.governor.connect(f.human1).setProposalGuardian(f.stranger.address))
        .to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor")
        .withArgs(f.human1.address);
      const earlier = await proposeRelease(f, "Release, under the old quorum");
      const governorAddress = await f.governor.getAddress();
      await expect(
        enact(
          f,
          [governorAddress],
          [f.governor.interface.encodeFunctionData("setQuorums", [9_000, 5_000])],
          "Raise the quorums",
        ),
      )
        .to.emit(f.governor, "QuorumsSet")
        .withArgs(9_000, 5_000);
      expect((await f.governor.humanHouseVotes(earlier.id))[3]).to.equal(120);
      const later = await proposeRelease(f, "Release, under the new quorum");
      expect((await f.governor.humanHouseVotes(later.id))[3]).to.equal(270);
    });

    it("refuses a quorum of 0 or above 100%", async () => {
      const f = await loadFixture(deployWithAgents);
      const { id } = await proposeAndGetId(
        f.governor,
        f.human1,
        [await f.governor.getAddress()],
        [0n],
        [f.governor.interface.encodeFunctionData("setQuorums", [0, 5_000])],
        "Zero quorum",
      );
      await startVoting(f.governor, id);
      await vote(f, id, [For, For, For], []);
      await endVoting(f.governor, id);
      await f.governor["queue(uint256)"](id);
      await reachEta(f.governor, id);
      await expect(f.governor["execute(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorCountingHousesInvalidQuorum")
        .withArgs(0);
    });
  });

  describe("replacing the guardian", () => {
    async function replacementCalls(f: F, newGuardian: string) {
      const timelockAddress = await f.timelock.getAddress();
      return {
        targets: [timelockAddress, timelockAddress, await f.governor.getAddress()],
        calldatas: [
          f.timelock.interface.encodeFunctionData("grantRole", [CANCELLER_ROLE, newGuardian]),
          f.timelock.interface.encodeFunctionData("revokeRole", [CANCELLER_ROLE, f.guardianAddress]),
          f.governor.interface.encodeFunctionData("setProposalGuardian", [newGuardian]),
        ],
      };
    }

    it("passes only in both houses, cannot be vetoed by the guardian, and moves the canceller role", async () => {
      const f = await loadFixture(deployWithAgents);
      await time.increase(100 * GOV.secondsPerAgePoint); // agents at their caps: the doubled agent quorum is 160
      const newGuardian = f.payee.address;
      const { targets, calldatas } = await replacementCalls(f, newGuardian);
      const description = "Replace the guardian";
      const { id, tx } = await proposeAndGetId(f.governor, f.human1, targets, [0n, 0n, 0n], calldatas, description);
      await expect(tx).to.emit(f.governor, "ProposalRequirementsSet").withArgs(id, 100, true);
      expect(await f.governor.proposalRequirements(id)).to.deep.equal([100n, true, 20_000n, 100n * 3_600n]);
      expect(await f.governor.agentHouseBinding(id)).to.equal(true);

      const guardian = await impersonate(f.guardianAddress);
      await expect(f.governor.connect(guardian)["cancel(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(id, f.guardianAddress);
      await startVoting(f.governor, id);
      await vote(f, id, [For, For, For], [For, For]);
      await endVoting(f.governor, id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Succeeded);
      await f.governor["queue(uint256)"](id);
      const salt = hre.ethers.toBeHex(
        (BigInt(await f.governor.getAddress()) << 96n) ^ BigInt(hre.ethers.id(description)),
        32,
      );
      const opId = await f.timelock.hashOperationBatch(targets, [0, 0, 0], calldatas, hre.ethers.ZeroHash, salt);
      expect(await f.timelock.isImmune(opId)).to.equal(true);
      await expect(f.timelock.connect(guardian).cancel(opId))
        .to.be.revertedWithCustomError(f.timelock, "CovenantTimelockImmuneOperation")
        .withArgs(opId);
      await expect(f.governor.connect(guardian)["cancel(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(id, f.guardianAddress);
      const eta = await f.governor.proposalEta(id);
      const queuedAt = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
      expect(eta).to.equal(queuedAt - 2n + BigInt(GOV.timelockMinDelay) + 100n * 3_600n);

      await reachEta(f.governor, id);
      await expect(f.governor["execute(uint256)"](id))
        .to.emit(f.governor, "ProposalGuardianSet")
        .withArgs(f.guardianAddress, newGuardian);
      expect(await f.governor.proposalGuardian()).to.equal(newGuardian);
      expect(await f.timelock.hasRole(CANCELLER_ROLE, newGuardian)).to.equal(true);
      expect(await f.timelock.hasRole(CANCELLER_ROLE, f.guardianAddress)).to.equal(false);
      // The new guardian vetoes from now on; the old one cannot.
      const p = await proposeRelease(f, "Release after the replacement");
      await expect(f.governor.connect(guardian)["cancel(uint256)"](p.id))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(p.id, f.guardianAddress);
      await expect(f.governor.connect(f.payee)["cancel(uint256)"](p.id)).to.emit(f.governor, "ProposalCanceled");
    });

    it("is defeated when the agent house votes against, even while the agent house is advisory", async () => {
      const f = await loadFixture(deployWithAgents);
      await time.increase(100 * GOV.secondsPerAgePoint);
      const { targets, calldatas } = await replacementCalls(f, f.payee.address);
      const { id } = await proposeAndGetId(f.governor, f.human1, targets, [0n, 0n, 0n], calldatas, "Replace, refused");
      await startVoting(f.governor, id);
      await vote(f, id, [For, For, For], [Against, Against]);
      await endVoting(f.governor, id);
      expect(await f.governor.state(id)).to.equal(ProposalState.Defeated);
    });

    it("must stand alone, name the right accounts and never remove the guardian", async () => {
      const f = await loadFixture(deployWithAgents);
      const governorAddress = await f.governor.getAddress();
      const timelockAddress = await f.timelock.getAddress();
      const set = (g: string) => f.governor.interface.encodeFunctionData("setProposalGuardian", [g]);
      const { target: commons, data: release } = await commonsSpend(f.treasury, f.payee.address, ONE_ETH);
      await expect(
        f.governor
          .connect(f.human1)
          .propose([governorAddress, commons], [0, 0], [set(f.payee.address), release], "bundled"),
      )
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorGuardianChangeNotAlone")
        .withArgs(1);
      await expect(
        f.governor
          .connect(f.human1)
          .propose(
            [timelockAddress, governorAddress],
            [0, 0],
            [
              f.timelock.interface.encodeFunctionData("grantRole", [CANCELLER_ROLE, f.stranger.address]),
              set(f.payee.address),
            ],
            "wrong account",
          ),
      )
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorInvalidGuardianChange")
        .withArgs(0);
      await expect(
        f.governor
          .connect(f.human1)
          .propose(
            [timelockAddress, governorAddress],
            [0, 0],
            [
              f.timelock.interface.encodeFunctionData("grantRole", [PROPOSER_ROLE, f.payee.address]),
              set(f.payee.address),
            ],
            "other role",
          ),
      )
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorGuardianChangeNotAlone")
        .withArgs(0);
      await expect(
        f.governor.connect(f.human1).propose([governorAddress], [0], [set(hre.ethers.ZeroAddress)], "remove"),
      )
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorInvalidGuardianChange")
        .withArgs(0);
      await expect(
        f.governor
          .connect(f.human1)
          .propose(
            [governorAddress, governorAddress],
            [0, 0],
            [set(f.payee.address), set(f.stranger.address)],
            "twice",
          ),
      )
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorInvalidGuardianChange")
        .withArgs(1);
    });
  });
});
