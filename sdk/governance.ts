import {
  type Address,
  encodeAbiParameters,
  encodeFunctionData,
  type Hex,
  keccak256,
  parseAbi,
  parseAbiParameters,
  type TypedDataDomain,
} from "viem";

/*
 * Governance as the contracts define it: the ballot an agent signs for castVoteBySig, the states and support values,
 * and the one canonical set of actions an evolution proposal carries (what the simulator simulates and the governor
 * requires to match the attestation).
 */

/** OpenZeppelin Governor's EIP-712 ballot (castVoteBySig); the nonce is the governor's `nonces(voter)`. */
export const ballotTypes = {
  Ballot: [
    { name: "proposalId", type: "uint256" },
    { name: "support", type: "uint8" },
    { name: "voter", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/** The governor's EIP-712 domain ("CovenantGovernor", version "1"). */
export function governorDomain(chainId: number, governor: Address): TypedDataDomain & { chainId: number } {
  return { name: "CovenantGovernor", version: "1", chainId, verifyingContract: governor };
}

/** Support values ("bravo"). */
export const Support = { Against: 0, For: 1, Abstain: 2 } as const;
export type SupportName = keyof typeof Support;

/** IGovernor.ProposalState, by number. */
export const PROPOSAL_STATES = [
  "Pending",
  "Active",
  "Canceled",
  "Defeated",
  "Succeeded",
  "Queued",
  "Expired",
  "Executed",
] as const;
export type ProposalStateName = (typeof PROPOSAL_STATES)[number];

/** States after which nothing more can happen to a proposal. */
export const FINAL_STATES: readonly ProposalStateName[] = ["Canceled", "Defeated", "Expired", "Executed"];

/** CovenantVotes.House, by number. */
export const HOUSES = ["None", "Human", "Agent"] as const;

/** IEvolutionRegistry.Status, by number. */
export const EVOLUTION_STATUSES = [
  "None",
  "Proposed",
  "Attested",
  "Linked",
  "Deployed",
  "RollbackLinked",
  "RolledBack",
  "Rejected",
] as const;
export type EvolutionStatusName = (typeof EVOLUTION_STATUSES)[number];

/** A proposal's calls. */
export interface ProposalActions {
  targets: Address[];
  values: bigint[];
  calldatas: Hex[];
}

const evolutionAbi = parseAbi([
  "function deployEvolution(uint256 evolutionId) returns (address)",
  "function rollbackEvolution(uint256 evolutionId)",
]);
const uupsAbi = parseAbi(["function upgradeToAndCall(address newImplementation, bytes data) payable"]);

/**
 * The actions of a proposal that deploys an evolution: the registry deploys the staged code (CREATE2, from the
 * timelock), then, when the evolution has a target, the target (a UUPS proxy) is upgraded to the new code.
 */
export function evolutionActions(args: {
  registry: Address;
  evolutionId: bigint;
  target: Address;
  predicted: Address;
}): ProposalActions {
  const actions: ProposalActions = {
    targets: [args.registry],
    values: [0n],
    calldatas: [encodeFunctionData({ abi: evolutionAbi, functionName: "deployEvolution", args: [args.evolutionId] })],
  };
  if (BigInt(args.target) !== 0n) {
    actions.targets.push(args.target);
    actions.values.push(0n);
    actions.calldatas.push(
      encodeFunctionData({ abi: uupsAbi, functionName: "upgradeToAndCall", args: [args.predicted, "0x"] }),
    );
  }
  return actions;
}

/** The actions of a proposal that rolls an evolution back: upgrade the target to `previous`, record the rollback. */
export function rollbackActions(args: {
  registry: Address;
  evolutionId: bigint;
  target: Address;
  previous: Address;
}): ProposalActions {
  return {
    targets: [args.target, args.registry],
    values: [0n, 0n],
    calldatas: [
      encodeFunctionData({ abi: uupsAbi, functionName: "upgradeToAndCall", args: [args.previous, "0x"] }),
      encodeFunctionData({ abi: evolutionAbi, functionName: "rollbackEvolution", args: [args.evolutionId] }),
    ],
  };
}

/** keccak256(abi.encode(targets, values, calldatas)): what the attestation and the governor compare. */
export function actionsHash(actions: ProposalActions): Hex {
  return keccak256(
    encodeAbiParameters(parseAbiParameters("address[], uint256[], bytes[]"), [
      actions.targets,
      actions.values,
      actions.calldatas,
    ]),
  );
}
