import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { id } from "ethers";
import IdentityModule from "./Identity";
import SpendingModule from "./Spending";
import TreasuryModule from "./Treasury";

export const DEFAULT_ADMIN_ROLE = `0x${"00".repeat(32)}`;
export const PROPOSER_ROLE = id("PROPOSER_ROLE");
export const EXECUTOR_ROLE = id("EXECUTOR_ROLE");
export const CANCELLER_ROLE = id("CANCELLER_ROLE");

type Future = Parameters<IgnitionModuleBuilder["call"]>[0];
type After = Parameters<IgnitionModuleBuilder["call"]>[3] extends infer O
  ? O extends { after?: infer A }
    ? A
    : never
  : never;

/**
 * Hands an AccessControl contract's DEFAULT_ADMIN_ROLE from the deployer to the timelock: grant, then renounce.
 * `after` names what must run first with the deployer's admin rights (usually the contract's own module).
 */
export function handOverAdmin(
  m: IgnitionModuleBuilder,
  name: string,
  contract: Future,
  timelock: Future,
  after: After = [],
) {
  const deployer = m.getAccount(0);
  const grant = m.call(contract, "grantRole", [DEFAULT_ADMIN_ROLE, timelock], {
    id: `${name}_grantAdminToTimelock`,
    after,
  });
  return m.call(contract, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], {
    id: `${name}_renounceDeployerAdmin`,
    after: [grant, ...after],
  });
}

/** Hands an Ownable contract's ownership from the deployer to the timelock. */
export function handOverOwnership(
  m: IgnitionModuleBuilder,
  name: string,
  contract: Future,
  timelock: Future,
  after: After = [],
) {
  return m.call(contract, "transferOwnership", [timelock], { id: `${name}_transferOwnershipToTimelock`, after });
}

/**
 * The governance part: CovenantTimelock, CovenantVotes, CovenantGovernor and EvolutionRegistry (the governor is bound
 * to it at construction; the components it evolves are the evolution part's, deploy/modules/Evolution.ts). At the end
 * the timelock is the only admin of every contract (the identity, treasury and spending parts' included) and the
 * deployer holds no role anywhere.
 *
 * Parameters (module "Governance"):
 * - guardian: the guardian Safe (proposal guardian, and CANCELLER_ROLE on the timelock).
 * - attestor: key that records agents' contribution points (ATTESTOR_ROLE on CovenantVotes).
 * - simulator: the governance keeper's key (SIMULATOR_ROLE on EvolutionRegistry).
 * - humans, humanWeights: founding human voters and their weights (same length).
 * - secondsPerAgePoint (86400), agentCap (100), operatorCap (200), attestorDailyPoints (1000).
 * - timelockMinDelay (172800 s), votingDelay (86400 s), votingPeriod (259200 s), proposalThreshold (1),
 *   humanQuorumBps (2000), agentQuorumBps (2000), agentHouseBinding (false).
 * - proposalWindow (7200 blocks), executionWindow (300 blocks): how recent a simulation must be to be proposed and
 *   to be deployed.
 */
export default buildModule("Governance", (m) => {
  const identity = m.useModule(IdentityModule);
  const treasury = m.useModule(TreasuryModule);
  const spending = m.useModule(SpendingModule);
  const deployer = m.getAccount(0);

  const guardian = m.getParameter<string>("guardian");
  const attestor = m.getParameter<string>("attestor");
  const simulator = m.getParameter<string>("simulator");
  const humans = m.getParameter<string[]>("humans", []);
  const humanWeights = m.getParameter<number[]>("humanWeights", []);

  const timelock = m.contract("CovenantTimelock", [m.getParameter("timelockMinDelay", 2 * 86_400), [], [], deployer]);
  const votes = m.contract("CovenantVotes", [
    identity.registry,
    timelock,
    attestor,
    humans,
    humanWeights,
    m.getParameter("secondsPerAgePoint", 86_400),
    m.getParameter("agentCap", 100),
    m.getParameter("operatorCap", 200),
    m.getParameter("attestorDailyPoints", 1_000),
  ]);
  const evolutionRegistry = m.contract("EvolutionRegistry", [
    timelock,
    timelock,
    votes,
    simulator,
    m.getParameter("proposalWindow", 7_200),
    m.getParameter("executionWindow", 300),
  ]);
  const governor = m.contract("CovenantGovernor", [
    votes,
    timelock,
    evolutionRegistry,
    guardian,
    {
      votingDelay: m.getParameter("votingDelay", 86_400),
      votingPeriod: m.getParameter("votingPeriod", 3 * 86_400),
      proposalThreshold: m.getParameter("proposalThreshold", 1),
      humanQuorumBps: m.getParameter("humanQuorumBps", 2_000),
      agentQuorumBps: m.getParameter("agentQuorumBps", 2_000),
      agentHouseBinding: m.getParameter("agentHouseBinding", false),
    },
  ]);

  // The timelock: the governor proposes, executes and cancels; the guardian Safe cancels.
  const roles = [
    m.call(timelock, "grantRole", [PROPOSER_ROLE, governor], { id: "timelock_proposerGovernor" }),
    m.call(timelock, "grantRole", [EXECUTOR_ROLE, governor], { id: "timelock_executorGovernor" }),
    m.call(timelock, "grantRole", [CANCELLER_ROLE, governor], { id: "timelock_cancellerGovernor" }),
    m.call(timelock, "grantRole", [CANCELLER_ROLE, guardian], { id: "timelock_cancellerGuardian" }),
  ];

  // Every contract deployed with the deployer as admin hands that role to the timelock: one line per contract.
  // (CovenantVotes and EvolutionRegistry are deployed with the timelock as admin already, as is the evolution part's
  // CommonsPolicy.)
  const handovers = [
    handOverAdmin(m, "AgentRegistry", identity.registry, timelock, [IdentityModule]),
    handOverAdmin(m, "RevenueRouter", treasury.revenueRouter, timelock, [TreasuryModule]),
    handOverAdmin(m, "EarningsDistributor", treasury.earningsDistributor, timelock, [TreasuryModule]),
    handOverAdmin(m, "Treasury", treasury.treasury, timelock, [TreasuryModule]),
    handOverAdmin(m, "SpendingLimitModule", spending.spendingLimitModule, timelock, [SpendingModule]),
  ];

  m.call(timelock, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], {
    id: "timelock_renounceDeployerAdmin",
    after: [...roles, ...handovers],
  });

  return {
    ...identity,
    ...treasury,
    ...spending,
    timelock,
    votes,
    governor,
    evolutionRegistry,
  };
});
