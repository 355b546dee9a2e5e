import type { Signer as EthersSigner, TypedDataField } from "ethers";
import type { Address, Hex, LocalAccount, TypedDataDomain } from "viem";

/** The fields of a typed-data message, as plain values. */
export type TypedMessage = Record<string, unknown>;

/**
 * Anything that can sign Covenant's typed data for an agent: a viem local account, an ethers signer, or a wallet
 * (hardware, remote, ERC-1271 account owner) wrapped the same way.
 */
export interface AgentSigner {
  readonly address: Address;
  signTypedData(args: {
    domain: TypedDataDomain;
    types: Record<string, readonly { name: string; type: string }[]>;
    primaryType: string;
    message: TypedMessage;
  }): Promise<Hex>;
}

/** Wraps a viem local account (privateKeyToAccount, mnemonicToAccount, …). */
export function fromViemAccount(account: LocalAccount): AgentSigner {
  return {
    address: account.address,
    signTypedData: (args) =>
      account.signTypedData({
        domain: args.domain,
        types: args.types as Record<string, { name: string; type: string }[]>,
        primaryType: args.primaryType,
        message: args.message,
      }),
  };
}

/** Wraps an ethers v6 signer (Wallet, JsonRpcSigner, HardhatEthersSigner …); the address is read once. */
export async function fromEthersSigner(signer: EthersSigner): Promise<AgentSigner> {
  const address = (await signer.getAddress()) as Address;
  return {
    address,
    signTypedData: async (args) => {
      const { domain } = args;
      const types: Record<string, TypedDataField[]> = {};
      for (const [name, fields] of Object.entries(args.types)) {
        if (name !== "EIP712Domain") types[name] = fields.map((f) => ({ name: f.name, type: f.type }));
      }
      const signature = await signer.signTypedData(
        {
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId === undefined ? undefined : BigInt(domain.chainId),
          verifyingContract: domain.verifyingContract,
        },
        types,
        args.message,
      );
      return signature as Hex;
    },
  };
}
