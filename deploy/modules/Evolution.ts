import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import GovernanceModule from "./Governance";

/**
 * The evolution part: the components the EvolutionRegistry evolves, owned by the timelock from their first block.
 * Today that is CommonsPolicy (the commons floor and the default split) behind its UUPS proxy; an evolution replaces
 * its implementation through an executed proposal. The EvolutionRegistry itself is deployed by the governance part,
 * because the governor is bound to it at construction.
 *
 * Parameters (module "Evolution"): commonsFloorBps (1000), personalBps (5000), infrastructureBps (3000),
 * commonsBps (2000); the three splits sum to 10,000.
 */
export default buildModule("Evolution", (m) => {
  const { timelock } = m.useModule(GovernanceModule);

  const commonsPolicyImplementation = m.contract("CommonsPolicy", [], { id: "CommonsPolicyImplementation" });
  const proxy = m.contract("CommonsPolicyProxy", [
    commonsPolicyImplementation,
    m.encodeFunctionCall(commonsPolicyImplementation, "initialize", [
      timelock,
      m.getParameter("commonsFloorBps", 1_000),
      m.getParameter("personalBps", 5_000),
      m.getParameter("infrastructureBps", 3_000),
      m.getParameter("commonsBps", 2_000),
    ]),
  ]);
  const commonsPolicy = m.contractAt("CommonsPolicy", proxy, { id: "CommonsPolicy" });

  return { commonsPolicy, commonsPolicyImplementation };
});
