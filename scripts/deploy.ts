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
import SafeInfrastructureModule from "../deploy/modules/SafeInfrastructure";
import { type DeploymentRecord, writeDeployment } from "../deploy/records";

/** Hardhat's and anvil's chain id: no Safe contracts unless we deploy them. */
const LOCAL_CHAINS = new Set([31337]);

function gitCommit(): string | undefined {
  try {
    return execSync("git rev-parse HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** Role holders of a part, keyed `<part>.<name>` so that parts' parameters never overwrite each other. */
function prefixed(part: string, params: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [`${part}.${k}`, String(v)]));
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
    spendingLimitModule: "SpendingLimitModule",
  };
  const record: DeploymentRecord = {
    chainId: Number(chainId),
    network,
    commit: gitCommit(),
    deployedAt: new Date().toISOString(),
    contracts: {},
    roles: { ...parameters.Identity, ...prefixed("spending", parameters.Spending) },
  };
  for (const [key, contract] of Object.entries(deployed)) {
    const name = names[key] ?? key;
    record.contracts[name] = { address: (await contract.getAddress()) as `0x${string}` };
  }
  // A local chain has no Safe contracts: deploy v1.4.1 from the npm artifacts so that agents' Safes can be made
  // (public networks use Safe's canonical deployments, which protocol-kit knows).
  if (LOCAL_CHAINS.has(Number(chainId))) {
    const safe = await hre.ignition.deploy(SafeInfrastructureModule, { deploymentId: `chain-${chainId}` });
    for (const [key, contract] of Object.entries(safe)) {
      record.contracts[`Safe.${key}`] = { address: (await contract.getAddress()) as `0x${string}` };
    }
  }
  const file = writeDeployment(record);
  console.log(`deployed to chain ${chainId}; record written to ${path.relative(process.cwd(), file)}`);
  for (const [name, c] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(16)} ${c.address}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
