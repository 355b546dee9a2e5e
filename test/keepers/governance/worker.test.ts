import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";
import type { Address, Hex } from "viem";
import { canonicalJson, contentAddress } from "../../../keepers/governance/reports";
import type { Store } from "../../../keepers/shared";
import { actionsHash, evolutionActions } from "../../../sdk";
import { CommonsPolicyV2__factory, SkimmingCommonsPolicy__factory } from "../../../typechain-types";
import {
  commonsSpend,
  deployWithAgents,
  endVoting,
  For,
  type GovernanceFixture,
  proposeAndGetId,
  startVoting,
} from "../../fixtures/governance";
import { type Harness, openTestStore, serveHardhat, startWorker } from "./harness";

type F = GovernanceFixture & { agentA: bigint; agentB: bigint };
const ONE_ETH = hre.ethers.parseEther("1");

async function voteAll(f: F, id: bigint) {
  for (const h of f.humans) await f.governor.connect(h).castVote(id, For);
  await f.governor.connect(f.agentKey).castVote(id, For);
  await f.governor.connect(f.agentKey2).castVote(id, For);
}

/** Proposes an evolution of the CommonsPolicy proxy to `initCode` and stages it. */
async function proposeEvolution(f: F, initCode: string, riskScore = 10) {
  const hash = hre.ethers.keccak256(initCode);
  const target = await f.policy.getAddress();
  const id = await f.evolution.connect(f.human1).propose.staticCall(hash, riskScore, "ipfs://spec", target);
  await f.evolution.connect(f.human1).propose(hash, riskScore, "ipfs://spec", target);
  await f.evolution.connect(f.stranger).stageInitCode(id, initCode);
  return id;
}

