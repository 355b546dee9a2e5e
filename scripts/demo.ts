/**
 * The Covenant lifecycle on an in-process Hardhat chain, deployed through the same Ignition modules as a testnet.
 * Every step checks its result against the chain; a wrong result exits non-zero with the reason.
 *
 *   npm run demo
 */
import hre from "hardhat";
import type { Address } from "viem";
import CovenantModule from "../deploy/modules/Covenant";
import { deploySafe } from "../test/governance/safe";
import {
  AgentRegistry__factory,
  CommonsPolicy__factory,
  CovenantGovernor__factory,
  CovenantVotes__factory,
  EarningsDistributor__factory,
  EvolutionRegistry__factory,
  RevenueRouter__factory,
  SpendingLimitModule__factory,
  Treasury__factory,
} from "../typechain-types";
import { backupDemo } from "./demo/backup";
import { spendThroughExecutor } from "./demo/executor";
import { governanceDemo } from "./demo/governance";
import { birthAgents } from "./demo/identity";
import { DemoCheckError, Report } from "./demo/report";
import { spendingDemo } from "./demo/spending";
import { revenueAndEarnings } from "./demo/treasury";

// Hardhat accounts the treasury steps use (after the identity steps' first seven).
const TREASURY_ACCOUNTS = { operatorC: 7, keyC: 8, poster: 9, guardian: 10, userA: 11, userB: 12 } as const;
// Hardhat accounts the spending steps use: a co-signer of Ada's Safe and a payee.
const SPENDING_ACCOUNTS = { cosigner: 13, recipient: 14 } as const;
// The tx-executor's relayer key (a key no other step sends from).
const EXECUTOR_ACCOUNTS = { relayer: 15 } as const;
// And the governance steps: three humans (people who already appear as users and co-signer), the guardian Safe's
// owners (the treasury's guardian among them), the attestor and simulator keeper keys.
const GOVERNANCE_ACCOUNTS = {
  humans: [11, 12, 13],
  guardianOwners: [10, 18, 19],
  attestor: 16,
  simulator: 17,
} as const;

