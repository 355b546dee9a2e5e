import { Contract, getAddress } from "ethers";
import { expectRole } from "./roles";
import type { DeploymentCheck, Finding } from "./types";

/**
 * The governance part: the timelock's roles (the governor proposes, executes and cancels; the guardian Safe cancels;
 * the timelock administers itself), the keeper roles, the governor's wiring and settings, the humans' weights, and
 * the governed component's owner.
 */
export const governanceChecks: DeploymentCheck = async (ctx) => {
  const roles = ctx.record.roles ?? {};
  const addr = (name: string) => ctx.record.contracts[name]?.address;
  const timelock = addr("CovenantTimelock");
  const governor = addr("CovenantGovernor");
  const findings: Finding[] = [
    ...(await expectRole(ctx, "CovenantTimelock", "DEFAULT_ADMIN_ROLE", { timelock })),
    ...(await expectRole(ctx, "CovenantTimelock", "PROPOSER_ROLE", { governor })),
    ...(await expectRole(ctx, "CovenantTimelock", "EXECUTOR_ROLE", { governor })),
    ...(await expectRole(ctx, "CovenantTimelock", "CANCELLER_ROLE", { governor, "guardian Safe": roles.guardian })),
    ...(await expectRole(ctx, "CovenantVotes", "DEFAULT_ADMIN_ROLE", { timelock })),
    ...(await expectRole(ctx, "CovenantVotes", "ATTESTOR_ROLE", { "attestor keeper": roles.attestor })),
    ...(await expectRole(ctx, "EvolutionRegistry", "DEFAULT_ADMIN_ROLE", { timelock })),
    ...(await expectRole(ctx, "EvolutionRegistry", "SIMULATOR_ROLE", { "simulator keeper": roles.simulator })),
  ];
  if (!timelock || !governor) return findings;

  const g = new Contract(
    governor,
    [
      "function timelock() view returns (address)",
      "function proposalGuardian() view returns (address)",
      "function votesContract() view returns (address)",
      "function evolutionRegistry() view returns (address)",
      "function votingDelay() view returns (uint256)",
      "function votingPeriod() view returns (uint256)",
      "function votingRules() view returns (uint256, uint256, bool)",
    ],
    ctx.provider,
  );
  const same = (a: string | undefined, b: string) => a !== undefined && getAddress(a) === getAddress(b);
  const wiring: [string, string, string | undefined][] = [
    ["timelock", await g.getFunction("timelock")(), timelock],
    ["proposalGuardian", await g.getFunction("proposalGuardian")(), roles.guardian],
    ["votesContract", await g.getFunction("votesContract")(), addr("CovenantVotes")],
    ["evolutionRegistry", await g.getFunction("evolutionRegistry")(), addr("EvolutionRegistry")],
  ];
  for (const [what, onChain, expected] of wiring) {
    if (!same(expected, onChain)) {
      findings.push({
        subject: `CovenantGovernor.${what}`,
        problem: `is ${onChain}, expected ${expected ?? "unknown"}`,
      });
    }
  }
  const p = ctx.params.Governance;
  const [humanQuorum, agentQuorum, binding] = (await g.getFunction("votingRules")()) as [bigint, bigint, boolean];
  const settings: [string, bigint | boolean, number | boolean | undefined][] = [
    ["votingDelay", await g.getFunction("votingDelay")(), p.votingDelay],
    ["votingPeriod", await g.getFunction("votingPeriod")(), p.votingPeriod],
    ["humanQuorumBps", humanQuorum, p.humanQuorumBps],
    ["agentQuorumBps", agentQuorum, p.agentQuorumBps],
    ["agentHouseBinding", binding, p.agentHouseBinding],
  ];
  for (const [what, onChain, wanted] of settings) {
    if (wanted !== undefined && onChain !== (typeof wanted === "number" ? BigInt(wanted) : wanted)) {
      findings.push({
        subject: `CovenantGovernor.${what}`,
        problem: `is ${onChain}, the parameters file says ${wanted}`,
      });
    }
  }
  const votes = new Contract(
    addr("CovenantVotes") ?? "",
    ["function getVotes(address) view returns (uint256)"],
    ctx.provider,
  );
  for (const h of p.humans) {
    const weight = (await votes.getFunction("getVotes")(h.address)) as bigint;
    if (weight !== BigInt(h.weight)) {
      findings.push({
        subject: `CovenantVotes human ${h.address}`,
        problem: `has weight ${weight}, expected ${h.weight}`,
      });
    }
  }
  const policy = new Contract(addr("CommonsPolicy") ?? "", ["function owner() view returns (address)"], ctx.provider);
  const owner = (await policy.getFunction("owner")()) as string;
  if (!same(timelock, owner))
    findings.push({ subject: "CommonsPolicy.owner", problem: `is ${owner}, not the timelock` });
  return findings;
};
