import { adminIsTimelock, agentRegistryAdminIsTimelock } from "./agentRegistry";
import { commonsPolicySplits } from "./commonsPolicy";
import { evolutionDeploymentsMatchHashes } from "./evolutionRegistry";
import { governorControlsTimelock } from "./governor";
import { noAgentOverDailyCap } from "./spending";
import { epochRemainingMatchesClaims, treasuryHoldsWhatItOwes } from "./treasury";
import type { Invariant } from "./types";
import { agentWeightsWithinCaps } from "./votes";

export type { Invariant, InvariantContext, InvariantResult } from "./types";

/*
 * The suite's named invariants, one file per contract. A part of Covenant adds its own by writing a check in this
 * folder and one line below. Names must be unique: reports refer to them.
 */
const registry: Invariant[] = [
  commonsPolicySplits,
  agentWeightsWithinCaps,
  governorControlsTimelock,
  agentRegistryAdminIsTimelock,
  evolutionDeploymentsMatchHashes,
  adminIsTimelock("RevenueRouter"),
  adminIsTimelock("EarningsDistributor"),
  adminIsTimelock("Treasury"),
  adminIsTimelock("SpendingLimitModule"),
  epochRemainingMatchesClaims,
  treasuryHoldsWhatItOwes,
  noAgentOverDailyCap,
];

/** Adds an invariant at run time (tests, or a deployment with extra contracts); returns a function removing it. */
export function registerInvariant(invariant: Invariant): () => void {
  if (registry.some((i) => i.name === invariant.name))
    throw new Error(`invariant "${invariant.name}" already registered`);
  registry.push(invariant);
  return () => {
    const i = registry.indexOf(invariant);
    if (i >= 0) registry.splice(i, 1);
  };
}

/** Every registered invariant, in registration order. */
export function invariants(): readonly Invariant[] {
  return registry;
}
