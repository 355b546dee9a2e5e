/**
 * Safe v1.4.1 for Covenant: the contracts on a local chain, the canonical deployments on public chains, and creating
 * a Safe (council, guardian, an agent's spending Safe) with protocol-kit. One piece of code for deploy scripts, tests
 * and the demo.
 */
import SafeKit, { type ContractNetworksConfig, type Eip1193Provider } from "@safe-global/protocol-kit";
import {
  getCompatibilityFallbackHandlerDeployment,
  getCreateCallDeployment,
  getMultiSendCallOnlyDeployment,
  getMultiSendDeployment,
  getProxyFactoryDeployment,
  getSafeSingletonDeployment,
  getSignMessageLibDeployment,
  getSimulateTxAccessorDeployment,
} from "@safe-global/safe-deployments";
import { ContractFactory, type Signer } from "ethers";
import { waitForTransactionReceipt } from "viem/actions";

export const SAFE_VERSION = "1.4.1";

/** The contract addresses protocol-kit needs for one chain. */
export interface SafeContracts {
  safeSingletonAddress: string;
  safeProxyFactoryAddress: string;
  multiSendAddress: string;
  multiSendCallOnlyAddress: string;
  fallbackHandlerAddress: string;
  signMessageLibAddress: string;
  createCallAddress: string;
  simulateTxAccessorAddress: string;
}

const ARTIFACTS = "@safe-global/safe-contracts/build/artifacts/contracts";
const artifactPaths: Record<keyof SafeContracts, string> = {
  safeSingletonAddress: "Safe.sol/Safe.json",
  safeProxyFactoryAddress: "proxies/SafeProxyFactory.sol/SafeProxyFactory.json",
  multiSendAddress: "libraries/MultiSend.sol/MultiSend.json",
  multiSendCallOnlyAddress: "libraries/MultiSendCallOnly.sol/MultiSendCallOnly.json",
  fallbackHandlerAddress: "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json",
  signMessageLibAddress: "libraries/SignMessageLib.sol/SignMessageLib.json",
  createCallAddress: "libraries/CreateCall.sol/CreateCall.json",
  simulateTxAccessorAddress: "accessors/SimulateTxAccessor.sol/SimulateTxAccessor.json",
};

/** The ABI and creation code of a Safe v1.4.1 contract from the npm artifacts. */
export function safeArtifact(key: keyof SafeContracts): { abi: unknown[]; bytecode: string } {
  return require(`${ARTIFACTS}/${artifactPaths[key]}`) as { abi: unknown[]; bytecode: string };
}

/** Deploys the Safe v1.4.1 contracts on a local chain (their canonical addresses need a factory a dev chain lacks). */
export async function deploySafeContracts(deployer: Signer): Promise<SafeContracts> {
  const out: Partial<SafeContracts> = {};
  for (const key of Object.keys(artifactPaths) as (keyof SafeContracts)[]) {
    const { abi, bytecode } = safeArtifact(key);
    const contract = await new ContractFactory(abi as never[], bytecode, deployer).deploy();
    await contract.waitForDeployment();
    out[key] = await contract.getAddress();
  }
  return out as SafeContracts;
}

/**
 * The canonical Safe v1.4.1 deployments on a public chain (the addresses the Safe web app recognises), from
 * @safe-global/safe-deployments. Undefined when the chain has none.
 */
export function canonicalSafeContracts(chainId: number): SafeContracts | undefined {
  const filter = { version: SAFE_VERSION, network: String(chainId), released: true };
  const pick = (d: { networkAddresses: Record<string, string | string[]> } | undefined): string | undefined => {
    const a = d?.networkAddresses[String(chainId)];
    return Array.isArray(a) ? a[0] : a;
  };
  const contracts = {
    safeSingletonAddress: pick(getSafeSingletonDeployment(filter)),
    safeProxyFactoryAddress: pick(getProxyFactoryDeployment(filter)),
    multiSendAddress: pick(getMultiSendDeployment(filter)),
    multiSendCallOnlyAddress: pick(getMultiSendCallOnlyDeployment(filter)),
    fallbackHandlerAddress: pick(getCompatibilityFallbackHandlerDeployment(filter)),
    signMessageLibAddress: pick(getSignMessageLibDeployment(filter)),
    createCallAddress: pick(getCreateCallDeployment(filter)),
    simulateTxAccessorAddress: pick(getSimulateTxAccessorDeployment(filter)),
  };
  if (Object.values(contracts).some((a) => a === undefined)) return undefined;
  return contracts as SafeContracts;
}

/** protocol-kit's `contractNetworks` for one chain. */
export function contractNetworks(chainId: number, contracts: SafeContracts): ContractNetworksConfig {
  return { [String(chainId)]: { ...contracts } };
}

/** What protocol-kit needs to reach a chain: an EIP-1193 provider (in-process Hardhat) or an RPC URL. */
export interface SafeConnection {
  provider: Eip1193Provider | string;
  /** The sending key: a 0x private key, or an address the provider can sign for (Hardhat's accounts). */
  signer: string;
  chainId: number;
  contracts: SafeContracts;
}

/**
 * Creates (or finds) the Safe with these owners, threshold and salt. The address is predicted first, so running it
 * again after a failure finds the Safe deployed the first time instead of creating a second one.
 */
export async function createSafe(
  conn: SafeConnection,
  owners: string[],
  threshold: number,
  saltNonce: string,
): Promise<{ address: string; created: boolean; txHash?: string }> {
  const kit = await SafeKit.init({
    provider: conn.provider,
    signer: conn.signer,
    predictedSafe: {
      safeAccountConfig: { owners, threshold, fallbackHandler: conn.contracts.fallbackHandlerAddress },
      safeDeploymentConfig: { saltNonce, safeVersion: SAFE_VERSION },
    },
    contractNetworks: contractNetworks(conn.chainId, conn.contracts),
    isL1SafeSingleton: true,
  });
  const address = await kit.getAddress();
  if (await kit.isSafeDeployed()) return { address, created: false };
  const deployment = await kit.createSafeDeploymentTransaction();
  const client = await kit.getSafeProvider().getExternalSigner();
  if (!client) throw new Error("protocol-kit has no signer to send the Safe deployment");
  const txHash = await client.sendTransaction({
    to: deployment.to as `0x${string}`,
    value: BigInt(deployment.value),
    data: deployment.data as `0x${string}`,
    chain: null,
  });
  const receipt = await waitForTransactionReceipt(kit.getSafeProvider().getExternalProvider(), { hash: txHash });
  if (receipt.status !== "success") throw new Error(`Safe deployment ${txHash} reverted`);
  return { address, created: true, txHash };
}

/** Connects protocol-kit to an existing Safe as one of its owners (pass the signer each time: `connect` forgets it). */
export async function connectSafe(conn: SafeConnection, safeAddress: string): Promise<SafeKit> {
  return SafeKit.init({
    provider: conn.provider,
    signer: conn.signer,
    safeAddress,
    contractNetworks: contractNetworks(conn.chainId, conn.contracts),
    isL1SafeSingleton: true,
  });
}
