/**
 * What a Safe's owners do through protocol-kit: run Safe transactions with their signatures, and sign a Safe message
 * (the approval of a queued spend). Creating a Safe is deploy/safe.ts's `createSafe`. Imported on its own
 * (`sdk/safe`), not from `sdk/index`, so that tools which never touch a Safe do not load protocol-kit.
 */
import type SafeKit from "@safe-global/protocol-kit";
import { buildSignatureBytes, generatePreValidatedSignature, hashSafeMessage } from "@safe-global/protocol-kit";
import { type Address, encodeFunctionData, type Hex } from "viem";
import { connectSafe, type SafeConnection } from "../deploy/safe";

export type { SafeConnection } from "../deploy/safe";

/** EIP-712 typed data as protocol-kit takes it for a Safe message. */
export type SafeTypedData = Exclude<Parameters<SafeKit["createMessage"]>[0], string>;

/** One call a Safe makes. */
export interface SafeCall {
  to: Address;
  value?: bigint;
  data: Hex;
}

/** The connection with another owner's key (a 0x private key, or an address the provider signs for). */
function asOwner(conn: SafeConnection, owner: string): SafeConnection {
  return { ...conn, signer: owner };
}

/**
 * Runs calls as one Safe transaction (a MultiSend when there are several): each owner key signs with
 * eth_signTypedData_v4, the last one executes. Throws when the Safe transaction reverts or its inner call fails.
 */
export async function execSafeTransaction(
  conn: SafeConnection,
  safeAddress: string,
  owners: string[],
  calls: SafeCall[],
): Promise<Hex> {
  if (owners.length === 0) throw new Error("execSafeTransaction needs at least one owner key");
  let kit = await connectSafe(asOwner(conn, owners[0]!), safeAddress);
  let tx = await kit.createTransaction({
    transactions: calls.map((c) => ({ to: c.to, value: String(c.value ?? 0n), data: c.data })),
  });
  for (const [i, owner] of owners.entries()) {
    if (i > 0) kit = await connectSafe(asOwner(conn, owner), safeAddress);
    tx = await kit.signTransaction(tx); // eth_signTypedData_v4
  }
  const result = await kit.executeTransaction(tx);
  const hash = result.hash as Hex;
  const receipt = await waitForReceipt(kit, hash);
  // A Safe transaction whose inner call fails still mines (execTransaction emits ExecutionFailure).
  const failure = receipt.logs.some(
    (log) => log.topics[0] === EXECUTION_FAILURE_TOPIC && log.address.toLowerCase() === safeAddress.toLowerCase(),
  );
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
  conn: SafeConnection,
  safeAddress: string,
  owners: string[],
  typedData: SafeTypedData,
): Promise<Hex> {
  if (owners.length === 0) throw new Error("signSafeMessage needs at least one owner key");
  let kit = await connectSafe(asOwner(conn, owners[0]!), safeAddress);
  let message = kit.createMessage(typedData);
  for (const [i, owner] of owners.entries()) {
    if (i > 0) kit = await connectSafe(asOwner(conn, owner), safeAddress);
    message = await kit.signMessage(message); // eth_signTypedData_v4
  }
  return message.encodedSignatures() as Hex;
}

/**
 * The on-chain alternative to {@link signSafeMessage}: each owner approves the Safe message hash of `typedData` with
 * the Safe's `approveHash` (a transaction from the owner's key, e.g. a hardware wallet that cannot sign typed data).
 * Returns the pre-validated signatures that point at those approvals.
 */
export async function approveSafeMessageOnChain(
  conn: SafeConnection,
  safeAddress: string,
  owners: string[],
  typedData: SafeTypedData,
): Promise<Hex> {
  if (owners.length === 0) throw new Error("approveSafeMessageOnChain needs at least one owner key");
  const approvers: string[] = [];
  let hash: string | undefined;
  for (const owner of owners) {
    const kit = await connectSafe(asOwner(conn, owner), safeAddress);
    hash ??= await kit.getSafeMessageHash(hashSafeMessage(typedData));
    const result = await kit.approveTransactionHash(hash);
    const receipt = await waitForReceipt(kit, result.hash as Hex);
    if (receipt.status !== "success") throw new Error(`approveHash by ${owner} failed (tx ${result.hash})`);
    const address = await kit.getSafeProvider().getSignerAddress();
    if (!address) throw new Error("protocol-kit has no signer address");
    approvers.push(address);
  }
  return buildSignatureBytes(approvers.map((a) => generatePreValidatedSignature(a))) as Hex;
}

/** The Safe's enableModule call, to run as a Safe transaction. */
export function enableModuleCall(safeAddress: string, module: string): SafeCall {
  return {
    to: safeAddress as Address,
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
      args: [module as Address],
    }),
  };
}

async function waitForReceipt(kit: SafeKit, hash: Hex) {
  const client = kit.getSafeProvider().getExternalProvider();
  return client.waitForTransactionReceipt({ hash });
}
