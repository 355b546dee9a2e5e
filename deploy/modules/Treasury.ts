import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { ZeroAddress as ETH, id } from "ethers";
import IdentityModule from "./Identity";

/** The Treasury's service ids (its BACKUP_SERVICE and RELAYED_GAS_SERVICE constants). */
export const BACKUP_SERVICE = id("covenant.service.backup");
export const RELAYED_GAS_SERVICE = id("covenant.service.relayed-gas");

/**
 * The treasury part: RevenueRouter, EarningsDistributor and the Treasury the distributor creates, wired together
 * (the router releases buckets only to this distributor's treasury). Needs the identity part's AgentRegistry.
 *
 * Parameters (module "Treasury"):
 * - admin: DEFAULT_ADMIN_ROLE of all three; defaults to the deployer (account 0), who sends `bindDistributor` and
 *   later hands the role to the timelock.
 * - poster: the earnings keeper's key (EARNINGS_POSTER_ROLE); defaults to the deployer.
 * - guardian: the human guardian Safe (GUARDIAN_ROLE: cancels roots within their challenge window); defaults to the
 *   deployer. Set both on any real network.
 * - genesis: when epoch 0 starts, unix seconds; 0 means the router's deployment block.
 * - epochLength: seconds per earnings epoch (default one week).
 * - challengeWindow: seconds between a root's posting and its claims (default one day).
 * - claimPeriod: seconds between the opening of claims and their expiry (default 180 days).
 * - commonsFloor: the lowest commons share an agent's inner split may have, in basis points (default 1,000).
 * - limitPeriod: the Treasury's service-limit period in seconds (default one day).
 * - serviceKeeper: the keeper key paid from agents' infrastructure budgets (the relayer key: the tx-executor sends from
 *   it and the backup keeper anchors with it); it gets RELAYED_GAS_SERVICE and BACKUP_SERVICE. Required.
 * - relayedGasCap, backupCap: wei of ETH each service may charge one agent per limit period (0: the service is off
 *   until governance sets a cap); an agent may set a lower limit of its own.
 */
export default buildModule("Treasury", (m) => {
  const { registry } = m.useModule(IdentityModule);
  const admin = m.getParameter("admin", m.getAccount(0));
  const poster = m.getParameter("poster", m.getAccount(0));
  const guardian = m.getParameter("guardian", m.getAccount(0));
  const genesis = m.getParameter("genesis", 0);
  const epochLength = m.getParameter("epochLength", 7 * 24 * 3600);
  const challengeWindow = m.getParameter("challengeWindow", 24 * 3600);
  const claimPeriod = m.getParameter("claimPeriod", 180 * 24 * 3600);
  const commonsFloor = m.getParameter("commonsFloor", 1_000);
  const limitPeriod = m.getParameter("limitPeriod", 24 * 3600);
  const serviceKeeper = m.getParameter<string>("serviceKeeper");
  const relayedGasCap = m.getParameter<bigint>("relayedGasCap", 0n);
  const backupCap = m.getParameter<bigint>("backupCap", 0n);

  const revenueRouter = m.contract("RevenueRouter", [registry, admin, genesis, epochLength]);
  const earningsDistributor = m.contract("EarningsDistributor", [
    registry,
    revenueRouter,
    admin,
    poster,
    guardian,
    challengeWindow,
    claimPeriod,
    commonsFloor,
    limitPeriod,
  ]);
  const treasury = m.contractAt(
    "Treasury",
    m.staticCall(earningsDistributor, "treasury", [], 0, { id: "treasuryAddress" }),
  );
  m.call(revenueRouter, "bindDistributor", [earningsDistributor], { id: "bindDistributor" });
  // Paid services: the keeper key that performs them, and governance's cap per agent and period (ETH).
  for (const [service, cap] of [
    [RELAYED_GAS_SERVICE, relayedGasCap],
    [BACKUP_SERVICE, backupCap],
  ] as const) {
    const name = service === RELAYED_GAS_SERVICE ? "RelayedGas" : "Backup";
    m.call(treasury, "grantRole", [service, serviceKeeper], { id: `grant${name}Service` });
    m.call(treasury, "setServiceCap", [service, ETH, cap], { id: `cap${name}Service` });
  }

  return { revenueRouter, earningsDistributor, treasury };
});
