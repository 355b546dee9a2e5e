import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import IdentityModule from "./Identity";
import SpendingModule from "./Spending";
import TreasuryModule from "./Treasury";

/** The whole Covenant suite. Each part is its own module; this one composes them. */
export default buildModule("Covenant", (m) => {
  const identity = m.useModule(IdentityModule);
  const treasury = m.useModule(TreasuryModule);
  const spending = m.useModule(SpendingModule);
  return { ...identity, ...treasury, ...spending };
});
