import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Hex } from "viem";
import { BACKUP_KEY_BYTES } from "./envelope";
import { BackupError } from "./errors";

/*
 * The agent's keystore: one encrypted JSON file (mode 0600) holding the agent's backup keys, every version since it
 * was created (old backups stay readable after a rotation), and optionally the agent signer's private key. It is
 * encrypted with AES-256-GCM under a key derived from a password with scrypt. The backup key exists only here and in
 * memory while a backup or a restore runs: never in the database, a log or on chain.
 */

export type BackupKey = { version: number; key: Buffer; createdAt: string };

export type AgentSecrets = { agentId: bigint; backupKeys: BackupKey[]; signerKey?: Hex };

type KeystoreFile = {
  format: "covenant-agent-keystore";
  version: 1;
  agentId: string;
  kdf: { name: "scrypt"; salt: string; N: number; r: number; p: number };
  cipher: { name: "aes-256-gcm"; iv: string; tag: string };
  ciphertext: string;
};

type Plain = { backupKeys: { version: number; key: string; createdAt: string }[]; signerKey?: Hex };

/** scrypt cost: 2^15 by default (about 100 ms, 32 MiB); tests may lower it. */
export type KdfOptions = { N?: number };

const scrypt = (password: string, salt: Buffer, N: number, r: number, p: number) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );

const aadOf = (agentId: string) => Buffer.from(`covenant-agent-keystore:${agentId}`, "utf8");

export function newBackupKey(version: number): BackupKey {
  return { version, key: randomBytes(BACKUP_KEY_BYTES), createdAt: new Date().toISOString() };
}

export function currentKey(secrets: AgentSecrets): BackupKey {
  const key = secrets.backupKeys.reduce<BackupKey | undefined>(
    (a, k) => (!a || k.version > a.version ? k : a),
    undefined,
  );
  if (!key) throw new BackupError(`agent ${secrets.agentId} has no backup key`, { code: "KEY_UNKNOWN" });
  return key;
}

export function keyVersion(secrets: AgentSecrets, version: number): BackupKey {
  const key = secrets.backupKeys.find((k) => k.version === version);
  if (!key) {
    throw new BackupError(`agent ${secrets.agentId}'s keystore has no backup key version ${version}`, {
      code: "KEY_UNKNOWN",
    });
  }
  return key;
}

export async function encryptKeystore(secrets: AgentSecrets, password: string, kdf: KdfOptions = {}): Promise<string> {
  const N = kdf.N ?? 2 ** 15;
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = await scrypt(password, salt, N, 8, 1);
  const plain: Plain = {
    backupKeys: secrets.backupKeys.map((k) => ({
      version: k.version,
      key: k.key.toString("hex"),
      createdAt: k.createdAt,
    })),
    ...(secrets.signerKey && { signerKey: secrets.signerKey }),
  };
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aadOf(secrets.agentId.toString()));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(plain), "utf8"), cipher.final()]);
  const file: KeystoreFile = {
    format: "covenant-agent-keystore",
    version: 1,
    agentId: secrets.agentId.toString(),
    kdf: { name: "scrypt", salt: salt.toString("hex"), N, r: 8, p: 1 },
    cipher: { name: "aes-256-gcm", iv: iv.toString("hex"), tag: cipher.getAuthTag().toString("hex") },
    ciphertext: ciphertext.toString("hex"),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

export async function decryptKeystore(json: string, password: string): Promise<AgentSecrets> {
  let file: KeystoreFile;
  try {
    file = JSON.parse(json) as KeystoreFile;
  } catch {
    throw new BackupError("the agent keystore is not JSON", { code: "KEYSTORE_INVALID" });
  }
  if (file?.format !== "covenant-agent-keystore" || file.version !== 1 || file.kdf?.name !== "scrypt") {
    throw new BackupError("not a Covenant agent keystore (format covenant-agent-keystore, version 1)", {
      code: "KEYSTORE_INVALID",
    });
  }
  const key = await scrypt(password, Buffer.from(file.kdf.salt, "hex"), file.kdf.N, file.kdf.r, file.kdf.p);
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(file.cipher.iv, "hex"));
  decipher.setAAD(aadOf(file.agentId));
  decipher.setAuthTag(Buffer.from(file.cipher.tag, "hex"));
  let plain: Plain;
  try {
    const bytes = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, "hex")), decipher.final()]);
    plain = JSON.parse(bytes.toString("utf8")) as Plain;
  } catch {
    throw new BackupError("cannot decrypt the agent keystore: wrong password or the file was altered", {
      code: "KEYSTORE_PASSWORD",
    });
  }
  return {
    agentId: BigInt(file.agentId),
    backupKeys: plain.backupKeys.map((k) => ({
      version: k.version,
      key: Buffer.from(k.key, "hex"),
      createdAt: k.createdAt,
    })),
    ...(plain.signerKey && { signerKey: plain.signerKey }),
  };
}

/** Writes a keystore file atomically with mode 0600 (its folder 0700 when created here). */
export async function writeKeystore(
  file: string,
  secrets: AgentSecrets,
  password: string,
  kdf: KdfOptions = {},
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, await encryptKeystore(secrets, password, kdf), { mode: 0o600 });
  await rename(tmp, file);
}

export async function readKeystore(file: string, password: string, agentId?: bigint): Promise<AgentSecrets> {
  let json: string;
  try {
    json = await readFile(file, "utf8");
  } catch (err) {
    throw new BackupError(
      `cannot read the agent keystore ${file} (${(err as { code?: string }).code ?? "unreadable"})`,
      {
        code: "KEYSTORE_INVALID",
      },
    );
  }
  const secrets = await decryptKeystore(json, password);
  if (agentId !== undefined && secrets.agentId !== agentId) {
    throw new BackupError(`the keystore ${file} belongs to agent ${secrets.agentId}, not ${agentId}`, {
      code: "KEYSTORE_INVALID",
    });
  }
  return secrets;
}

/** Creates an agent's keystore with backup key version 1 (and the signer key when given). Refuses to overwrite. */
export async function createKeystore(
  file: string,
  agentId: bigint,
  password: string,
  options: KdfOptions & { signerKey?: Hex } = {},
): Promise<AgentSecrets> {
  try {
    await readFile(file);
    throw new BackupError(`${file} exists: rotate its key instead of creating a new keystore`, {
      code: "KEYSTORE_INVALID",
    });
  } catch (err) {
    if (err instanceof BackupError) throw err;
  }
  const secrets: AgentSecrets = {
    agentId,
    backupKeys: [newBackupKey(1)],
    ...(options.signerKey && { signerKey: options.signerKey }),
  };
  await writeKeystore(file, secrets, password, options);
  return secrets;
}

/** Adds a new backup key version; later backups use it, earlier ones stay readable with theirs. */
export async function rotateBackupKey(file: string, password: string, kdf: KdfOptions = {}): Promise<AgentSecrets> {
  const secrets = await readKeystore(file, password);
  const next = newBackupKey(currentKey(secrets).version + 1);
  const rotated = { ...secrets, backupKeys: [...secrets.backupKeys, next] };
  await writeKeystore(file, rotated, password, kdf);
  return rotated;
}
