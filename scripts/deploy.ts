/**
 * Deploys Covenant to a network and writes deployments/<chainId>.json.
 *
 *   npm run deploy -- --network localhost|sepolia|baseSepolia
 *
 * Phase one creates the council and guardian Safes with protocol-kit, against Safe's canonical v1.4.1 contracts on
 * public chains (so the Safe web app recognises them) or, on a local chain, against the same contracts deployed from
 * their npm artifacts first. Phase two deploys the suite through the Ignition modules with
 * deploy/parameters/<network>.json. Both phases are idempotent: Safes are found at their predicted addresses and
 * Ignition's journal (deploy/deployments/chain-<id>/) resumes a failed run where it stopped.
 * The record names, per contract, its address, creating transaction, block, gas, constructor arguments and the git
 * commit. With ETHERSCAN_API_KEY set, every contract's source is then verified on the explorer (a failure is reported
 * per contract and leaves the deployment standing; running the script again retries it and sends nothing else).
 * $COVENANT_DEPLOYMENTS_DIR puts the record elsewhere than deployments/ (tests use a temporary directory);
 * $COVENANT_DEPLOYMENT_ID names Ignition's journal (default chain-<chainId>), so a rehearsal keeps its own.
 */
import { execSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { HardhatArtifactResolver } from "@nomicfoundation/hardhat-ignition/helpers";
import hre from "hardhat";
import { contractRecords, ignitionDeployments } from "../deploy/ignition";
import CovenantModule from "../deploy/modules/Covenant";
import { ignitionParameters, loadParameters, type SafeSpec } from "../deploy/parameters";
import {
  type ContractRecord,
  DEPLOYMENTS_DIR,
  type DeploymentRecord,
  deploymentPath,
  RECORD_NAMES,
  readDeployment,
  writeDeployment,
} from "../deploy/records";
import { canonicalSafeContracts, createSafe, deploySafeContracts, type SafeContracts } from "../deploy/safe";
import { verifyDeployment } from "../deploy/verify";

const LOCAL_CHAINS = new Set([31337, 1337]);
const RECORDS_DIR = process.env.COVENANT_DEPLOYMENTS_DIR || DEPLOYMENTS_DIR;

function gitCommit(): string | undefined {
  try {
    return execSync("git rev-parse HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

function previousRecord(chainId: number): DeploymentRecord | undefined {
  try {
    return readDeployment(deploymentPath(chainId, RECORDS_DIR));
  } catch {
    return undefined;
  }
}

async function recordIsLive(record?: DeploymentRecord): Promise<boolean> {
  const registry = record?.contracts.AgentRegistry?.address;
  return registry !== undefined && (await hre.ethers.provider.getCode(registry)) !== "0x";
}

async function safeContractsFor(chainId: number, previous?: DeploymentRecord): Promise<SafeContracts> {
  const canonical = canonicalSafeContracts(chainId);
  if (canonical && !LOCAL_CHAINS.has(chainId)) return canonical;
  const known = previous?.safeContracts;
  if (known && (await hre.ethers.provider.getCode(known.safeSingletonAddress)) !== "0x") return known;
  if (!LOCAL_CHAINS.has(chainId)) throw new Error(`chain ${chainId} has no canonical Safe v1.4.1 deployment`);
  const [deployer] = await hre.ethers.getSigners();
  if (!deployer) throw new Error("no deployer account");
  console.log("phase 0: deploying Safe v1.4.1 contracts from their npm artifacts (local chain)");
  return deploySafeContracts(deployer);
}

/** The Safe's address, and the transaction that created it when this run or an earlier one of it did. */
async function resolveSafe(
  name: string,
  spec: SafeSpec,
  conn: Parameters<typeof createSafe>[0],
  previous?: ContractRecord,
): Promise<{ address: string; creation?: ContractRecord }> {
  if ("address" in spec) {
    if ((await hre.ethers.provider.getCode(spec.address)) === "0x") {
      throw new Error(`safes.${name}.address ${spec.address} has no code on this chain`);
    }
    return { address: spec.address };
  }
  const safe = await createSafe(conn, spec.owners, spec.threshold, spec.saltNonce);
  console.log(`  ${name} Safe ${safe.address} ${safe.created ? `created (tx ${safe.txHash})` : "already deployed"}`);
  if (!safe.txHash) return { address: safe.address, creation: previous };
  const receipt = await hre.ethers.provider.getTransactionReceipt(safe.txHash);
  return {
    address: safe.address,
    creation: {
      address: safe.address as `0x${string}`,
      contractName: "SafeProxy",
      transaction: safe.txHash as `0x${string}`,
      block: receipt?.blockNumber,
      gasUsed: receipt ? Number(receipt.gasUsed) : undefined,
    },
  };
}

async function main() {
  const network = hre.network.name;
  const params = loadParameters(network);
  const [deployer] = await hre.ethers.getSigners();
  if (!deployer) throw new Error(`no deployer account for ${network}: set DEPLOYER_PRIVATE_KEY`);
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  let previous = previousRecord(chainId);
  const deploymentId = process.env.COVENANT_DEPLOYMENT_ID || `chain-${chainId}`;
  const journalDir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
  console.log(`deploying Covenant to ${network} (chain ${chainId}) from ${deployer.address}`);
  if (LOCAL_CHAINS.has(chainId) && !(await recordIsLive(previous))) {
    // A local chain restarted from genesis: the journal and record describe contracts that no longer exist.
    rmSync(journalDir, { recursive: true, force: true });
    previous = undefined;
  }

  const fromBlock = previous?.fromBlock ?? (await hre.ethers.provider.getBlockNumber());
  const safeContracts = await safeContractsFor(chainId, previous);
  console.log("phase 1: Safes");
  const conn = {
    provider: hre.network.provider as never,
    signer: deployer.address,
    chainId,
    contracts: safeContracts,
  };
  const councilSafe = await resolveSafe("council", params.safes.council, conn, previous?.safeCreations?.council);
  const guardianSafe = await resolveSafe("guardian", params.safes.guardian, conn, previous?.safeCreations?.guardian);
  const council = councilSafe.address;
  const guardian = guardianSafe.address;
  const safeCreations: Record<string, ContractRecord> = {};
  if (councilSafe.creation) safeCreations.council = councilSafe.creation;
  if (guardianSafe.creation) safeCreations.guardian = guardianSafe.creation;

  console.log("phase 2: the suite (Ignition)");
  const parameters = ignitionParameters(params, { council, guardian });
  const deployed = await hre.ignition.deploy(CovenantModule, {
    parameters: parameters as never,
    deploymentId,
  });

  const record: DeploymentRecord = {
    chainId,
    network,
    commit: gitCommit(),
    deployedAt: new Date().toISOString(),
    fromBlock,
    deployer: deployer.address,
    contracts: {},
    safes: { council, guardian },
    safeCreations,
    safeContracts,
    roles: { ...params.keepers, council, guardian },
    parameters,
  };
  const addresses: Record<string, string> = {};
  for (const [key, contract] of Object.entries(deployed))
    addresses[RECORD_NAMES[key] ?? key] = await contract.getAddress();
  record.contracts = await contractRecords(
    addresses,
    await ignitionDeployments(journalDir, new HardhatArtifactResolver(hre)),
    async (hash) => {
      const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
      if (!receipt) throw new Error(`no receipt for ${hash}`);
      return { blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed };
    },
  );
  // The timelock is the admin of every contract: the deployment checks expect it under roles.
  if (record.roles && record.contracts.CovenantTimelock)
    record.roles.timelock = record.contracts.CovenantTimelock.address;
  const file = writeDeployment(record, RECORDS_DIR);
  console.log(`record written to ${path.relative(process.cwd(), file)}`);
  for (const [name, c] of Object.entries(record.contracts)) {
    const gas = c.gasUsed === undefined ? `created by ${c.createdBy}` : `gas ${c.gasUsed}`;
    console.log(`  ${name.padEnd(28)} ${c.address} block ${c.block} ${gas}`);
  }

  if (LOCAL_CHAINS.has(chainId)) {
    console.log("verify: skipped on a local chain (no block explorer)");
    return;
  }
  const qualified = new Map(
    (await hre.artifacts.getAllFullyQualifiedNames())
      .filter((fqn) => fqn.startsWith("contracts/") && !fqn.startsWith("contracts/mocks/"))
      .map((fqn) => [fqn.slice(fqn.lastIndexOf(":") + 1), fqn]),
  );
  record.verification = await verifyDeployment(record, {
    apiKey: process.env.ETHERSCAN_API_KEY,
    verify: (args) => hre.run("verify:verify", args),
    qualifiedName: (name) => qualified.get(name),
  });
  if (record.verification) writeDeployment(record, RECORDS_DIR);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
