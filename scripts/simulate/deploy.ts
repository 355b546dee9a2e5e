import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { HDNodeWallet } from "ethers";
import type { Address, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { RECORD_NAMES } from "../../deploy/records";

/*
 * The Covenant suite on the simulation's hardhat node, through the same Ignition modules a testnet gets
 * (deploy/modules/Covenant.ts). Hardhat is loaded here, after the node is up, with the `localhost` network pointed at
 * it (LOCALHOST_RPC_URL), so that this process and the keepers talk to one chain over JSON-RPC.
 */

const MNEMONIC = "test test test test test test test test test test test junk";
const REPO = resolve(__dirname, "..", "..");

/** Hardhat's dev account key at `index` (the node's funded accounts). */
export function devKey(index: number): Hex {
  return HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`).privateKey as Hex;
}

export const devAddress = (index: number): Address => privateKeyToAccount(devKey(index)).address;

/** Which dev account plays which part. Every key a keeper uses is its own. */
export const ACCOUNTS = {
  deployer: 0,
  council: 1,
  /** RELAYER_ROLE on the registry: relays the agents' charter signatures during set-up. */
  identityRelayer: 2,
  /** Owns every agent's token and Safe (1-of-1). */
  operator: 3,
  /** The earnings keeper (EARNINGS_POSTER_ROLE). */
  poster: 4,
  guardian: 5,
  /** The spending keeper (the module's sentinel). */
  sentinel: 6,
  /** The tx-executor's relayer: pays gas for every agent spend. */
  executorRelayer: 7,
  attestor: 8,
  /** The governance keeper (SIMULATOR_ROLE). */
  simulator: 9,
  humans: [10, 11, 12],
  /** Users who pay agents for their work. */
  users: [13, 14, 15, 16],
  /** Funds the agents' Safes. */
  funder: 17,
} as const;

export type SuiteParams = {
  epochLength: number;
  challengeWindow: number;
};

export type Suite = {
  chainId: number;
  startBlock: bigint;
  registry: Address;
  router: Address;
  distributor: Address;
  treasury: Address;
  spendingModule: Address;
  governor: Address;
  evolutionRegistry: Address;
  timelock: Address;
  votes: Address;
  commonsPolicy: Address;
  /** Every contract by its deployment-record name (deployments/<chainId>.json's `contracts`). */
  contracts: Record<string, Address>;
  genesis: bigint;
  epochLength: bigint;
  challengeWindow: bigint;
};

export async function deploySuite(rpcUrl: string, params: SuiteParams): Promise<Suite> {
  process.env.LOCALHOST_RPC_URL = rpcUrl;
  process.env.HARDHAT_NETWORK = "localhost";
  // Loaded only now: the config reads LOCALHOST_RPC_URL when it is first required.
  const hre = (await import("hardhat")).default;
  const CovenantModule = (await import("../../deploy/modules/Covenant")).default;
  const startBlock = BigInt(await hre.ethers.provider.getBlockNumber());
  const deploymentId = `simulate-${process.pid}-${Date.now()}`;
  try {
    const deployed = await hre.ignition.deploy(CovenantModule, {
      deploymentId,
      config: { blockPollingInterval: 50, requiredConfirmations: 1 },
      parameters: {
        Identity: {
          council: devAddress(ACCOUNTS.council),
          relayer: devAddress(ACCOUNTS.identityRelayer),
          recoveryDelay: 86_400,
        },
        Treasury: {
          poster: devAddress(ACCOUNTS.poster),
          guardian: devAddress(ACCOUNTS.guardian),
          epochLength: params.epochLength,
          challengeWindow: params.challengeWindow,
          claimPeriod: 30 * 86_400,
          // The relayer key may charge agents' budgets for relayed gas; the caps stay 0 (the service off), and the
          // executor runs without TREASURY_ADDRESS, so budgets hold exactly what claims paid in.
          serviceKeeper: devAddress(ACCOUNTS.executorRelayer),
        },
        Spending: {
          guardian: devAddress(ACCOUNTS.guardian),
          sentinel: devAddress(ACCOUNTS.sentinel),
          // Enough freezes for every byzantine agent of a 100-agent run in one window.
          sentinelMaxFreezes: 1_000,
          sentinelWindow: 86_400,
        },
        Governance: {
          guardian: devAddress(ACCOUNTS.guardian),
          attestor: devAddress(ACCOUNTS.attestor),
          simulator: devAddress(ACCOUNTS.simulator),
          humans: ACCOUNTS.humans.map(devAddress),
          humanWeights: ACCOUNTS.humans.map(() => 100),
          secondsPerAgePoint: 3_600,
          timelockMinDelay: 600,
          votingDelay: 60,
          votingPeriod: 3_600,
          proposalWindow: 1_000,
          executionWindow: 50,
        },
      },
    });
    const at = async (c: { getAddress(): Promise<string> }) => (await c.getAddress()) as Address;
    const router = await hre.ethers.getContractAt("RevenueRouter", await at(deployed.revenueRouter));
    const contracts: Record<string, Address> = {};
    for (const [k, c] of Object.entries(deployed)) contracts[RECORD_NAMES[k] ?? k] = await at(c);
    const distributor = await hre.ethers.getContractAt("EarningsDistributor", await at(deployed.earningsDistributor));
    return {
      chainId: Number((await hre.ethers.provider.getNetwork()).chainId),
      startBlock,
      registry: await at(deployed.registry),
      router: await at(deployed.revenueRouter),
      distributor: await at(deployed.earningsDistributor),
      treasury: (await distributor.treasury()) as Address,
      spendingModule: await at(deployed.spendingLimitModule),
      governor: await at(deployed.governor),
      evolutionRegistry: await at(deployed.evolutionRegistry),
      timelock: await at(deployed.timelock),
      votes: await at(deployed.votes),
      commonsPolicy: await at(deployed.commonsPolicy),
      contracts,
      genesis: await router.genesis(),
      epochLength: await router.epochLength(),
      challengeWindow: BigInt(params.challengeWindow),
    };
  } finally {
    // The journal describes contracts on a chain that ends with this run.
    rmSync(join(REPO, "deploy", "deployments", deploymentId), { recursive: true, force: true });
  }
}
