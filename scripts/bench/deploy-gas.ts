/**
 * Gas of a Covenant deployment, per contract and in all, read from the chain: the receipts of the transactions that
 * `npm run deploy` recorded (deployments/<chainId>.json) and of every call Ignition's journal lists (role grants,
 * hand-overs, renounces). Prints a Markdown table; docs/deploy.md carries its output for a local node.
 *
 *   npm run node &                                          # or any chain the suite is deployed on
 *   npm run deploy -- --network localhost
 *   npm run bench:deploy-gas -- --network localhost
 *
 * $COVENANT_DEPLOYMENTS_DIR and $COVENANT_DEPLOYMENT_ID as for the deploy script.
 */
import path from "node:path";
import { HardhatArtifactResolver } from "@nomicfoundation/hardhat-ignition/helpers";
import { listTransactions } from "@nomicfoundation/ignition-core";
import hre from "hardhat";
import { DEPLOYMENTS_DIR, deploymentPath, readDeployment } from "../../deploy/records";

async function main() {
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const record = readDeployment(deploymentPath(chainId, process.env.COVENANT_DEPLOYMENTS_DIR || DEPLOYMENTS_DIR));
  const journal = path.join(
    hre.config.paths.ignition,
    "deployments",
    process.env.COVENANT_DEPLOYMENT_ID || `chain-${chainId}`,
  );
  const gasOf = async (hash: string) => {
    const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
    if (!receipt) throw new Error(`no receipt for ${hash} on chain ${chainId}`);
    return receipt.gasUsed;
  };

  const rows: [string, bigint, string][] = [];
  for (const [name, c] of Object.entries(record.safeCreations ?? {})) {
    rows.push([`${name} Safe (SafeProxyFactory.createProxyWithNonce)`, await gasOf(c.transaction!), "phase 1"]);
  }
  for (const [name, c] of Object.entries(record.contracts)) {
    if (c.createdBy) continue; // its creator's transaction carries it
    const created = Object.entries(record.contracts)
      .filter(([, o]) => o.createdBy === name)
      .map(([n]) => n);
    const what = c.contractName && c.contractName !== name ? `${name} (${c.contractName})` : name;
    rows.push([
      created.length > 0 ? `${what}, creating ${created.join(" and ")}` : what,
      await gasOf(c.transaction!),
      "phase 2",
    ]);
  }
  let calls = 0n;
  let count = 0;
  for (const tx of await listTransactions(journal, new HardhatArtifactResolver(hre))) {
    if (tx.type !== "CALL_EXECUTION_STATE") continue;
    calls += await gasOf(tx.txHash);
    count += 1;
  }
  rows.push([`${count} calls: keeper roles, timelock roles, admin hand-overs, renounces`, calls, "phase 2"]);

  const total = rows.reduce((sum, [, gas]) => sum + gas, 0n);
  const fmt = (n: bigint) => n.toLocaleString("en-US");
  console.log(`Deployment gas on chain ${chainId} (commit ${record.commit?.slice(0, 10) ?? "unknown"})\n`);
  console.log("| transaction | gas | phase |\n| --- | ---: | --- |");
  for (const [what, gas, phase] of rows) console.log(`| ${what} | ${fmt(gas)} | ${phase} |`);
  console.log(`| **total** | **${fmt(total)}** | |`);
  const [largest = 0n] = rows.map(([, gas]) => gas).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  console.log(`\nlargest single transaction: ${fmt(largest)} gas`);
  for (const gwei of [1n, 5n, 20n]) {
    console.log(`at ${gwei} gwei: ${hre.ethers.formatEther(total * gwei * 10n ** 9n)} ETH`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
