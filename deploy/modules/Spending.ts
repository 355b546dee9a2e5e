import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import IdentityModule from "./Identity";

/**
 * The spending part: SpendingLimitModule, the Safe module through which agents spend within limits.
 *
 * Parameters (module "Spending"):
 * - admin: DEFAULT_ADMIN_ROLE holder (grants sentinels and the guardian); defaults to the deployer, who hands it to
 *   the timelock when governance lands.
 * - guardian: the human guardian Safe (GUARDIAN_ROLE: vetoes queued spends); defaults to the deployer.
 * - sentinel: the spending keeper's sentinel key (may freeze, rate-limited); defaults to the deployer.
 * - sentinelMaxFreezes, sentinelWindow: the sentinel may freeze at most that many agents per window (seconds).
 * The council is the AgentRegistry's COUNCIL_ROLE holder (Identity's `council`).
 */
export default buildModule("Spending", (m) => {
  const { registry } = m.useModule(IdentityModule);
  const admin = m.getParameter("admin", m.getAccount(0));
  const guardian = m.getParameter("guardian", m.getAccount(0));
  const sentinel = m.getParameter("sentinel", m.getAccount(0));
  const sentinelMaxFreezes = m.getParameter("sentinelMaxFreezes", 3);
  const sentinelWindow = m.getParameter("sentinelWindow", 86_400);

  const spendingLimitModule = m.contract("SpendingLimitModule", [registry, admin, guardian]);
  // Until governance lands the deployer is the admin and grants the sentinel here; afterwards the timelock does.
  m.call(spendingLimitModule, "setSentinel", [sentinel, sentinelMaxFreezes, sentinelWindow], { id: "grantSentinel" });

  return { spendingLimitModule };
});
