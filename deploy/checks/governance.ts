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
  const policy = new Contract(
    addr("CommonsPolicy") ?? "",
    [
      "function owner() view returns (address)",
      "function implementation() view returns (address)",
      "function commonsFloorBps() view returns (uint256)",
      "function defaultSplit() view returns (uint256, uint256, uint256)",
    ],
    ctx.provider,
  );
  const owner = (await policy.getFunction("owner")()) as string;
  if (!same(timelock, owner))
    findings.push({ subject: "CommonsPolicy.owner", problem: `is ${owner}, not the timelock` });
  const implementation = (await policy.getFunction("implementation")()) as string;
  const recordedImplementation = addr("CommonsPolicyImplementation");
  if (!same(recordedImplementation, implementation)) {
    findings.push({
      subject: "CommonsPolicy.implementation",
      problem: `is ${implementation}, the record says ${recordedImplementation ?? "nothing"}`,
    });
  }

  // The remaining settings of the parameters file, each read from the contract that holds it.
  const read = async (address: string | undefined, signature: string, index = 0): Promise<bigint> => {
    const c = new Contract(address ?? "", [signature], ctx.provider);
    const fn = signature.slice("function ".length, signature.indexOf("("));
    const result = await c.getFunction(fn)();
    return (Array.isArray(result) || typeof result === "object" ? (result as bigint[])[index] : result) as bigint;
  };
  const split = (await policy.getFunction("defaultSplit")()) as [bigint, bigint, bigint];
  const more: [string, () => Promise<bigint>, number | undefined][] = [
    [
      "CovenantTimelock.minDelay",
      () => read(timelock, "function getMinDelay() view returns (uint256)"),
      p.timelockMinDelay,
    ],
    [
      "CovenantGovernor.proposalThreshold",
      () => read(governor, "function proposalThreshold() view returns (uint256)"),
      p.proposalThreshold,
    ],
    [
      "CovenantVotes.secondsPerAgePoint",
      () => read(addr("CovenantVotes"), "function secondsPerAgePoint() view returns (uint256)"),
      p.secondsPerAgePoint,
    ],
    [
      "CovenantVotes.agentCap",
      () => read(addr("CovenantVotes"), "function caps() view returns (uint256, uint256)", 0),
      p.agentCap,
    ],
    [
      "CovenantVotes.operatorCap",
      () => read(addr("CovenantVotes"), "function caps() view returns (uint256, uint256)", 1),
      p.operatorCap,
    ],
    [
      "CovenantVotes.attestorDailyPoints",
      () => read(addr("CovenantVotes"), "function attestorBudget() view returns (uint256, uint256)", 0),
      p.attestorDailyPoints,
    ],
    [
      "EvolutionRegistry.proposalWindow",
      () => read(addr("EvolutionRegistry"), "function windows() view returns (uint64, uint64)", 0),
      p.proposalWindow,
    ],
    [
      "EvolutionRegistry.executionWindow",
      () => read(addr("EvolutionRegistry"), "function windows() view returns (uint64, uint64)", 1),
      p.executionWindow,
    ],
    ["CommonsPolicy.commonsFloorBps", () => policy.getFunction("commonsFloorBps")(), p.commonsFloorBps],
    ["CommonsPolicy.personalBps", async () => split[0], p.personalBps],
    ["CommonsPolicy.infrastructureBps", async () => split[1], p.infrastructureBps],
    ["CommonsPolicy.commonsBps", async () => split[2], p.commonsBps],
  ];
  for (const [subject, get, wanted] of more) {
    if (wanted === undefined) continue;
    const onChain = await get();
    if (onChain !== BigInt(wanted)) {
      findings.push({ subject, problem: `is ${onChain}, the parameters file says ${wanted}` });
    }
  }
  return findings;
};
