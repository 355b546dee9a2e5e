/**
 * Deploys the Covenant suite through the Ignition modules and writes deployments/<chainId>.json.
 *
 *   npm run deploy -- --network localhost
 *
 * Parameters come from deploy/parameters/<network>.json. Ignition keeps a journal under deploy/deployments/, so a
 * failed run resumes where it stopped when started again.
 */
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import hre from "hardhat";
import CovenantModule from "../deploy/modules/Covenant";
import { type DeploymentRecord, writeDeployment } from "../deploy/records";

function gitCommit(): string | undefined {
  try {
    return execSync("git rev-parse HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

async function main() {
  const network = hre.network.name;
  const parametersFile = path.resolve(__dirname, "..", "deploy", "parameters", `${network}.json`);
  const parameters = JSON.parse(readFileSync(parametersFile, "utf8"));
  const { chainId } = await hre.ethers.provider.getNetwork();
  const deployed = await hre.ignition.deploy(CovenantModule, {
    parameters,
    deploymentId: `chain-${chainId}`,
  });
  const names: Record<string, string> = {
    registry: "AgentRegistry",
    agentGoals: "AgentGoals",
    councilFlags: "CouncilFlags",
    revenueRouter: "RevenueRouter",
    earningsDistributor: "EarningsDistributor",
    treasury: "Treasury",
  };
  const record: DeploymentRecord = {
    chainId: Number(chainId),
    network,
    commit: gitCommit(),
    deployedAt: new Date().toISOString(),
    contracts: {},
    roles: { ...parameters.Identity, ...parameters.Treasury },
  };
  for (const [key, contract] of Object.entries(deployed)) {
    const name = names[key] ?? key;
    record.contracts[name] = { address: (await contract.getAddress()) as `0x${string}` };
  }
  const file = writeDeployment(record);
  console.log(`deployed to chain ${chainId}; record written to ${path.relative(process.cwd(), file)}`);
  for (const [name, c] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(16)} ${c.address}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