async function main() {
  const started = Date.now();
  const [deployer, council, relayer, operatorA, operatorB, keyA, keyB] = await hre.ethers.getSigners();
  if (!deployer || !council || !relayer || !operatorA || !operatorB || !keyA || !keyB) throw new Error("accounts");
  const { chainId } = await hre.ethers.provider.getNetwork();
  const now = async () => (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;

  console.log(`Covenant demo on an in-process Hardhat chain (id ${chainId})`);
  const signers = await hre.ethers.getSigners();
  const t = Object.fromEntries(Object.entries(TREASURY_ACCOUNTS).map(([k, i]) => [k, signers[i]!])) as Record<
    keyof typeof TREASURY_ACCOUNTS,
    (typeof signers)[number]
  >;
  const humans = GOVERNANCE_ACCOUNTS.humans.map((i) => signers[i]!);
  const guardianOwners = GOVERNANCE_ACCOUNTS.guardianOwners.map((i) => signers[i]!);
  const guardianSafe = await deploySafe(
    deployer,
    guardianOwners.map((o) => o.address),
    2,
  );
  const secondsPerAgePoint = 3_600;
  const deployed = await hre.ignition.deploy(CovenantModule, {
    config: { blockPollingInterval: 5 },
    parameters: {
      Identity: { council: council.address, relayer: relayer.address, recoveryDelay: 86_400 },
      Treasury: {
        poster: t.poster.address,
        guardian: t.guardian.address,
        epochLength: 3_600,
        challengeWindow: 300,
        claimPeriod: 30 * 86_400,
        // The executor's relayer key is paid from agents' budgets for relayed gas (and backups).
        serviceKeeper: signers[EXECUTOR_ACCOUNTS.relayer]!.address,
        relayedGasCap: 5n * 10n ** 16n,
        backupCap: 10n ** 16n,
      },
      Spending: { guardian: t.guardian.address },
      Governance: {
        guardian: await guardianSafe.getAddress(),
        attestor: signers[GOVERNANCE_ACCOUNTS.attestor]!.address,
        simulator: signers[GOVERNANCE_ACCOUNTS.simulator]!.address,
        humans: humans.map((h) => h.address),
        humanWeights: humans.map(() => 100),
        secondsPerAgePoint,
        timelockMinDelay: 600,
        votingDelay: 60,
        votingPeriod: 3_600,
        proposalWindow: 1_000,
        executionWindow: 50,
      },
    },
  });
  const registry = AgentRegistry__factory.connect(await deployed.registry.getAddress(), deployer);
  console.log(`deployed AgentRegistry at ${await registry.getAddress()} through deploy/modules/Covenant.ts`);
  console.log(
    `deployed CovenantGovernor at ${await deployed.governor.getAddress()}, timelock ${await deployed.timelock.getAddress()}`,
  );

  const report = new Report();
  const born = await birthAgents(
    report,
    registry,
    Number(chainId),
    relayer,
    [
      { name: "Ada", operator: operatorA, key: keyA, values: ["Serve user effectively", "Earn fair compensation"] },
      { name: "Brook", operator: operatorB, key: keyB, values: ["Maintain autonomy", "Contribute to civilization"] },
    ],
    now,
  );
  await revenueAndEarnings(report, {
    registry,
    router: RevenueRouter__factory.connect(await deployed.revenueRouter.getAddress(), deployer),
    distributor: EarningsDistributor__factory.connect(await deployed.earningsDistributor.getAddress(), deployer),
    treasury: Treasury__factory.connect(await deployed.treasury.getAddress(), deployer),
    agents: born,
    third: { name: "Cyd", operator: t.operatorC, key: t.keyC },
    users: [t.userA, t.userB],
    poster: t.poster,
    posterIndex: TREASURY_ACCOUNTS.poster,
    relayer,
  });
  await spendingDemo(
    report,
    SpendingLimitModule__factory.connect(await deployed.spendingLimitModule.getAddress(), deployer),
    Number(chainId),
    born[0]!.agentId,
    born[0]!.name,
    {
      deployer,
      operator: operatorA,
      cosigner: signers[SPENDING_ACCOUNTS.cosigner]!,
      agentKey: keyA,
      keeper: relayer,
      recipient: signers[SPENDING_ACCOUNTS.recipient]!,
    },
  );
  // The same agent and Safe, now through the tx-executor.
  await spendThroughExecutor(report, {
    module: SpendingLimitModule__factory.connect(await deployed.spendingLimitModule.getAddress(), deployer),
    registry: (await registry.getAddress()) as `0x${string}`,
    agent: born[0]!,
    recipient: signers[SPENDING_ACCOUNTS.recipient]!,
    relayerIndex: EXECUTOR_ACCOUNTS.relayer,
    treasury: Treasury__factory.connect(await deployed.treasury.getAddress(), deployer),
  });
  // Backups through the backup keeper: Ada is resurrected, Brook (consent revoked) is not.
  await backupDemo(report, { registry, agents: [born[0]!, born[1]!], agentKeyIndexes: [5, 6] });
  await governanceDemo(report, {
    chainId: Number(chainId),
    governor: CovenantGovernor__factory.connect(await deployed.governor.getAddress(), deployer),
    votes: CovenantVotes__factory.connect(await deployed.votes.getAddress(), deployer),
    evolution: EvolutionRegistry__factory.connect(await deployed.evolutionRegistry.getAddress(), deployer),
    policy: CommonsPolicy__factory.connect(await deployed.commonsPolicy.getAddress(), deployer),
    council,
    relayer,
    humans,
    guardianSafe,
    guardianOwners,
    simulatorIndex: GOVERNANCE_ACCOUNTS.simulator,
    agents: born,
    secondsPerAgePoint,
    addresses: {
      AgentRegistry: (await registry.getAddress()) as Address,
      CovenantTimelock: (await deployed.timelock.getAddress()) as Address,
      CovenantVotes: (await deployed.votes.getAddress()) as Address,
      CommonsPolicy: (await deployed.commonsPolicy.getAddress()) as Address,
      RevenueRouter: (await deployed.revenueRouter.getAddress()) as Address,
      EarningsDistributor: (await deployed.earningsDistributor.getAddress()) as Address,
      Treasury: (await deployed.treasury.getAddress()) as Address,
      SpendingLimitModule: (await deployed.spendingLimitModule.getAddress()) as Address,
    },
  });
  report.summary();
  console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  if (err instanceof DemoCheckError) console.error(`\ndemo check failed: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
