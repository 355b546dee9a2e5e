import { Contract, MaxUint256, ZeroAddress } from "ethers";
import { expectRole, roleId } from "./roles";
import type { DeploymentCheck, Finding } from "./types";

/**
 * The treasury part: who holds each role of RevenueRouter, EarningsDistributor and Treasury, the epochs and windows
 * they were deployed with, and the wiring (the router releases buckets only to this distributor's Treasury).
 */
export const treasuryChecks: DeploymentCheck = async (ctx) => {
  const roles = ctx.record.roles ?? {};
  const timelock = { timelock: roles.timelock };
  const findings: Finding[] = [
    ...(await expectRole(ctx, "RevenueRouter", "DEFAULT_ADMIN_ROLE", timelock)),
    ...(await expectRole(ctx, "EarningsDistributor", "DEFAULT_ADMIN_ROLE", timelock)),
    ...(await expectRole(ctx, "Treasury", "DEFAULT_ADMIN_ROLE", timelock)),
    ...(await expectRole(ctx, "EarningsDistributor", "EARNINGS_POSTER_ROLE", {
      "earnings keeper": roles.earningsPoster,
    })),
    ...(await expectRole(ctx, "EarningsDistributor", "GUARDIAN_ROLE", { "guardian Safe": roles.guardian })),
    // Paid services (RELAYED_GAS_SERVICE, BACKUP_SERVICE): the relayer key only.
    ...(await expectRole(ctx, "Treasury", "covenant.service.relayed-gas", { relayer: roles.relayer })),
    ...(await expectRole(ctx, "Treasury", "covenant.service.backup", { relayer: roles.relayer })),
  ];
  const address = (name: string) => ctx.record.contracts[name]?.address ?? "";
  const router = new Contract(
    address("RevenueRouter"),
    [
      "function epochLength() view returns (uint256)",
      "function genesis() view returns (uint256)",
      "function distributor() view returns (address)",
      "function treasury() view returns (address)",
    ],
    ctx.provider,
  );
  const distributor = new Contract(
    address("EarningsDistributor"),
    [
      "function challengeWindow() view returns (uint256)",
      "function claimPeriod() view returns (uint256)",
      "function commonsFloor() view returns (uint16)",
      "function treasury() view returns (address)",
      "function router() view returns (address)",
    ],
    ctx.provider,
  );
  const treasury = new Contract(
    address("Treasury"),
    [
      "function limitPeriod() view returns (uint256)",
      "function serviceAllowance(uint256 agentId, bytes32 service, address token) view returns ((uint256 cap, bool agentLimitSet, uint96 agentLimit, uint256 spentThisPeriod, uint256 available))",
    ],
    ctx.provider,
  );
  const p = ctx.params.Treasury;
  const expectations: [string, Contract, string, number | undefined][] = [
    ["RevenueRouter.epochLength", router, "epochLength", p.epochLength],
    ["EarningsDistributor.challengeWindow", distributor, "challengeWindow", p.challengeWindow],
    ["EarningsDistributor.claimPeriod", distributor, "claimPeriod", p.claimPeriod],
    ["EarningsDistributor.commonsFloor", distributor, "commonsFloor", p.commonsFloor],
    ["Treasury.limitPeriod", treasury, "limitPeriod", p.limitPeriod],
  ];
  if (p.genesis) expectations.push(["RevenueRouter.genesis", router, "genesis", p.genesis]);
  for (const [subject, contract, getter, expected] of expectations) {
    const actual = Number(await contract.getFunction(getter)());
    if (actual !== expected) findings.push({ subject, problem: `is ${actual}, the parameters file says ${expected}` });
  }
  for (const [service, expected] of [
    ["covenant.service.relayed-gas", p.relayedGasCap],
    ["covenant.service.backup", p.backupCap],
  ] as const) {
    // The cap is read through an agent that set no limit of its own (ids start at 0; 2^256-1 is never minted).
    const { cap } = await treasury.getFunction("serviceAllowance")(MaxUint256, roleId(service), ZeroAddress);
    if (cap.toString() !== expected) {
      findings.push({
        subject: `Treasury service cap ${service}`,
        problem: `is ${cap} wei, the parameters file says ${expected}`,
      });
    }
  }
  const wiring: [string, Contract, string, string][] = [
    ["RevenueRouter.distributor", router, "distributor", address("EarningsDistributor")],
    ["RevenueRouter.treasury", router, "treasury", address("Treasury")],
    ["EarningsDistributor.treasury", distributor, "treasury", address("Treasury")],
    ["EarningsDistributor.router", distributor, "router", address("RevenueRouter")],
  ];
  for (const [subject, contract, getter, expected] of wiring) {
    const actual = (await contract.getFunction(getter)()) as string;
    if (actual.toLowerCase() !== expected.toLowerCase()) {
      findings.push({ subject, problem: `is ${actual}, the record says ${expected || "nothing"}` });
    }
  }
  return findings;
};
