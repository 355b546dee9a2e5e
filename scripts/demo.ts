/**
 * The Covenant lifecycle on an in-process Hardhat chain, deployed through the same Ignition modules as a testnet.
 * Every step checks its result against the chain; a wrong result exits non-zero with the reason.
 *
 *   npm run demo
 */
import hre from "hardhat";
import CovenantModule from "../deploy/modules/Covenant";
import { deploySafe } from "../test/governance/safe";
import {
  AgentRegistry__factory,
  CommonsPolicy__factory,
  CovenantGovernor__factory,
  CovenantVotes__factory,
  EvolutionRegistry__factory,
} from "../typechain-types";
import { governanceDemo } from "./demo/governance";
import { birthAgents } from "./demo/identity";
import { DemoCheckError, Report } from "./demo/report";

async function main() {
  const started = Date.now();
  const signers = await hre.ethers.getSigners();
  const [deployer, council, relayer, operatorA, operatorB, keyA, keyB] = signers;
  if (!deployer || !council || !relayer || !operatorA || !operatorB || !keyA || !keyB) throw new Error("accounts");
  const { chainId } = await hre.ethers.provider.getNetwork();
  const now = async () => (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;

  console.log(`Covenant demo on an in-process Hardhat chain (id ${chainId})`);
  // Governance parties: three humans, a 2-of-3 guardian Safe, the attestor and simulator keeper keys.
  const humans = [signers[11]!, signers[12]!, signers[13]!];
  const guardianOwners = [signers[10]!, signers[18]!, signers[19]!];
  const guardianSafe = await deploySafe(
    deployer,
    guardianOwners.map((o) => o.address),
    2,
  );
  const simulatorIndex = 15;
  const secondsPerAgePoint = 3_600;
  const deployed = await hre.ignition.deploy(CovenantModule, {
    config: { blockPollingInterval: 5 },
    parameters: {
      Identity: { council: council.address, relayer: relayer.address, recoveryDelay: 86_400 },
      Governance: {
        guardian: await guardianSafe.getAddress(),
        attestor: signers[14]!.address,
        simulator: signers[simulatorIndex]!.address,
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
  const agents = await birthAgents(
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
    simulatorIndex,
    agents,
    secondsPerAgePoint,
  });
  report.summary();
  console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  if (err instanceof DemoCheckError) console.error(`\ndemo check failed: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
