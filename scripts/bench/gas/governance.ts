import { time } from "@nomicfoundation/hardhat-network-helpers";
import hre from "hardhat";
import {
  bornAgent,
  commonsSpend,
  deployGovernance,
  For,
  proposeAndGetId,
  startVoting,
} from "../../../test/fixtures/governance";
import { ReferenceGovernor__factory } from "../../../typechain-types";
import type { GasMeasurement } from "./types";

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

/** A 56-character description, as a short real proposal title would be. */
const DESCRIPTION = "Spend 1 ETH from the commons to fund agent onboarding...";

/** Governance: the figures issue #6 sets targets for. */
export async function governanceGas(): Promise<GasMeasurement[]> {
  const out: GasMeasurement[] = [];
  const f = await deployGovernance();
  const { governor, human1, human2, human3 } = f;
  const spend = await commonsSpend(f.treasury, f.payee.address, hre.ethers.parseEther("1"));
  const policy = await f.policy.getAddress();
  const setFloor = f.policy.interface.encodeFunctionData("setCommonsFloor", [1_500]);

  // An earlier proposal exists, so the id counter and the governor's settings slots are not first writes.
  await proposeAndGetId(governor, human1, [spend.target], [0n], [spend.data], `${DESCRIPTION} (earlier)`);

  out.push({
    name: "CovenantGovernor.propose(1 call, 36-byte calldata)",
    gas: await gasOf(governor.connect(human3).propose([policy], [0n], [setFloor], "Raise the commons floor to 15%")),
    target: 130_000,
    reference: "plain OpenZeppelin propose 69,315; OpenZeppelin GovernorStorage + sequential ids (see below)",
    conditions:
      "one call CommonsPolicy.setCommonsFloor(1500) (36-byte calldata, value 0), 30-character description, EOA human " +
      "proposer above the threshold, details stored by id, sequential ids, not the first proposal",
  });
  const proposeGas = await gasOf(governor.connect(human2).propose([spend.target], [0n], [spend.data], DESCRIPTION));
  out.push({
    name: "CovenantGovernor.propose(1 call)",
    gas: proposeGas,
    target: 130_000,
    reference: "plain OpenZeppelin propose 69,315; OpenZeppelin GovernorStorage + sequential ids (see below)",
    conditions:
      "one call Treasury.spendCommons(token, to, amount, reason) (132-byte calldata, value 0), 56-character " +
      "description, EOA human proposer above the threshold, details stored by id, sequential ids, not the first proposal",
  });

  // The same proposal on OpenZeppelin's stock GovernorStorage + sequential ids, over the same voting contract.
  const reference = await new ReferenceGovernor__factory(f.deployer).deploy(await f.votes.getAddress());
  await (
    await reference.connect(human1).propose([spend.target], [0n], [spend.data], `${DESCRIPTION} (earlier)`)
  ).wait();
  out.push({
    name: "ReferenceGovernor.propose(1 call) [OpenZeppelin GovernorStorage]",
    gas: await gasOf(reference.connect(human2).propose([spend.target], [0n], [spend.data], DESCRIPTION)),
    conditions:
      "reference only: the same commons proposal and proposer on OpenZeppelin's stock GovernorStorage + sequential ids",
  });

  const id = await governor.latestProposalId();
  await startVoting(governor, id);
  await governor.connect(human1).castVote(id, For);
  out.push({
    name: "CovenantGovernor.castVote",
    gas: await gasOf(governor.connect(human2).castVote(id, For)),
    target: 66_000,
    reference: "OpenZeppelin GovernorCountingSimple 66,000 warm, 83,100 first",
    conditions: "EOA human voter, not the first vote of the house on the proposal, weight read from one slot",
  });
  out.push({
    name: "CovenantGovernor.castVoteWithReason",
    gas: await gasOf(governor.connect(human3).castVoteWithReason(id, For, "for the onboarding fund")),
    reference: "OpenZeppelin castVoteWithReason",
    conditions: "EOA human voter, 23-byte reason, not the first vote of the house on the proposal",
  });

  // An agent's first vote in its house (the house's tally slot is new) and a relayed signed vote.
  const agentA = await bornAgent(f.registry, f.operator, f.agentKey);
  const agentB = await bornAgent(f.registry, f.operator2, f.agentKey2);
  await f.votes.connect(f.council).admitAgent(agentA);
  await f.votes.connect(f.council).admitAgent(agentB);
  await time.increase(10 * Number(f.settings.secondsPerAgePoint));
  const { id: id2 } = await proposeAndGetId(governor, human1, [spend.target], [0n], [spend.data], "Agents vote too");
  await startVoting(governor, id2);
  out.push({
    name: "CovenantGovernor.castVote(agent, first of its house)",
    gas: await gasOf(governor.connect(f.agentKey).castVote(id2, For)),
    conditions: "EOA agent signer, first vote of the agent house on the proposal (new tally slot)",
  });
  const { chainId } = await hre.ethers.provider.getNetwork();
  const nonce = await governor.nonces(f.agentKey2.address);
  const signature = await f.agentKey2.signTypedData(
    { name: "CovenantGovernor", version: "1", chainId, verifyingContract: await governor.getAddress() },
    {
      Ballot: [
        { name: "proposalId", type: "uint256" },
        { name: "support", type: "uint8" },
        { name: "voter", type: "address" },
        { name: "nonce", type: "uint256" },
      ],
    },
    { proposalId: id2, support: For, voter: f.agentKey2.address, nonce },
  );
  out.push({
    name: "CovenantGovernor.castVoteBySig(agent, relayed)",
    gas: await gasOf(governor.connect(f.relayer).castVoteBySig(id2, For, f.agentKey2.address, signature)),
    conditions: "EOA agent signer's Ballot relayed by a keeper EOA, not the first vote of the agent house",
  });

  out.push({
    name: "CovenantVotes.delegate",
    gas: 0,
    reference: "ERC20Votes delegate 95,654",
    conditions: "no delegation transaction exists: weight counts at once (delegate() always reverts)",
  });
  return out;
}
