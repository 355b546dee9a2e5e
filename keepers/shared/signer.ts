import { readFile } from "node:fs/promises";
import { Wallet } from "ethers";
import type { Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ConfigError } from "./errors";
import type { Secret } from "./redact";

export type SignerConfig = {
  KEEPER_PRIVATE_KEY?: Secret<Hex> | undefined;
  KEEPER_KEYSTORE_PATH?: string | undefined;
  KEEPER_KEYSTORE_PASSWORD?: Secret | undefined;
};

/**
 * The keeper's signing account, from a raw key or an encrypted JSON keystore (the format geth,
 * ethers and `cast wallet` write). Decryption runs scrypt and takes about a second with standard
 * parameters, so it happens once at start. Returns undefined when no signer is configured.
 */
export async function loadSigner(config: SignerConfig): Promise<LocalAccount | undefined> {
  if (config.KEEPER_PRIVATE_KEY) return privateKeyToAccount(config.KEEPER_PRIVATE_KEY.reveal());
  if (!config.KEEPER_KEYSTORE_PATH) return undefined;
  if (!config.KEEPER_KEYSTORE_PASSWORD) {
    throw new ConfigError([{ variable: "KEEPER_KEYSTORE_PASSWORD", message: "required with KEEPER_KEYSTORE_PATH" }]);
  }
  let json: string;
  try {
    json = await readFile(config.KEEPER_KEYSTORE_PATH, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code ?? "unreadable";
    throw new ConfigError([{ variable: "KEEPER_KEYSTORE_PATH", message: `cannot read the keystore file (${code})` }]);
  }
  let wallet: Awaited<ReturnType<typeof Wallet.fromEncryptedJson>>;
  try {
    wallet = await Wallet.fromEncryptedJson(json, config.KEEPER_KEYSTORE_PASSWORD.reveal());
  } catch {
    // ethers says "incorrect password" or "invalid JSON wallet"; neither message may carry secrets,
    // but the cause is not attached anyway: nothing about the keystore belongs in a log.
    throw new ConfigError([
      {
        variable: "KEEPER_KEYSTORE_PASSWORD",
        message: "cannot decrypt KEEPER_KEYSTORE_PATH (wrong password or not an encrypted JSON keystore)",
      },
    ]);
  }
  return privateKeyToAccount(wallet.privateKey as Hex);
}
