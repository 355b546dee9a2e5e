import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import GovernanceModule from "./Governance";
import IdentityModule from "./Identity";

/** The whole Covenant suite. Each part is its own module; this one composes them. */
export default buildModule("Covenant", (m) => {
  const identity = m.useModule(IdentityModule);
  const governance = m.useModule(GovernanceModule);
  return { ...identity, ...governance };
});
