import { join } from "node:path";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Contract, ContractTransactionResponse } from "ethers";
import { HDNodeWallet, Mnemonic } from "ethers";
import hre from "hardhat";
import type { JsonRpcServer } from "hardhat/internal/hardhat-network/jsonrpc/server";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { errorAbi } from "../../keepers/governance/contracts";
import { ReportStore } from "../../keepers/governance/reports";
import { GovernanceWorker } from "../../keepers/governance/worker";
import {
  connectChain,
  createLogger,
  createMetrics,
  DirectSubmitter,
  keeperSchema,
  loadMigrations,
  migrate,
  migrateShared,
  openStore,
} from "../../keepers/shared";
import { ballotTypes, evolutionActions, governorDomain, PROPOSAL_STATES, Support } from "../../sdk";
import { execFromSafe } from "../../test/governance/safe";
import { makeTempDir } from "../../test/helpers/tmp";
import {
  type CommonsPolicy,
  CommonsPolicy__factory,
  CommonsPolicyV2__factory,
  type CovenantGovernor,
  type CovenantVotes,
  type EvolutionRegistry,
} from "../../typechain-types";
import type { DemoAgent } from "./identity";
import { check, type Report } from "./report";

export interface GovernanceDemoContext {
  chainId: number;
  governor: CovenantGovernor;
  votes: CovenantVotes;
  evolution: EvolutionRegistry;
  policy: CommonsPolicy;
  council: HardhatEthersSigner;
  relayer: HardhatEthersSigner;
  humans: HardhatEthersSigner[];
  guardianSafe: Contract;
  guardianOwners: HardhatEthersSigner[];
  /** Hardhat dev account index of the simulator key (it holds SIMULATOR_ROLE). */
  simulatorIndex: number;
  agents: DemoAgent[];
  secondsPerAgePoint: number;
  /** Every deployed contract by its deployment-record name: the simulation checks each one's invariants. */
  addresses: Record<string, Address>;
}

async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (receipt?.status !== 1) throw new Error("transaction failed");
  return { tx: receipt.hash, gas: receipt.gasUsed, receipt };
}

async function advanceTo(timestamp: bigint) {
  await hre.network.provider.send("evm_setNextBlockTimestamp", [Number(timestamp)]);
  await hre.network.provider.send("evm_mine", []);
}

/**
 * Governance: the council seats the agents; an evolution of CommonsPolicy is proposed by hash, simulated on a fork by
 * the governance keeper, voted on by both houses (one agent's ballot relayed), queued and executed by the keeper, and
 * the policy's behaviour changes on chain. A second evolution is vetoed by the guardian Safe.
 */