describe("governance keeper: worker on a served chain", function () {
  this.timeout(180_000);
  let server: { url: string; close: () => Promise<void> };
  let store: Store;
  let h: Harness;

  before(async () => {
    server = await serveHardhat();
    store = await openTestStore();
  });
  after(async () => {
    await store?.close();
    await server?.close();
  });

  it("queues a passed proposal when voting ends and executes it when the timelock allows, once", async () => {
    const f = await loadFixture(deployWithAgents);
    h = await startWorker(f, server.url, store);
    const { target, data } = await commonsSpend(f.treasury, f.payee.address, ONE_ETH);
    const { id } = await proposeAndGetId(f.governor, f.human1, [target], [0n], [data], "Keeper: release 1 ETH");

    let s = await h.worker.step();
    expect(s.intents).to.deep.equal([]);
    await startVoting(f.governor, id);
    await voteAll(f, id);
    s = await h.worker.step();
    expect(s.transitions).to.deep.equal([{ proposalId: id, from: "Pending", to: "Active" }]);
    await endVoting(f.governor, id);
    s = await h.worker.step();
    expect(s.outcomes.map((o) => o.status)).to.deep.equal(["confirmed"]);
    expect(await f.governor.state(id)).to.equal(5n); // Queued
    s = await h.worker.step(); // not yet executable
    expect(s.intents).to.deep.equal([]);
    await time.increaseTo(await f.governor.proposalEta(id));
    const before = await hre.ethers.provider.getBalance(f.payee.address);
    s = await h.worker.step();
    expect(s.intents.map((i) => i.kind)).to.deep.equal(["execute"]);
    expect(s.outcomes.map((o) => o.status)).to.deep.equal(["confirmed"]);
    expect(await hre.ethers.provider.getBalance(f.payee.address)).to.equal(before + ONE_ETH);
    s = await h.worker.step();
    expect(s.intents).to.deep.equal([]);
    s = await h.worker.step();
    expect(s.intents).to.deep.equal([]);

    expect(await h.worker.table.transitions(h.store, id)).to.deep.equal([
      { from: "Pending", to: "Active" },
      { from: "Active", to: "Succeeded" },
      { from: "Succeeded", to: "Queued" },
      { from: "Queued", to: "Executed" },
    ]);
    const logged = h.logs.filter((l) => l.msg === "proposal state changed").map((l) => `${l.from}>${l.to}`);
    expect(logged).to.deep.equal(["Pending>Active", "Active>Succeeded", "Succeeded>Queued", "Queued>Executed"]);
    const metrics = await h.metrics.text();
    expect(metrics).to.match(/proposal_state_changes_total\{state="Executed"[^}]*\} 1/);
    expect(metrics).to.match(/actions_total\{kind="execute",result="confirmed"[^}]*\} 1/);
    expect(metrics).to.match(/proposals\{state="Executed"[^}]*\} 1/);
  });

  it("reports a failing execution with its revert reason and does not retry it blindly", async () => {
    const f = await loadFixture(deployWithAgents);
    h = await startWorker(f, server.url, store);
    const tooMuch = hre.ethers.parseEther("50");
    const { target, data } = await commonsSpend(f.treasury, f.payee.address, tooMuch);
    const { id } = await proposeAndGetId(f.governor, f.human1, [target], [0n], [data], "Keeper: release too much");
    await startVoting(f.governor, id);
    await voteAll(f, id);
    await endVoting(f.governor, id);
    await h.worker.step();
    await time.increaseTo(await f.governor.proposalEta(id));
    const s = await h.worker.step();
    expect(s.outcomes).to.have.length(1);
    expect(s.outcomes[0]!.status).to.equal("rejected");
    expect(s.outcomes[0]!.revertReason).to.equal(
      `TreasuryInsufficientCommons(${hre.ethers.ZeroAddress}, ${tooMuch}, ${hre.ethers.parseEther("10")})`,
    );
    const error = h.logs.find((l) => l.msg === "transaction refused by simulation; not sent");
    expect(error?.revertReason).to.equal(s.outcomes[0]!.revertReason);
    expect(await f.governor.state(id)).to.equal(5n); // still Queued: nothing was sent
  });

  it("simulates a new evolution on a fork, stores the report by content address and attests it", async () => {
    const f = await loadFixture(deployWithAgents);
    h = await startWorker(f, server.url, store);
    const evolutionId = await proposeEvolution(f, CommonsPolicyV2__factory.bytecode);
    const s = await h.worker.step();
    expect(s.simulations).to.have.length(1);
    if (!s.simulations[0]!.passed) console.log(JSON.stringify(await h.reports.get(s.simulations[0]!.cid), null, 1));
    expect(s.simulations[0]!.passed).to.equal(true);
    expect(s.outcomes.map((o) => o.status)).to.deep.equal(["confirmed"]);

    const attestation = await f.evolution.latestAttestation(evolutionId);
    const stored = (await h.reports.get(s.simulations[0]!.cid)) as Record<string, unknown>;
    expect(attestation.passed).to.equal(true);
    expect(attestation.reportHash).to.equal(contentAddress(Buffer.from(canonicalJson(stored))).sha256);
    expect(contentAddress(Buffer.from(canonicalJson(stored))).cid).to.equal(s.simulations[0]!.cid);
    expect(BigInt(stored.forkBlock as string)).to.equal(attestation.forkBlock);
    const expectedActions = evolutionActions({
      registry: (await f.evolution.getAddress()) as Address,
      evolutionId,
      target: (await f.policy.getAddress()) as Address,
      predicted: (await f.evolution.predictedAddress(evolutionId)) as Address,
    });
    expect(attestation.actionsHash).to.equal(actionsHash(expectedActions));
    expect(attestation.testsRun).to.equal((stored.steps as unknown[]).length);
    const invariants = stored.invariants as { name: string; result: string }[];
    expect(invariants.map((i) => i.result)).to.deep.equal(invariants.map(() => "held"));
    expect(attestation.invariantsChecked).to.equal(invariants.length);
    expect(invariants.map((i) => i.name)).to.include("CommonsPolicy: splits sum to 10,000 and meet the floor");
    // The real chain is unchanged: the upgrade happened only on the fork.
    expect(await f.policy.version()).to.equal(1);
    // Nothing more to do until a proposal carries it.
    expect((await h.worker.step()).intents).to.deep.equal([]);
  });

  it("catches a bad evolution with the invariant checks and attests the failure, which rejects it", async () => {
    const f = await loadFixture(deployWithAgents);
    h = await startWorker(f, server.url, store);
    const evolutionId = await proposeEvolution(f, SkimmingCommonsPolicy__factory.bytecode);
    const s = await h.worker.step();
    expect(s.simulations[0]!.passed).to.equal(false);
    const report = (await h.reports.get(s.simulations[0]!.cid)) as { invariants: { name: string; result: string }[] };
    const broken = report.invariants.filter((i) => i.result === "broken").map((i) => i.name);
    expect(broken).to.deep.equal(["CommonsPolicy: splits sum to 10,000 and meet the floor"]);
    expect((await f.evolution.getEvolution(evolutionId)).status).to.equal(7n); // Rejected
    expect(
      h.logs.some((l) => l.msg === "simulation finished; report stored by content address" && l.passed === false),
    ).to.equal(true);
  });

  it("re-simulates just before execution when the chain moved on, then executes the evolution", async () => {
    const f = await loadFixture(deployWithAgents);
    h = await startWorker(f, server.url, store);
    const evolutionId = await proposeEvolution(f, CommonsPolicyV2__factory.bytecode);
    await h.worker.step(); // simulate + attest
    const actions = evolutionActions({
      registry: (await f.evolution.getAddress()) as Address,
      evolutionId,
      target: (await f.policy.getAddress()) as Address,
      predicted: (await f.evolution.predictedAddress(evolutionId)) as Address,
    });
    const { id } = await proposeAndGetId(
      f.governor,
      f.human2,
      actions.targets,
      actions.values,
      actions.calldatas as Hex[] as string[],
      "Keeper: dust to the commons",
    );
    await startVoting(f.governor, id);
    await voteAll(f, id);
    await endVoting(f.governor, id);
    await h.worker.step(); // queue
    await time.increaseTo(await f.governor.proposalEta(id));
    await mine(25); // past RESIMULATE_DISTANCE (20) but within the registry's execution window (50)
    const firstFork = (await f.evolution.latestAttestation(evolutionId)).forkBlock;
    let s = await h.worker.step();
    expect(s.intents.map((i) => i.kind)).to.deep.equal(["simulate"]);
    expect(s.simulations[0]!.passed).to.equal(true);
    const renewed = (await f.evolution.latestAttestation(evolutionId)).forkBlock;
    expect(renewed > firstFork).to.equal(true);
    s = await h.worker.step();
    expect(s.intents.map((i) => i.kind)).to.deep.equal(["execute"]);
    expect(s.outcomes.map((o) => o.status)).to.deep.equal(["confirmed"]);
    expect(await f.policy.version()).to.equal(2);
    const sims = await h.worker.table.simulations(h.store, evolutionId);
    expect(sims.map((x) => x.reason)).to.deep.equal(["new", "before-execution"]);
  });

  if (process.env.DATABASE_URL) {
    it("runs the same on PostgreSQL (DATABASE_URL)", async () => {
      const f = await loadFixture(deployWithAgents);
      const pg = await openTestStore(process.env.DATABASE_URL);
      h = await startWorker(f, server.url, pg);
      const { target, data } = await commonsSpend(f.treasury, f.payee.address, ONE_ETH);
      const { id } = await proposeAndGetId(f.governor, f.human1, [target], [0n], [data], "Keeper on PostgreSQL");
      await startVoting(f.governor, id);
      await voteAll(f, id);
      await endVoting(f.governor, id);
      await h.worker.step();
      await time.increaseTo(await f.governor.proposalEta(id));
      await h.worker.step();
      expect(await f.governor.state(id)).to.equal(7n);
      await h.worker.step(); // observes the execution
      expect((await h.worker.table.transitions(h.store, id)).map((t) => t.to)).to.deep.equal([
        "Succeeded",
        "Queued",
        "Executed",
      ]);
      await h.dropSchemas();
      await pg.close();
    });
  }
});
