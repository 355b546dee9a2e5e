import { type Address, type Hex, type PublicClient, recoverAddress } from "viem";
import { digestOf, type SignedAction, type TypedAction } from "./actions";

/**
 * Verifies a signed action off-chain. Without a client only EOA signatures can be checked (ecrecover); with a
 * client, ERC-1271 accounts are asked on-chain exactly as the contract would ask them.
 */
export async function verifyAction(
  action: TypedAction,
  signature: Hex,
  expectedSigner: Address,
  client?: PublicClient,
): Promise<boolean> {
  const hash = digestOf(action);
  if (client) return client.verifyHash({ address: expectedSigner, hash, signature });
  try {
    const recovered = await recoverAddress({ hash, signature });
    return recovered.toLowerCase() === expectedSigner.toLowerCase();
  } catch {
    return false;
  }
}

/** Verifies a {@link SignedAction} against the signer it names. */
export function verifySignedAction(action: SignedAction, client?: PublicClient): Promise<boolean> {
  return verifyAction(action, action.signature, action.signer, client);
}
