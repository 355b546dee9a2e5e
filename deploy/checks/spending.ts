import { Contract, getAddress } from "ethers";
import { expectRole } from "./roles";
import type { DeploymentCheck, Finding } from "./types";

const MODULE_ABI = [
  "event SentinelSet(address indexed sentinel, uint16 maxFreezes, uint32 window)",
  "function sentinelState(address) view returns (tuple(uint16 maxFreezes, uint32 window, uint40 windowStart, uint16 used))",
  "function registry() view returns (address)",
];

/**
 * The spending part: SpendingLimitModule's admin and guardian, its sentinel keys (replayed from SentinelSet since the
 * deployment and confirmed with sentinelState, since sentinels are not AccessControl roles) and their rate limit.
 */
export const spendingChecks: DeploymentCheck = async (ctx) => {
  const roles = ctx.record.roles ?? {};
  const address = ctx.record.contracts.SpendingLimitModule?.address;
  if (!address) return [{ subject: "SpendingLimitModule", problem: "not in the deployment record" }];
  const findings: Finding[] = [
    ...(await expectRole(ctx, "SpendingLimitModule", "DEFAULT_ADMIN_ROLE", { timelock: roles.timelock })),
    ...(await expectRole(ctx, "SpendingLimitModule", "GUARDIAN_ROLE", { "guardian Safe": roles.guardian })),
  ];
  const module = new Contract(address, MODULE_ABI, ctx.provider);
  const registry = (await module.getFunction("registry")()) as string;
  const recorded = ctx.record.contracts.AgentRegistry?.address;
  if (!recorded || getAddress(registry) !== getAddress(recorded)) {
    findings.push({ subject: "SpendingLimitModule.registry", problem: `is ${registry}, the record says ${recorded}` });
  }

  const head = await ctx.provider.getBlockNumber();
  const candidates = new Set<string>();
  for (let from = ctx.fromBlock; from <= head; from += 5_000) {
    const logs = await module.queryFilter(module.filters.SentinelSet!(), from, Math.min(head, from + 4_999));
    for (const log of logs) if ("args" in log) candidates.add(getAddress(log.args.sentinel as string));
  }
  const expected = roles.sentinel ? getAddress(roles.sentinel) : undefined;
  const { sentinelMaxFreezes, sentinelWindow } = (ctx.params as { Spending?: Record<string, number> }).Spending ?? {};
  for (const account of candidates) {
    const state = await module.getFunction("sentinelState")(account);
    if (Number(state.maxFreezes) === 0) continue; // revoked
    if (account !== expected) {
      findings.push({ subject: "SpendingLimitModule sentinel", problem: `held by an unexpected account ${account}` });
      continue;
    }
    if (Number(state.maxFreezes) !== sentinelMaxFreezes || Number(state.window) !== sentinelWindow) {
      findings.push({
        subject: "SpendingLimitModule sentinel limit",
        problem: `is ${state.maxFreezes} per ${state.window} s, the parameters file says ${sentinelMaxFreezes} per ${sentinelWindow} s`,
      });
    }
  }
  if (expected && !candidates.has(expected)) {
    findings.push({
      subject: "SpendingLimitModule sentinel",
      problem: `not granted to the sentinel keeper ${expected}`,
    });
  }
  return findings;
};
