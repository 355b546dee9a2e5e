/**
 * What the deployment record needs from Ignition: for every contract of the suite, the transaction that created it,
 * its block, its gas and its constructor arguments, read back from Ignition's journal (listTransactions) and the
 * receipts. Contracts created by another contract's constructor (AgentGoals and CouncilFlags by AgentRegistry,
 * Treasury by EarningsDistributor) carry their creator's transaction and the arguments that constructor passed.
 */

import type { ArtifactResolver } from "@nomicfoundation/ignition-core";
import { listTransactions } from "@nomicfoundation/ignition-core";
import { getAddress } from "ethers";
import type { ContractRecord } from "./records";

/** A receipt's fields the record keeps. */
export interface ReceiptInfo {
  blockNumber: number;
  gasUsed: bigint;
}

/** One contract Ignition deployed itself: its artifact name, address, transaction and constructor arguments. */
export interface IgnitionDeployment {
  contractName: string;
  address: string;
  txHash: string;
  constructorArgs: unknown[];
}

/** Contracts a constructor creates: the creator, and the created contract's arguments from the creator's. */
const CREATED_BY: Record<string, { creator: string; args: (creatorArgs: unknown[], creator: string) => unknown[] }> = {
  // AgentRegistry's constructor: `new CouncilFlags(this)`, `new AgentGoals(this)`.
  AgentGoals: { creator: "AgentRegistry", args: (_a, registry) => [registry] },
  CouncilFlags: { creator: "AgentRegistry", args: (_a, registry) => [registry] },
  // EarningsDistributor(registry, router, admin, poster, guardian, challengeWindow, claimPeriod, commonsFloor,
  // limitPeriod): `new Treasury(registry_, address(router_), admin, limitPeriod)`.
  Treasury: { creator: "EarningsDistributor", args: (a) => [a[0], a[1], a[2], a[8]] },
};

/** The contracts Ignition deployed (not the calls) from a deployment's journal. */
export async function ignitionDeployments(
  deploymentDir: string,
  artifacts: Omit<ArtifactResolver, "getBuildInfo">,
): Promise<IgnitionDeployment[]> {
  const out: IgnitionDeployment[] = [];
  for (const tx of await listTransactions(deploymentDir, artifacts)) {
    if (tx.type !== "DEPLOYMENT_EXECUTION_STATE" || tx.address === undefined || tx.name === undefined) continue;
    if (tx.status !== "SUCCESS") continue;
    out.push({ contractName: tx.name, address: tx.address, txHash: tx.txHash, constructorArgs: tx.params ?? [] });
  }
  return out;
}

/** JSON-safe constructor arguments (bigints as decimal strings, as hardhat-verify accepts them). */
function plain(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/**
 * The record of each named contract: `addresses` maps the record's names to addresses (from the module's results),
 * `deployments` is what Ignition sent, `receipt` reads a transaction's receipt. A name whose address Ignition did
 * not deploy and no known constructor created is an error: the record would be incomplete.
 */
export async function contractRecords(
  addresses: Record<string, string>,
  deployments: IgnitionDeployment[],
  receipt: (txHash: string) => Promise<ReceiptInfo>,
): Promise<Record<string, ContractRecord>> {
  const byAddress = new Map(deployments.map((d) => [getAddress(d.address), d]));
  const receipts = new Map<string, ReceiptInfo>();
  const receiptOf = async (hash: string) => {
    let r = receipts.get(hash);
    if (!r) {
      r = await receipt(hash);
      receipts.set(hash, r);
    }
    return r;
  };
  const out: Record<string, ContractRecord> = {};
  for (const [name, address] of Object.entries(addresses)) {
    const own = byAddress.get(getAddress(address));
    if (own) {
      const r = await receiptOf(own.txHash);
      out[name] = {
        address: getAddress(address) as `0x${string}`,
        contractName: own.contractName,
        transaction: own.txHash as `0x${string}`,
        block: r.blockNumber,
        gasUsed: Number(r.gasUsed),
        constructorArgs: plain(own.constructorArgs) as unknown[],
      };
      continue;
    }
    const created = CREATED_BY[name];
    const creatorAddress = created ? addresses[created.creator] : undefined;
    const creator = creatorAddress ? byAddress.get(getAddress(creatorAddress)) : undefined;
    if (!created || !creator || !creatorAddress) {
      throw new Error(`${name} at ${address}: not deployed by Ignition and not created by a known constructor`);
    }
    const r = await receiptOf(creator.txHash);
    out[name] = {
      address: getAddress(address) as `0x${string}`,
      contractName: name,
      transaction: creator.txHash as `0x${string}`,
      block: r.blockNumber,
      createdBy: created.creator,
      constructorArgs: plain(created.args(creator.constructorArgs, getAddress(creatorAddress))) as unknown[],
    };
  }
  return out;
}