export async function governanceDemo(report: Report, ctx: GovernanceDemoContext): Promise<void> {
  report.section("Governance: two houses, evolution, veto");
  const { governor, votes, evolution, policy } = ctx;

  for (const a of ctx.agents) {
    const r = await mined(votes.connect(ctx.council).admitAgent(a.agentId));
    report.add({
      step: `council admits ${a.name}`,
      detail: `agent ${a.agentId} votes as ${a.key.address.slice(0, 10)}…`,
      ...r,
    });
  }
  await hre.network.provider.send("evm_increaseTime", [48 * ctx.secondsPerAgePoint]);
  await hre.network.provider.send("evm_mine", []);
  const nowTs = BigInt((await hre.ethers.provider.getBlock("latest"))!.timestamp);
  const weights: string[] = [];
  for (const a of ctx.agents) {
    const w = await votes.agentWeight(a.agentId);
    const age = (nowTs - (await votes.agentSeat(a.agentId)).birthTime) / BigInt(ctx.secondsPerAgePoint);
    check(w === age && w >= 48n, `${a.name}: weight ${w}, but ${age} age periods since its charter`);
    weights.push(`${a.name} ${w}`);
  }
  report.add({
    step: "agents age",
    detail: `one point per age period since each charter: ${weights.join(", ")} (no tokens, no delegation)`,
  });

  // The governance keeper, in-process, on a served view of this chain.
  const keeper = await startKeeper(ctx);
  try {
    const before = await policy.splitAmount(1001, 5000, 3000, 2000);
    check(before[0] === 501n && before[2] === 200n, `v1 split of 1001 is ${before.join("/")}`);

    // Evolution 1: dust to the commons.
    const v2Code = CommonsPolicyV2__factory.bytecode;
    const policyAddress = (await policy.getAddress()) as Address;
    const p = await mined(
      evolution
        .connect(ctx.humans[0]!)
        .propose(hre.ethers.keccak256(v2Code), 20, "ipfs://covenant/evolutions/dust-to-commons", policyAddress),
    );
    const evolutionId = await evolution.evolutionCount();
    report.add({
      step: "propose evolution 1 by hash",
      detail: `CommonsPolicyV2 (risk 20) as evolution ${evolutionId}`,
      ...p,
    });
    const staged = await mined(evolution.connect(ctx.relayer).stageInitCode(evolutionId, v2Code));
    report.add({
      step: "stage its init code",
      detail: `${(v2Code.length - 2) / 2} bytes, checked against the hash`,
      ...staged,
    });

    const sim = await keeper.worker.step();
    check(
      sim.simulations.length === 1 && sim.simulations[0]!.passed,
      "the keeper did not simulate evolution 1 successfully",
    );
    const att = await evolution.latestAttestation(evolutionId);
    check(att.passed, "no passed attestation on chain");
    report.add({
      step: "keeper simulates on a fork and attests",
      detail: `fork block ${att.forkBlock}, ${att.testsRun} steps, ${att.invariantsChecked} invariants held, report ${sim.simulations[0]!.cid.slice(0, 20)}…`,
    });

    const actions = evolutionActions({
      registry: (await evolution.getAddress()) as Address,
      evolutionId,
      target: policyAddress,
      predicted: (await evolution.predictedAddress(evolutionId)) as Address,
    });
    const proposed = await mined(
      governor
        .connect(ctx.humans[1]!)
        .propose(
          actions.targets,
          actions.values,
          actions.calldatas as Hex[] as string[],
          "Evolution 1: dust to the commons",
        ),
    );
    const id = await governor.latestProposalId();
    const [risk, , scale, extraDelay] = await governor.proposalRequirements(id);
    report.add({
      step: "propose the deployment to governance",
      detail: `proposal ${id}: risk ${risk} → quorum ×${Number(scale) / 10_000}, +${Number(extraDelay) / 3600} h delay`,
      ...proposed,
    });

    await advanceTo((await governor.proposalSnapshot(id)) + 1n);
    for (const [i, h] of ctx.humans.entries()) {
      const r = await mined(governor.connect(h).castVote(id, Support.For));
      report.add({ step: `human ${i + 1} votes for`, detail: "castVote(id, 1)", ...r });
    }
    const [ada, brook] = ctx.agents;
    const nonce = await governor.nonces(ada!.key.address);
    const signature = await ada!.key.signTypedData(
      governorDomain(ctx.chainId, (await governor.getAddress()) as Address),
      { Ballot: [...ballotTypes.Ballot] },
      { proposalId: id, support: Support.For, voter: ada!.key.address, nonce },
    );
    const relayed = await mined(
      governor.connect(ctx.relayer).castVoteBySig(id, Support.For, ada!.key.address, signature),
    );
    report.add({
      step: `${ada!.name} votes for, relayed`,
      detail: "signed Ballot relayed by the keeper key",
      ...relayed,
    });
    const direct = await mined(governor.connect(brook!.key).castVote(id, Support.For));
    report.add({ step: `${brook!.name} votes for`, detail: "castVote from the agent's own key", ...direct });
    const [hFor, , , hQuorum] = await governor.humanHouseVotes(id);
    const [aFor, , , aQuorum] = await governor.agentHouseVotes(id);
    report.add({
      step: "tally",
      detail: `humans ${hFor} for (quorum ${hQuorum}); agents ${aFor} for (quorum ${aQuorum}, advisory)`,
    });

    await advanceTo((await governor.proposalDeadline(id)) + 1n);
    const queued = await keeper.worker.step();
    check(PROPOSAL_STATES[Number(await governor.state(id))] === "Queued", "the keeper did not queue the proposal");
    report.add({
      step: "keeper queues it",
      detail: `outcome ${queued.outcomes.map((o) => o.status).join(", ")}; eta ${await governor.proposalEta(id)}`,
    });

    await advanceTo(await governor.proposalEta(id));
    // The chain moved on since the simulation (past the keeper's 20-block distance): it simulates again first.
    await hre.network.provider.send("hardhat_mine", ["0x19"]);
    for (let i = 0; i < 3 && PROPOSAL_STATES[Number(await governor.state(id))] !== "Executed"; i++) {
      const s = await keeper.worker.step();
      const what = s.intents.map((x) => (x.kind === "simulate" ? `re-simulate (${x.reason})` : x.kind)).join(", ");
      if (what) report.add({ step: "keeper acts at the eta", detail: what });
    }
    check(PROPOSAL_STATES[Number(await governor.state(id))] === "Executed", "the keeper did not execute the proposal");
    const upgraded = CommonsPolicyV2__factory.connect(policyAddress, ctx.relayer);
    const after = await upgraded.splitAmount(1001, 5000, 3000, 2000);
    check((await upgraded.version()) === 2n, "CommonsPolicy is not at version 2");
    check(after[0] === 500n && after[2] === 201n, `v2 split of 1001 is ${after.join("/")}`);
    report.add({
      step: "CommonsPolicy evolved",
      detail: `version 2 at ${(await upgraded.implementation()).slice(0, 10)}…; 1001 splits ${before.join("/")} → ${after.join("/")}`,
    });

    // Evolution 2: vetoed by the guardian Safe while voting.
    const v1Code = CommonsPolicy__factory.bytecode;
    await mined(
      evolution
        .connect(ctx.humans[0]!)
        .propose(hre.ethers.keccak256(v1Code), 35, "ipfs://covenant/evolutions/back-to-v1-rounding", policyAddress),
    );
    const evolution2 = await evolution.evolutionCount();
    await mined(evolution.connect(ctx.relayer).stageInitCode(evolution2, v1Code));
    const sim2 = await keeper.worker.step();
    check(sim2.simulations[0]?.passed === true, "evolution 2 was not simulated");
    const actions2 = evolutionActions({
      registry: (await evolution.getAddress()) as Address,
      evolutionId: evolution2,
      target: policyAddress,
      predicted: (await evolution.predictedAddress(evolution2)) as Address,
    });
    await mined(
      governor
        .connect(ctx.humans[0]!)
        .propose(
          actions2.targets,
          actions2.values,
          actions2.calldatas as Hex[] as string[],
          "Evolution 2: personal rounding again",
        ),
    );
    const id2 = await governor.latestProposalId();
    await advanceTo((await governor.proposalSnapshot(id2)) + 1n);
    await mined(governor.connect(ctx.humans[0]!).castVote(id2, Support.For));
    report.add({ step: "evolution 2 simulated, proposed, voting", detail: `proposal ${id2}, risk 35` });
    const veto = await execFromSafe(
      ctx.guardianSafe,
      ctx.guardianOwners.slice(0, 2),
      await governor.getAddress(),
      governor.interface.encodeFunctionData("cancel(uint256)", [id2]),
      ctx.guardianOwners[0]!,
    );
    const vetoReceipt = await veto.wait();
    check(
      PROPOSAL_STATES[Number(await governor.state(id2))] === "Canceled",
      "the guardian's veto did not cancel proposal 2",
    );
    check((await upgraded.version()) === 2n, "the vetoed evolution changed the policy");
    report.add({
      step: "guardian Safe vetoes evolution 2",
      detail: "2-of-3 owners sign cancel(id) in the Safe; state Canceled, policy stays at version 2",
      tx: vetoReceipt!.hash,
      gas: vetoReceipt!.gasUsed,
    });
  } finally {
    await keeper.close();
  }
}

