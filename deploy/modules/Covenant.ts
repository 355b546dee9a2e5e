import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import IdentityModule from "./Identity";
import SpendingModule from "./Spending";

/** The whole Covenant suite. Each part is its own module; this one composes them. */
export default buildModule("Covenant", (m) => {
  const identity = m.useModule(IdentityModule);
  const spending = m.useModule(SpendingModule);
  return { ...identity, ...spending };
});
