import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, mine } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import { type Address, getAddress, type Hex } from "viem";
import { actionsHash, evolutionActions, type ProposalActions, rollbackActions } from "../../sdk";
import { CommonsPolicy__factory, CommonsPolicyV2__factory } from "../../typechain-types";
import {
  Against,
  deployWithAgents,
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

type F = GovernanceFixture & { agentA: bigint; agentB: bigint };

const Status = {
  None: 0,
  Proposed: 1,
  Attested: 2,
  Linked: 3,
  Deployed: 4,
  RollbackLinked: 5,
  RolledBack: 6,
  Rejected: 7,
};
const SIMULATOR_ROLE = hre.ethers.id("SIMULATOR_ROLE");
const SPEC = "ipfs://bafkreidusttothecommons";
const REPORT = hre.ethers.sha256(hre.ethers.toUtf8Bytes("simulation report"));
const V2_INIT_CODE = CommonsPolicyV2__factory.bytecode as Hex;
const V2_HASH = hre.ethers.keccak256(V2_INIT_CODE);

async function latestBlock() {
  return (await hre.ethers.provider.getBlock("latest"))!;
}

/** Proposes CommonsPolicyV2 as an evolution of the CommonsPolicy proxy and stages its init code. */
async function proposeV2(f: F, riskScore = 30, stage = true) {
  const target = await f.policy.getAddress();
  const evolutionId = await f.evolution.connect(f.human1).propose.staticCall(V2_HASH, riskScore, SPEC, target);
  await f.evolution.connect(f.human1).propose(V2_HASH, riskScore, SPEC, target);
  if (stage) await f.evolution.connect(f.stranger).stageInitCode(evolutionId, V2_INIT_CODE);
  const actions = evolutionActions({
    registry: (await f.evolution.getAddress()) as Address,
    evolutionId,
    target: target as Address,
    predicted: (await f.evolution.predictedAddress(evolutionId)) as Address,
  });
  return { evolutionId, actions, target };
}

/** A simulation report for the latest block, as the simulator keeper posts it. */
async function report(evolutionId: bigint, actions: ProposalActions, passed = true, overrides = {}) {
  const block = await latestBlock();
  const { chainId } = await hre.ethers.provider.getNetwork();
  return {
    evolutionId,
    initCodeHash: V2_HASH,
    actionsHash: actionsHash(actions),
    chainId,
    forkBlock: block.number,
    forkBlockHash: block.hash!,
    reportHash: REPORT,
    testsRun: 12,
    invariantsChecked: 5,
    passed,
    ...overrides,
  };
}

async function attest(f: F, evolutionId: bigint, actions: ProposalActions, passed = true) {
  return f.evolution.connect(f.simulator).attest(await report(evolutionId, actions, passed));
}

async function proposeActions(f: F, actions: ProposalActions, description: string) {
  return proposeAndGetId(f.governor, f.human1, actions.targets, actions.values, actions.calldatas, description);
}

async function passAndQueue(f: F, id: bigint, agents: number[] = [For, For]) {
  await startVoting(f.governor, id);
  for (const h of f.humans) await f.governor.connect(h).castVote(id, For);
  await f.governor.connect(f.agentKey).castVote(id, agents[0]!);
  await f.governor.connect(f.agentKey2).castVote(id, agents[1]!);
  await endVoting(f.governor, id);
  await f.governor["queue(uint256)"](id);
}

describe("EvolutionRegistry", () => {
  describe("proposing", () => {
    it("records a voter's proposal by init code hash", async () => {
      const f = await loadFixture(deployWithAgents);
      const target = await f.policy.getAddress();
      await expect(f.evolution.connect(f.agentKey).propose(V2_HASH, 30, SPEC, target))
        .to.emit(f.evolution, "EvolutionProposed")
        .withArgs(1, f.agentKey.address, V2_HASH, 30, target, SPEC);
      const e = await f.evolution.getEvolution(1);
      expect(e.status).to.equal(Status.Proposed);
      expect(e.initCodeHash).to.equal(V2_HASH);
      expect(e.proposer).to.equal(f.agentKey.address);
      expect(e.specURI).to.equal(SPEC);
      expect(await f.evolution.evolutionCount()).to.equal(1);
    });

    it("refuses non-voters, risk above 100, a zero hash and an empty spec", async () => {
      const f = await loadFixture(deployWithAgents);
      const target = await f.policy.getAddress();
      await expect(f.evolution.connect(f.stranger).propose(V2_HASH, 1, SPEC, target))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryNoVotingWeight")
        .withArgs(f.stranger.address);
      await expect(f.evolution.connect(f.human1).propose(V2_HASH, 101, SPEC, target))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryInvalidRiskScore")
        .withArgs(101);
      await expect(
        f.evolution.connect(f.human1).propose(hre.ethers.ZeroHash, 1, SPEC, target),
      ).to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryEmptyInitCodeHash");
      await expect(f.evolution.connect(f.human1).propose(V2_HASH, 1, "", target)).to.be.revertedWithCustomError(
        f.evolution,
        "EvolutionRegistryEmptySpec",
      );
      await expect(f.evolution.getEvolution(5))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryNonexistentEvolution")
        .withArgs(5);
    });
  });

  describe("staging the init code", () => {
    it("takes only code that hashes to the proposed hash, once", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId } = await proposeV2(f, 30, false);
      const other = CommonsPolicy__factory.bytecode;
      await expect(f.evolution.stageInitCode(evolutionId, other))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryInitCodeMismatch")
        .withArgs(evolutionId, V2_HASH, hre.ethers.keccak256(other));
      await expect(f.evolution.stageInitCode(evolutionId, "0x"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryInvalidInitCodeSize")
        .withArgs(0, 49_152);
      await expect(f.evolution.connect(f.stranger).stageInitCode(evolutionId, V2_INIT_CODE))
        .to.emit(f.evolution, "InitCodeStaged")
        .withArgs(evolutionId, f.stranger.address, (V2_INIT_CODE.length - 2) / 2);
      expect(await f.evolution.initCode(evolutionId)).to.equal(V2_INIT_CODE);
      await expect(f.evolution.stageInitCode(evolutionId, V2_INIT_CODE))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryAlreadyStaged")
        .withArgs(evolutionId);
    });

    it("stores init code larger than one data contract in pieces and reads it back whole", async () => {
      const f = await loadFixture(deployWithAgents);
      const code = hre.ethers.hexlify(hre.ethers.randomBytes(30_000));
      const hash = hre.ethers.keccak256(code);
      await f.evolution.connect(f.human1).propose(hash, 5, SPEC, hre.ethers.ZeroAddress);
      await f.evolution.stageInitCode(1, code);
      expect(await f.evolution.initCode(1)).to.equal(code);
    });
  });

  describe("attesting a simulation", () => {
    it("records a passed simulation bound to the evolution, its code, actions, fork block and chain", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      const r = await report(evolutionId, actions);
      await expect(f.evolution.connect(f.simulator).attest(r))
        .to.emit(f.evolution, "SimulationAttested")
        .withArgs(
          evolutionId,
          f.simulator.address,
          true,
          r.chainId,
          r.forkBlock,
          r.forkBlockHash,
          REPORT,
          r.actionsHash,
          12,
          5,
        );
      const a = await f.evolution.latestAttestation(evolutionId);
      expect([a.forkBlock, a.forkBlockHash, a.actionsHash, a.passed]).to.deep.equal([
        BigInt(r.forkBlock),
        r.forkBlockHash,
        r.actionsHash,
        true,
      ]);
      expect((await f.evolution.getEvolution(evolutionId)).status).to.equal(Status.Attested);
    });

    it("refuses an attestation for another chain or another fork block", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      const r = await report(evolutionId, actions);
      await expect(f.evolution.connect(f.simulator).attest({ ...r, chainId: r.chainId + 1n }))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryWrongChain")
        .withArgs(r.chainId + 1n, r.chainId);
      const parent = (await hre.ethers.provider.getBlock(r.forkBlock - 1))!;
      // Another block's hash under this block number: a simulation of another state.
      await expect(f.evolution.connect(f.simulator).attest({ ...r, forkBlockHash: parent.hash! }))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnknownForkBlock")
        .withArgs(r.forkBlock, parent.hash);
      // A block that does not exist yet.
      await expect(f.evolution.connect(f.simulator).attest({ ...r, forkBlock: r.forkBlock + 5 }))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnknownForkBlock")
        .withArgs(r.forkBlock + 5, r.forkBlockHash);
      // A block too old to be checked (more than 256 blocks back).
      await mine(300);
      await expect(f.evolution.connect(f.simulator).attest(r))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnknownForkBlock")
        .withArgs(r.forkBlock, r.forkBlockHash);
    });

    it("refuses other mismatches: code hash, unstaged code, a fork before staging, replays, empty reports", async () => {
      const f = await loadFixture(deployWithAgents);
      const unstaged = await proposeV2(f, 10, false);
      await expect(f.evolution.connect(f.simulator).attest(await report(unstaged.evolutionId, unstaged.actions)))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryNotStaged")
        .withArgs(unstaged.evolutionId);
      const before = await report(unstaged.evolutionId, unstaged.actions);
      await f.evolution.stageInitCode(unstaged.evolutionId, V2_INIT_CODE);
      const stagedBlock = (await f.evolution.getEvolution(unstaged.evolutionId)).stagedBlock;
      await expect(f.evolution.connect(f.simulator).attest(before))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryForkBeforeStaging")
        .withArgs(before.forkBlock, stagedBlock);
      const r = await report(unstaged.evolutionId, unstaged.actions);
      const wrongHash = hre.ethers.id("other code");
      await expect(f.evolution.connect(f.simulator).attest({ ...r, initCodeHash: wrongHash }))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryInitCodeMismatch")
        .withArgs(unstaged.evolutionId, V2_HASH, wrongHash);
      await expect(
        f.evolution.connect(f.simulator).attest({ ...r, reportHash: hre.ethers.ZeroHash }),
      ).to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryEmptyReport");
      await f.evolution.connect(f.simulator).attest(r);
      await expect(f.evolution.connect(f.simulator).attest(r))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryStaleAttestation")
        .withArgs(r.forkBlock, r.forkBlock);
      await expect(f.evolution.connect(f.stranger).attest(r))
        .to.be.revertedWithCustomError(f.evolution, "AccessControlUnauthorizedAccount")
        .withArgs(f.stranger.address, SIMULATOR_ROLE);
    });
  });

  describe("an evolution whose simulation failed", () => {
    it("is rejected for good and can never be proposed", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      await expect(attest(f, evolutionId, actions, false))
        .to.emit(f.evolution, "EvolutionRejected")
        .withArgs(evolutionId, REPORT);
      expect((await f.evolution.getEvolution(evolutionId)).status).to.equal(Status.Rejected);
      await expect(proposeActions(f, actions, "Deploy a rejected evolution"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Rejected);
      // A later, passing simulation changes nothing.
      await expect(attest(f, evolutionId, actions, true))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Rejected);
    });

    it("cannot be proposed before any simulation either", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      await expect(proposeActions(f, actions, "Deploy an unsimulated evolution"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Proposed);
    });
  });

  describe("linking a governance proposal", () => {
    it("requires exactly the attested actions, attested recently enough", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      await attest(f, evolutionId, actions);
      const extra: ProposalActions = {
        targets: [...actions.targets, getAddress(await f.treasury.getAddress())],
        values: [...actions.values, 0n],
        calldatas: [
          ...actions.calldatas,
          f.treasury.interface.encodeFunctionData("spendCommons", [
            hre.ethers.ZeroAddress,
            f.payee.address,
            1n,
            hre.ethers.ZeroHash,
          ]) as Hex,
        ],
      };
      await expect(proposeActions(f, extra, "Deploy plus an unsimulated call"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryActionsMismatch")
        .withArgs(evolutionId, actionsHash(actions), actionsHash(extra));
      const forkBlock = (await f.evolution.latestAttestation(evolutionId)).forkBlock;
      await mine(GOV.proposalWindow + 1);
      await expect(proposeActions(f, actions, "Deploy, attestation too old"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryAttestationTooOld")
        .withArgs(evolutionId, forkBlock, GOV.proposalWindow);
      await expect(f.evolution.connect(f.stranger).linkProposal(evolutionId, 1, actionsHash(actions)))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryNotGovernor")
        .withArgs(f.stranger.address);
    });

    it("allows one live proposal per evolution, and a new one once it is defeated", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f);
      await attest(f, evolutionId, actions);
      const { id: first, tx } = await proposeActions(f, actions, "Deploy dust-to-commons");
      await expect(tx)
        .to.emit(f.evolution, "EvolutionLinked")
        .withArgs(evolutionId, first, await f.governor.getAddress(), actionsHash(actions));
      await expect(tx).to.emit(f.governor, "ProposalRequirementsSet").withArgs(first, 30, false);
      await expect(proposeActions(f, actions, "Deploy dust-to-commons, again"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryProposalLive")
        .withArgs(evolutionId, first);
      await startVoting(f.governor, first);
      for (const h of f.humans) await f.governor.connect(h).castVote(first, Against);
      await endVoting(f.governor, first);
      expect(await f.governor.state(first)).to.equal(ProposalState.Defeated);
      await attest(f, evolutionId, actions);
      const { id: second } = await proposeActions(f, actions, "Deploy dust-to-commons, second try");
      expect((await f.evolution.getEvolution(evolutionId)).governanceProposalId).to.equal(second);
    });
  });

  describe("deploying: an executed evolution upgrades CommonsPolicy", () => {
    it("raises quorum and delay with risk, deploys exactly the proposed code and changes the behaviour", async () => {
      const f = await loadFixture(deployWithAgents);
      expect(await f.policy.version()).to.equal(1);
      expect(await f.policy.splitAmount(1001, 5000, 3000, 2000)).to.deep.equal([501n, 300n, 200n]);
      const { evolutionId, actions, target } = await proposeV2(f, 30);
      await attest(f, evolutionId, actions);
      const { id } = await proposeActions(f, actions, "Dust to the commons (CommonsPolicy v2)");
      expect(await f.governor.proposalRequirements(id)).to.deep.equal([30n, false, 13_000n, 30n * 3_600n]);
      expect((await f.governor.humanHouseVotes(id))[3]).to.equal((120n * 13_000n) / 10_000n);

      await passAndQueue(f, id);
      const eta = await f.governor.proposalEta(id);
      await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(eta) - 1]);
      await expect(f.governor["execute(uint256)"](id))
        .to.be.revertedWithCustomError(f.governor, "CovenantGovernorNotReady")
        .withArgs(id, eta);
      await reachEta(f.governor, id);
      // The chain moved on since the simulation: the registry wants a fresh one (the keeper re-simulates).
      await mine(GOV.executionWindow + 1);
      const forkBlock = (await f.evolution.latestAttestation(evolutionId)).forkBlock;
      await expect(f.governor["execute(uint256)"](id))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryAttestationTooOld")
        .withArgs(evolutionId, forkBlock, GOV.executionWindow);
      await attest(f, evolutionId, actions);

      const predicted = await f.evolution.predictedAddress(evolutionId);
      const registryAddress = await f.evolution.getAddress();
      expect(predicted).to.equal(
        hre.ethers.getCreate2Address(registryAddress, hre.ethers.toBeHex(evolutionId, 32), V2_HASH),
      );
      const executed = f.governor["execute(uint256)"](id);
      await expect(executed)
        .to.emit(f.evolution, "EvolutionDeployed")
        .withArgs(evolutionId, predicted, V2_HASH, anyValue);
      await expect(executed).to.emit(f.policy, "Upgraded").withArgs(predicted);
      // The CREATE2 address commits to the init code hash; the event reports the runtime code it produced.
      const receipt = await (await executed).wait();
      const deployedLog = receipt!.logs
        .map((l: { address: string; topics: readonly string[]; data: string }) =>
          l.address === registryAddress ? f.evolution.interface.parseLog(l) : null,
        )
        .find((l) => l?.name === "EvolutionDeployed");
      expect(deployedLog!.args.runtimeCodeHash).to.equal(
        hre.ethers.keccak256(await hre.ethers.provider.getCode(predicted)),
      );
      const e = await f.evolution.getEvolution(evolutionId);
      expect([e.status, e.deployed]).to.deep.equal([BigInt(Status.Deployed), predicted]);

      const upgraded = CommonsPolicyV2__factory.connect(target, f.deployer);
      expect(await upgraded.version()).to.equal(2);
      expect(await upgraded.implementation()).to.equal(predicted);
      expect(await upgraded.splitAmount(1001, 5000, 3000, 2000)).to.deep.equal([500n, 300n, 201n]);
      // State kept across the upgrade.
      expect(await upgraded.commonsFloorBps()).to.equal(GOV.commonsFloorBps);
      expect(await upgraded.owner()).to.equal(await f.timelock.getAddress());
    });

    it("cannot be deployed twice, or by anyone but the timelock", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f, 0);
      await attest(f, evolutionId, actions);
      const { id } = await proposeActions(f, actions, "Dust to the commons, once");
      await passAndQueue(f, id);
      await reachEta(f.governor, id);
      await f.governor["execute(uint256)"](id);
      const timelock = await impersonate(await f.timelock.getAddress());
      await expect(f.evolution.connect(timelock).deployEvolution(evolutionId))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Deployed);
      await expect(proposeActions(f, actions, "Dust to the commons, twice"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Deployed);
      await expect(f.evolution.connect(f.stranger).deployEvolution(evolutionId))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryNotTimelock")
        .withArgs(f.stranger.address);
    });

    it("is rolled back the same way: a proposal the timelock executes, recorded once", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions, target } = await proposeV2(f, 0);
      await attest(f, evolutionId, actions);
      const { id } = await proposeActions(f, actions, "Dust to the commons, before a rollback");
      await passAndQueue(f, id);
      await reachEta(f.governor, id);
      await f.governor["execute(uint256)"](id);
      const timelock = await impersonate(await f.timelock.getAddress());
      await expect(f.evolution.connect(timelock).rollbackEvolution(evolutionId))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.Deployed);

      const back = rollbackActions({
        registry: (await f.evolution.getAddress()) as Address,
        evolutionId,
        target: target as Address,
        previous: f.policyImplementation as Address,
      });
      const { id: rollbackId, tx } = await proposeActions(f, back, "Roll back dust-to-commons");
      await expect(tx)
        .to.emit(f.evolution, "RollbackLinked")
        .withArgs(evolutionId, rollbackId, await f.governor.getAddress());
      await passAndQueue(f, rollbackId);
      await reachEta(f.governor, rollbackId);
      const deployed = (await f.evolution.getEvolution(evolutionId)).deployed;
      await expect(f.governor["execute(uint256)"](rollbackId))
        .to.emit(f.evolution, "EvolutionRolledBack")
        .withArgs(evolutionId, deployed);
      expect(await f.policy.version()).to.equal(1);
      expect((await f.evolution.getEvolution(evolutionId)).status).to.equal(Status.RolledBack);
      await expect(proposeActions(f, back, "Roll back again"))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryUnexpectedStatus")
        .withArgs(evolutionId, Status.RolledBack);
    });
  });

  describe("code that differs from its hash", () => {
    it("can be neither staged, nor deployed, nor recorded, even if the staged bytes were altered", async () => {
      const f = await loadFixture(deployWithAgents);
      const { evolutionId, actions } = await proposeV2(f, 0);
      await attest(f, evolutionId, actions);
      const { id } = await proposeActions(f, actions, "Dust to the commons, tampered");
      await passAndQueue(f, id);
      await reachEta(f.governor, id);
      // Corrupt the staged code where it is kept (the registry's first CREATE: its data contract).
      const registryAddress = await f.evolution.getAddress();
      const chunk = hre.ethers.getCreateAddress({ from: registryAddress, nonce: 1 });
      const stored = await hre.ethers.provider.getCode(chunk);
      expect(stored.slice(4)).to.equal(V2_INIT_CODE.slice(2).toLowerCase());
      const altered = `${stored.slice(0, -2)}${stored.endsWith("ff") ? "00" : "ff"}`;
      await hre.network.provider.send("hardhat_setCode", [chunk, altered]);
      await expect(f.governor["execute(uint256)"](id))
        .to.be.revertedWithCustomError(f.evolution, "EvolutionRegistryInitCodeMismatch")
        .withArgs(evolutionId, V2_HASH, hre.ethers.keccak256(`0x${altered.slice(4)}`));
      expect((await f.evolution.getEvolution(evolutionId)).deployed).to.equal(hre.ethers.ZeroAddress);
      expect(await hre.ethers.provider.getCode(await f.evolution.predictedAddress(evolutionId))).to.equal("0x");
    });
  });

  describe("the governed component (CommonsPolicy)", () => {
    it("upgrades and changes only by the timelock", async () => {
      const f = await loadFixture(deployWithAgents);
      const v2 = await new CommonsPolicyV2__factory(f.deployer).deploy();
      await expect(f.policy.connect(f.stranger).upgradeToAndCall(await v2.getAddress(), "0x"))
        .to.be.revertedWithCustomError(f.policy, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      await expect(f.policy.connect(f.deployer).setCommonsFloor(0))
        .to.be.revertedWithCustomError(f.policy, "OwnableUnauthorizedAccount")
        .withArgs(f.deployer.address);
      await expect(f.policy.connect(f.stranger).renounceOwnership())
        .to.be.revertedWithCustomError(f.policy, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      const timelock = await impersonate(await f.timelock.getAddress());
      await expect(f.policy.connect(timelock).renounceOwnership()).to.be.revertedWithCustomError(
        f.policy,
        "CommonsPolicyCannotRenounce",
      );
      await expect(f.policy.connect(timelock).setCommonsFloor(1_500))
        .to.emit(f.policy, "CommonsFloorSet")
        .withArgs(GOV.commonsFloorBps, 1_500);
      await expect(f.policy.connect(timelock).setCommonsFloor(2_500))
        .to.be.revertedWithCustomError(f.policy, "CommonsPolicyBelowFloor")
        .withArgs(2_000, 2_500);
      await expect(f.policy.connect(timelock).setDefaultSplit(6_000, 3_000, 1_000))
        .to.be.revertedWithCustomError(f.policy, "CommonsPolicyBelowFloor")
        .withArgs(1_000, 1_500);
      await expect(f.policy.connect(timelock).setDefaultSplit(4_000, 3_000, 3_000))
        .to.emit(f.policy, "DefaultSplitSet")
        .withArgs(4_000, 3_000, 3_000);
      expect(await f.policy.defaultSplit()).to.deep.equal([4_000n, 3_000n, 3_000n]);
    });

    it("checks splits against 10,000 and the floor", async () => {
      const f = await loadFixture(deployWithAgents);
      await expect(f.policy.checkSplit(5_000, 3_000, 1_999))
        .to.be.revertedWithCustomError(f.policy, "CommonsPolicyInvalidSplit")
        .withArgs(5_000, 3_000, 1_999);
      await expect(f.policy.checkSplit(6_000, 3_500, 500))
        .to.be.revertedWithCustomError(f.policy, "CommonsPolicyBelowFloor")
        .withArgs(500, GOV.commonsFloorBps);
      await f.policy.checkSplit(5_000, 3_000, 2_000);
      await expect(f.policy.initialize(f.stranger.address, 0, 10_000, 0, 0)).to.be.revertedWithCustomError(
        f.policy,
        "InvalidInitialization",
      );
      const implementation = CommonsPolicy__factory.connect(f.policyImplementation, f.stranger);
      await expect(implementation.initialize(f.stranger.address, 0, 10_000, 0, 0)).to.be.revertedWithCustomError(
        implementation,
        "InvalidInitialization",
      );
    });
  });
});
