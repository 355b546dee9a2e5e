/**
 * Deploys the Covenant suite through the Ignition modules and writes deployments/<chainId>.json.
 *
 *   npm run deploy -- --network localhost
 *
 * Parameters come from deploy/parameters/<network>.json. Ignition keeps a journal under deploy/deployments/, so a
 * failed run resumes where it stopped when started again. On `localhost` a journal whose contracts the chain does not
 * have (the node was restarted since) is removed and the suite deployed afresh; on any other network that is an
 * error. The record goes to $COVENANT_DEPLOYMENTS_DIR (default deployments/).
 */
import { execSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
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

async function missingCode(addresses: string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const address of addresses) {
    if ((await hre.ethers.provider.getCode(address)) === "0x") missing.push(address);
  }
  return missing;
}

/**
 * Ignition trusts its journal: pointed at a chain that lacks the journal's contracts (a local node restarted since the
 * last deployment), it reports them as deployed and the record would name empty addresses.
 */
async function checkJournal(deploymentId: string, network: string): Promise<void> {
  const dir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
  const file = path.join(dir, "deployed_addresses.json");
  if (!existsSync(file)) return;
  const missing = await missingCode(Object.values(JSON.parse(readFileSync(file, "utf8")) as Record<string, string>));
  if (missing.length === 0) return;
  if (network !== "localhost") {
    throw new Error(`${dir} names contracts that ${network} does not have (${missing.join(", ")}); not resuming it`);
  }
  // A local node's chain is gone once the node stops: its journal describes nothing that exists any more.
  rmSync(dir, { recursive: true, force: true });
  console.log(`the local chain lacks the contracts of ${path.relative(process.cwd(), dir)} (node restarted?):`);
  console.log("  stale journal removed; deploying afresh");
}

async function main() {
  const network = hre.network.name;
  const parametersFile = path.resolve(__dirname, "..", "deploy", "parameters", `${network}.json`);
  const parameters = JSON.parse(readFileSync(parametersFile, "utf8"));
  const { chainId } = await hre.ethers.provider.getNetwork();
  const deploymentId = `chain-${chainId}`;
  await checkJournal(deploymentId, network);
  const deployed = await hre.ignition.deploy(CovenantModule, { parameters, deploymentId });
  const names: Record<string, string> = {
    registry: "AgentRegistry",
    agentGoals: "AgentGoals",
    councilFlags: "CouncilFlags",
  };
  const record: DeploymentRecord = {
    chainId: Number(chainId),
    network,
    commit: gitCommit(),
    deployedAt: new Date().toISOString(),
    contracts: {},
    roles: parameters.Identity,
  };
  for (const [key, contract] of Object.entries(deployed)) {
    const name = names[key] ?? key;
    record.contracts[name] = { address: (await contract.getAddress()) as `0x${string}` };
  }
  const missing = await missingCode(Object.values(record.contracts).map((c) => c.address));
  if (missing.length > 0) throw new Error(`no code at ${missing.join(", ")} on chain ${chainId}; no record written`);
  const file = writeDeployment(record, process.env.COVENANT_DEPLOYMENTS_DIR || undefined);
  console.log(`deployed to chain ${chainId}; record written to ${path.relative(process.cwd(), file)}`);
  for (const [name, c] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(16)} ${c.address}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
