import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** One deployed contract as recorded under deployments/. */
export interface ContractRecord {
  address: `0x${string}`;
  /** The artifact the code comes from (CommonsPolicy's proxy is a CommonsPolicyProxy). */
  contractName?: string;
  /** The transaction that created the contract (its creator's, for a contract another constructor creates). */
  transaction?: `0x${string}`;
  block?: number;
  /** Gas of the creating transaction (absent for a contract another constructor creates: its creator paid). */
  gasUsed?: number;
  /** The contract whose constructor created this one. */
  createdBy?: string;
  /** As the constructor received them (bigints as decimal strings): what source verification needs. */
  constructorArgs?: unknown[];
}

/** A contract's source verification on the block explorer: "verified", "already verified", or the error. */
export type VerificationStatus = "verified" | "already verified" | { error: string };

/** deployments/<chainId>.json: what an operator, a keeper or the CLI needs to find Covenant on a chain. */
export interface DeploymentRecord {
  chainId: number;
  network: string;
  commit?: string;
  deployedAt?: string;
  contracts: Record<string, ContractRecord>;
  /** The first block of the deployment; role events are read from here. */
  fromBlock?: number;
  /** The account that deployed (it must hold no role afterwards). */
  deployer?: string;
  /** Role holders, as deployed (see deploy/parameters/<network>.json). */
  roles?: Record<string, string>;
  /** The council and guardian Safes. */
  safes?: Record<string, string>;
  /** How the deployment created the council and guardian Safes (absent for a Safe named by address). */
  safeCreations?: Record<string, ContractRecord>;
  /** The Safe v1.4.1 contracts used on this chain (canonical on public chains). */
  safeContracts?: {
    safeSingletonAddress: string;
    safeProxyFactoryAddress: string;
    multiSendAddress: string;
    multiSendCallOnlyAddress: string;
    fallbackHandlerAddress: string;
    signMessageLibAddress: string;
    createCallAddress: string;
    simulateTxAccessorAddress: string;
  };
  /** The Ignition parameters the suite was deployed with. */
  parameters?: Record<string, Record<string, unknown>>;
  /** Source verification per contract, when an explorer API key was set. */
  verification?: Record<string, VerificationStatus>;
}

export const DEPLOYMENTS_DIR = path.resolve(__dirname, "..", "deployments");

export function deploymentPath(chainId: number, dir: string = DEPLOYMENTS_DIR): string {
  return path.join(dir, `${chainId}.json`);
}

/** Reads a record from a file path, or from deployments/<chainId>.json when given a chain id. */
export function readDeployment(fileOrChainId: string | number): DeploymentRecord {
  const file = typeof fileOrChainId === "number" ? deploymentPath(fileOrChainId) : fileOrChainId;
  if (!existsSync(file)) throw new Error(`no deployment record at ${file}`);
  const record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
  if (typeof record.chainId !== "number" || typeof record.contracts !== "object") {
    throw new Error(`${file} is not a Covenant deployment record (chainId and contracts are required)`);
  }
  return record;
}

export function writeDeployment(record: DeploymentRecord, dir: string = DEPLOYMENTS_DIR): string {
  mkdirSync(dir, { recursive: true });
  const file = deploymentPath(record.chainId, dir);
  // Wei amounts among the parameters are bigints: written as decimal strings.
  const json = JSON.stringify(record, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
  writeFileSync(file, `${json}\n`);
  return file;
}

/** The address of `name` in a record, or a clear error naming what is missing. */
export function addressOf(record: DeploymentRecord, name: string): `0x${string}` {
  const entry = record.contracts[name];
  if (!entry) throw new Error(`deployment for chain ${record.chainId} has no ${name}`);
  return entry.address;
}

/** deploy/modules/Covenant.ts's future ids → the contract names a deployment record uses. */
export const RECORD_NAMES: Readonly<Record<string, string>> = {
  registry: "AgentRegistry",
  agentGoals: "AgentGoals",
  councilFlags: "CouncilFlags",
  timelock: "CovenantTimelock",
  votes: "CovenantVotes",
  governor: "CovenantGovernor",
  evolutionRegistry: "EvolutionRegistry",
  commonsPolicy: "CommonsPolicy",
  commonsPolicyImplementation: "CommonsPolicyImplementation",
  revenueRouter: "RevenueRouter",
  earningsDistributor: "EarningsDistributor",
  treasury: "Treasury",
  spendingLimitModule: "SpendingLimitModule",
};
