import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import EvolutionModule from "./Evolution";
import GovernanceModule from "./Governance";
import IdentityModule from "./Identity";
import SpendingModule from "./Spending";
import TreasuryModule from "./Treasury";

/**
 * The whole Covenant suite. Each part is its own module: identity, treasury, spending (the limits), governance and
 * evolution; this one composes them. Parameters are given per module id (deploy/parameters.ts maps a network's file).
 */
export default buildModule("Covenant", (m) => {
  const identity = m.useModule(IdentityModule);
  const treasury = m.useModule(TreasuryModule);
  const spending = m.useModule(SpendingModule);
  const governance = m.useModule(GovernanceModule);
  const evolution = m.useModule(EvolutionModule);
  return { ...identity, ...treasury, ...spending, ...governance, ...evolution };
});
