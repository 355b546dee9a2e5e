import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/** keccak256("RELAYER_ROLE"), as in AgentRegistry. */
export const RELAYER_ROLE = "0xe2b7fb3b832174769106daebcfd6d1970523240dda11281102db9363b83b0dc4";

/**
 * The identity part: AgentRegistry and the two companions it creates (AgentGoals, CouncilFlags).
 *
 * Parameters (module "Identity"):
 * - admin: DEFAULT_ADMIN_ROLE holder; defaults to the deployer, who hands it to the timelock when governance lands.
 * - council: the council Safe (COUNCIL_ROLE).
 * - relayer: the backup-anchoring keeper key (RELAYER_ROLE).
 * - recoveryDelay: seconds between an approved key recovery and its finalization.
 */
export default buildModule("Identity", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const council = m.getParameter<string>("council");
  const relayer = m.getParameter<string>("relayer");
  const recoveryDelay = m.getParameter("recoveryDelay", 7 * 24 * 3600);

  const registry = m.contract("AgentRegistry", [admin, council, recoveryDelay]);
  const agentGoals = m.contractAt(
    "AgentGoals",
    m.staticCall(registry, "agentGoals", [], 0, { id: "agentGoalsAddress" }),
  );
  const councilFlags = m.contractAt(
    "CouncilFlags",
    m.staticCall(registry, "councilFlags", [], 0, { id: "councilFlagsAddress" }),
  );
  m.call(registry, "grantRole", [RELAYER_ROLE, relayer], { id: "grantRelayer" });

  return { registry, agentGoals, councilFlags };
});
