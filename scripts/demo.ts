/**
 * The Covenant lifecycle on an in-process Hardhat chain, deployed through the same Ignition modules as a testnet.
 * Every step checks its result against the chain; a wrong result exits non-zero with the reason.
 *
 *   npm run demo
 */
import hre from "hardhat";
import CovenantModule from "../deploy/modules/Covenant";
import { AgentRegistry__factory, SpendingLimitModule__factory } from "../typechain-types";
import { spendThroughExecutor } from "./demo/executor";
import { birthAgents } from "./demo/identity";
import { DemoCheckError, Report } from "./demo/report";
import { spendingDemo } from "./demo/spending";

async function main() {
  const started = Date.now();
  const [deployer, council, relayer, operatorA, operatorB, keyA, keyB] = await hre.ethers.getSigners();
  if (!deployer || !council || !relayer || !operatorA || !operatorB || !keyA || !keyB) throw new Error("accounts");
  const { chainId } = await hre.ethers.provider.getNetwork();
  const now = async () => (await hre.ethers.provider.getBlock("latest"))?.timestamp ?? 0;

  console.log(`Covenant demo on an in-process Hardhat chain (id ${chainId})`);
  const deployed = await hre.ignition.deploy(CovenantModule, {
    parameters: { Identity: { council: council.address, relayer: relayer.address, recoveryDelay: 86_400 } },
  });
  const registry = AgentRegistry__factory.connect(await deployed.registry.getAddress(), deployer);
  console.log(`deployed AgentRegistry at ${await registry.getAddress()} through deploy/modules/Covenant.ts`);

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
  const [, , , , , , , , , , cosigner, , , , , recipient] = await hre.ethers.getSigners();
  if (!cosigner || !recipient) throw new Error("accounts");
  const module = SpendingLimitModule__factory.connect(await deployed.spendingLimitModule.getAddress(), deployer);
  await spendingDemo(report, module, Number(chainId), born[0]!.agentId, born[0]!.name, {
    deployer,
    operator: operatorA,
    cosigner,
    agentKey: keyA,
    keeper: relayer,
    recipient,
  });
  // The same agent and Safe, now through the tx-executor (relayer: Hardhat account 8).
  await spendThroughExecutor(report, {
    module,
    registry: (await registry.getAddress()) as `0x${string}`,
    agent: born[0]!,
    recipient,
    relayerIndex: 8,
  });
  report.summary();
  console.log(`demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  if (err instanceof DemoCheckError) console.error(`\ndemo check failed: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
