/**
 * Safe accounts through protocol-kit: create an agent's Safe, run Safe transactions with the owners' signatures, and
 * gather the owners' signatures over a Safe message (the approval of a queued spend). Imported on its own
 * (`sdk/safe`), not from `sdk/index`, so that tools which never touch a Safe do not load protocol-kit.
 */
import Safe, { type ContractNetworksConfig, type Eip1193Provider } from "@safe-global/protocol-kit";
import { type Address, encodeFunctionData, type Hex } from "viem";

/** EIP-712 typed data as protocol-kit takes it for a Safe message. */
export type SafeTypedData = Exclude<Parameters<Safe["createMessage"]>[0], string>;

/** The Safe v1.4.1 contracts of a chain (deploy/modules/SafeInfrastructure.ts deploys them on a local chain). */
export interface SafeInfrastructure {
  safeSingleton: Address;
  safeProxyFactory: Address;
  multiSend: Address;
  multiSendCallOnly: Address;
  fallbackHandler: Address;
  signMessageLib: Address;
  createCall: Address;
  simulateTxAccessor: Address;
}

/** Where protocol-kit finds the Safe contracts, and whose keys sign. */
export interface SafeContext {
  /** An RPC URL or an EIP-1193 provider (Hardhat's in tests). */
  provider: string | Eip1193Provider;
  /** The Safe contracts of a local chain; omit on networks where Safe's canonical deployments exist. */
  contractNetworks?: ContractNetworksConfig;
}

/** A Safe owner's key: a 0x private key, or an address the provider signs for (Hardhat's unlocked accounts). */
export type OwnerKey = string;

/** One call a Safe makes. */
export interface SafeCall {
  to: Address;
  value?: bigint;
  data: Hex;
}

/** protocol-kit's `contractNetworks` for a chain whose Safe contracts were deployed by us. */
export function contractNetworks(chainId: number | bigint, c: SafeInfrastructure): ContractNetworksConfig {
  return {
    [String(chainId)]: {
      safeSingletonAddress: c.safeSingleton,
      safeProxyFactoryAddress: c.safeProxyFactory,
      multiSendAddress: c.multiSend,
      multiSendCallOnlyAddress: c.multiSendCallOnly,
      fallbackHandlerAddress: c.fallbackHandler,
      signMessageLibAddress: c.signMessageLib,
      createCallAddress: c.createCall,
      simulateTxAccessorAddress: c.simulateTxAccessor,
    },
  };
}

function baseConfig(ctx: SafeContext, signer: OwnerKey) {
  return { provider: ctx.provider, signer, contractNetworks: ctx.contractNetworks, isL1SafeSingleton: true };
}

/** Connects protocol-kit to an existing Safe with one owner's key. */
export function connectSafe(ctx: SafeContext, safeAddress: Address, signer: OwnerKey): Promise<Safe> {
  return Safe.init({ ...baseConfig(ctx, signer), safeAddress });
}

/**
 * Deploys a Safe v1.4.1 (with the compatibility fallback handler, which serves ERC-1271 for approvals) owned by
 * `owners` with `threshold`, sent from `deployer`'s key. Returns its address; the same inputs give the same address.
 */
export async function deploySafe(
  ctx: SafeContext,
  deployer: OwnerKey,
  owners: Address[],
  threshold: number,
  saltNonce: string,
): Promise<Address> {
  const kit = await Safe.init({
    ...baseConfig(ctx, deployer),
    predictedSafe: {
      safeAccountConfig: { owners, threshold },
      safeDeploymentConfig: { saltNonce, safeVersion: "1.4.1" },
    },
  });
  const address = (await kit.getAddress()) as Address;
  if (await kit.isSafeDeployed()) return address;
  const tx = await kit.createSafeDeploymentTransaction();
  const client = await kit.getSafeProvider().getExternalSigner();
  if (!client) throw new Error("deploySafe needs a signer to send the deployment");
  const hash = await client.sendTransaction({
    to: tx.to as Address,
    data: tx.data as Hex,
    value: BigInt(tx.value),
    account: client.account ?? null,
    chain: null,
  });
  await waitForReceipt(kit, hash);
  return address;
}

/**
 * Runs calls as one Safe transaction (a MultiSend when there are several): each owner key signs with
 * eth_signTypedData_v4, the last one executes. Throws when the Safe transaction reverts or its inner call fails.
 */
export async function execSafeTransaction(
  ctx: SafeContext,
  safeAddress: Address,
  owners: OwnerKey[],
  calls: SafeCall[],
): Promise<Hex> {
  if (owners.length === 0) throw new Error("execSafeTransaction needs at least one owner key");
  let kit = await connectSafe(ctx, safeAddress, owners[0]!);
  let tx = await kit.createTransaction({
    transactions: calls.map((c) => ({ to: c.to, value: String(c.value ?? 0n), data: c.data })),
  });
  for (const [i, owner] of owners.entries()) {
    if (i > 0) kit = await kit.connect({ ...baseConfig(ctx, owner), safeAddress });
    tx = await kit.signTransaction(tx); // eth_signTypedData_v4
  }
  const result = await kit.executeTransaction(tx);
  const hash = result.hash as Hex;
  const receipt = await waitForReceipt(kit, hash);
  // A Safe transaction whose inner call fails still mines (execTransaction emits ExecutionFailure).
  const failure = receipt.logs.some((log) => log.topics[0] === EXECUTION_FAILURE_TOPIC);
  if (receipt.status !== "success" || failure) throw new Error(`Safe transaction ${hash} failed`);
  return hash;
}

/** keccak256("ExecutionFailure(bytes32,uint256)"). */
const EXECUTION_FAILURE_TOPIC = "0x23428b18acfb3ea64b08dc0c1d296ea9c09702c09083ca5272e64d115b687d23";

/**
 * The owners' signatures over a Safe message wrapping `typedData` (EIP-712), in the encoding the Safe checks:
 * pass them to a contract that asks the Safe's ERC-1271 `isValidSignature(hash, signatures)`.
 */
export async function signSafeMessage(
  ctx: SafeContext,
  safeAddress: Address,
  owners: OwnerKey[],
  typedData: SafeTypedData,
): Promise<Hex> {
  if (owners.length === 0) throw new Error("signSafeMessage needs at least one owner key");
  let kit = await connectSafe(ctx, safeAddress, owners[0]!);
  let message = kit.createMessage(typedData);
  for (const [i, owner] of owners.entries()) {
    if (i > 0) kit = await kit.connect({ ...baseConfig(ctx, owner), safeAddress });
    message = await kit.signMessage(message); // eth_signTypedData_v4
  }
  return message.encodedSignatures() as Hex;
}

/** The Safe's enableModule call, to run as a Safe transaction. */
export function enableModuleCall(safeAddress: Address, module: Address): SafeCall {
  return {
    to: safeAddress,
    data: encodeFunctionData({
      abi: [
        {
          type: "function",
          name: "enableModule",
          stateMutability: "nonpayable",
          inputs: [{ name: "module", type: "address" }],
          outputs: [],
        },
      ],
      functionName: "enableModule",
      args: [module],
    }),
  };
}

async function waitForReceipt(kit: Safe, hash: Hex) {
  const client = kit.getSafeProvider().getExternalProvider();
  return client.waitForTransactionReceipt({ hash });
}
