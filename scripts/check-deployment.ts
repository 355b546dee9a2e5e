/**
 * Reads a deployment from the chain and fails, naming each, on any leftover privilege or wrong parameter: a deployer
 * that still holds a role, an admin that is not the timelock, a role held by an unexpected key, a Safe with other
 * owners, a parameter that differs from deploy/parameters/<network>.json.
 *
 *   npm run check:deployment -- --network localhost|sepolia|baseSepolia
 *
 * $COVENANT_DEPLOYMENTS_DIR reads the record from elsewhere than deployments/, as for the deploy script.
 */
import { JsonRpcProvider } from "ethers";
import hre from "hardhat";
import { type Finding, runDeploymentChecks } from "../deploy/checks";
import { loadParameters } from "../deploy/parameters";
import { DEPLOYMENTS_DIR, deploymentPath, readDeployment } from "../deploy/records";

async function main() {
  const network = hre.network.name;
  const url = (hre.network.config as { url?: string }).url;
  const provider = url
    ? new JsonRpcProvider(url, undefined, { staticNetwork: true })
    : (hre.ethers.provider as unknown as JsonRpcProvider);
  const chainId = Number((await provider.getNetwork()).chainId);
  const record = readDeployment(deploymentPath(chainId, process.env.COVENANT_DEPLOYMENTS_DIR || DEPLOYMENTS_DIR));
  const params = loadParameters(network);
  const findings: Finding[] = [];
  for (const { part, findings: found } of await runDeploymentChecks({
    provider,
    record,
    params,
    fromBlock: record.fromBlock ?? 0,
  })) {
    console.log(`${found.length === 0 ? "ok  " : "FAIL"} ${part}`);
    findings.push(...found);
  }
  if (findings.length > 0) {
    console.error(`\n${findings.length} problem(s) in the deployment on chain ${chainId}:`);
    for (const f of findings) console.error(`  ${f.subject}: ${f.problem}`);
    process.exit(1);
  }
  console.log(`\ndeployment on chain ${chainId} matches ${network}'s parameters; no leftover privilege`);
  if (url) provider.destroy();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