/** The governance keeper's worker against this chain served over HTTP, with an embedded database. */
async function startKeeper(ctx: GovernanceDemoContext) {
  const { JsonRpcServer: Server } = require("hardhat/internal/hardhat-network/jsonrpc/server") as {
    JsonRpcServer: new (config: { hostname: string; port: number; provider: unknown }) => JsonRpcServer;
  };
  const server = new Server({ hostname: "127.0.0.1", port: 0, provider: hre.network.provider });
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const dir = makeTempDir("covenant-demo-keeper-");
  const store = await openStore({ dataDir: join(dir, "db") });
  const sharedSchema = await migrateShared(store, "governance");
  await migrate(
    store,
    keeperSchema("governance"),
    loadMigrations(join(__dirname, "../../keepers/governance/migrations")),
  );
  const logger = createLogger("governance", "silent");
  const metrics = createMetrics("governance", { defaultMetrics: false });
  const chain = connectChain({ rpcUrls: [url], chainId: ctx.chainId });
  const mnemonic = Mnemonic.fromPhrase("test test test test test test test test test test test junk");
  const key = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${ctx.simulatorIndex}`).privateKey as Hex;
  const account = privateKeyToAccount(key);
  const submitter = await DirectSubmitter.start({
    store,
    schema: sharedSchema,
    publicClient: chain.publicClient,
    account,
    confirmations: 0,
    errorAbi: errorAbi(),
    logger,
    metrics,
  });
  const worker = new GovernanceWorker({
    client: chain.publicClient,
    submitter,
    store,
    schema: keeperSchema("governance"),
    sharedSchema,
    logger,
    metrics,
    chainId: ctx.chainId,
    governor: (await ctx.governor.getAddress()) as Address,
    account: account.address,
    startBlock: 0n,
    confirmations: 0,
    reorgDepth: 64,
    chunkBlocks: 2_000,
    execute: true,
    simulate: true,
    resimulateDistance: 20,
    forkUrl: url,
    reports: new ReportStore(join(dir, "reports")),
    addresses: ctx.addresses,
    txWaitMs: 30_000,
  });
  await worker.init();
  return {
    worker,
    close: async () => {
      await store.close();
      await server.close();
    },
  };
}
