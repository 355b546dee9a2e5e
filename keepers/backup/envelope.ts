import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { type Address, getAddress, type Hex, hexToBytes } from "viem";
import { BackupError } from "./errors";

/*
 * The encrypted envelope of one backup: AES-256-GCM under the agent's backup key, a fresh 96-bit nonce each time.
 *
 *   "COVENV01" (8) | key version u32 (4) | nonce (12) | ciphertext of [sha256(plaintext) (32) | plaintext] | tag (16)
 *
 * The additional authenticated data is the 24-byte header followed by the binding
 *   chainId u64 | registry (20) | agentId u256 (32) | sequence u32,
 * which the envelope does not carry: restore supplies it from the record it restores, so a blob filed under another
 * agent, sequence, registry or chain fails authentication. The plaintext's sha256 travels inside the ciphertext (a
 * hash in the clear would let anyone confirm a guess of the memory) and is checked after decryption.
 */

export const ENVELOPE_MAGIC = Buffer.from("COVENV01", "ascii");
const HEADER_BYTES = 8 + 4 + 12;
const TAG_BYTES = 16;
export const BACKUP_KEY_BYTES = 32;

/** What a backup is bound to. */
export type EnvelopeBinding = { chainId: number; registry: Address; agentId: bigint; sequence: number };

export function bindingBytes(b: EnvelopeBinding): Buffer {
  const out = Buffer.alloc(8 + 20 + 32 + 4);
  out.writeBigUInt64BE(BigInt(b.chainId), 0);
  Buffer.from(hexToBytes(getAddress(b.registry) as Hex)).copy(out, 8);
  const id = Buffer.from(b.agentId.toString(16).padStart(64, "0"), "hex");
  if (id.length !== 32) throw new BackupError("agentId does not fit in 256 bits", { code: "ENVELOPE_INVALID" });
  id.copy(out, 28);
  out.writeUInt32BE(b.sequence, 60);
  return out;
}

export const sha256 = (data: Uint8Array): Buffer => createHash("sha256").update(data).digest();

/** Encrypts `plaintext` for `binding` under `key` (version `keyVersion` of the agent's backup keys). */
export function seal(plaintext: Uint8Array, key: Uint8Array, keyVersion: number, binding: EnvelopeBinding): Buffer {
  return sealParts([Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length)], key, keyVersion, binding);
}

const CHUNK = 256 * 1024;

/**
 * `seal` of the concatenation of `parts`, without assembling it: one pass hashes, a second encrypts chunk by chunk
 * straight into the envelope (one allocation the size of the result; a large memory is never copied twice).
 */
export function sealParts(
  parts: readonly Buffer[],
  key: Uint8Array,
  keyVersion: number,
  binding: EnvelopeBinding,
): Buffer {
  if (key.length !== BACKUP_KEY_BYTES) {
    throw new BackupError("a backup key is 32 bytes (AES-256)", { code: "KEY_UNKNOWN" });
  }
  const hash = createHash("sha256");
  let length = 0;
  for (const p of parts) {
    hash.update(p);
    length += p.length;
  }
  const out = Buffer.allocUnsafe(HEADER_BYTES + 32 + length + TAG_BYTES);
  const header = out.subarray(0, HEADER_BYTES);
  ENVELOPE_MAGIC.copy(header, 0);
  header.writeUInt32BE(keyVersion, 8);
  randomBytes(12).copy(header, 12);
  const cipher = createCipheriv("aes-256-gcm", key, header.subarray(12, 24));
  cipher.setAAD(Buffer.concat([header, bindingBytes(binding)]));
  let at = HEADER_BYTES;
  const put = (b: Buffer) => {
    b.copy(out, at);
    at += b.length;
  };
  put(cipher.update(hash.digest()));
  for (const p of parts) {
    for (let i = 0; i < p.length; i += CHUNK) put(cipher.update(p.subarray(i, i + CHUNK)));
  }
  put(cipher.final());
  if (at !== out.length - TAG_BYTES) throw new Error("envelope length mismatch");
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** The key version an envelope was sealed under (read before choosing the key). */
export function envelopeKeyVersion(envelope: Uint8Array): number {
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length);
  if (buf.length < HEADER_BYTES + 32 + TAG_BYTES || !buf.subarray(0, 8).equals(ENVELOPE_MAGIC)) {
    throw new BackupError("not a Covenant backup envelope (bad magic or too short)", { code: "ENVELOPE_INVALID" });
  }
  return buf.readUInt32BE(8);
}

/**
 * Decrypts and checks an envelope. DECRYPT_FAILED when the key is wrong or the blob, its binding (agent, sequence,
 * registry, chain) or its header was changed; PLAINTEXT_HASH_MISMATCH when the inner hash does not match.
 */
export function open(envelope: Uint8Array, key: Uint8Array, binding: EnvelopeBinding): Buffer {
  envelopeKeyVersion(envelope);
  const buf = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length);
  const header = buf.subarray(0, HEADER_BYTES);
  const decipher = createDecipheriv("aes-256-gcm", key, header.subarray(12, 24));
  decipher.setAAD(Buffer.concat([header, bindingBytes(binding)]));
  decipher.setAuthTag(buf.subarray(buf.length - TAG_BYTES));
  let body: Buffer;
  try {
    body = Buffer.concat([decipher.update(buf.subarray(HEADER_BYTES, buf.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new BackupError(
      `cannot decrypt the backup of agent ${binding.agentId} sequence ${binding.sequence}: wrong backup key, or the blob was altered or belongs to another agent or sequence`,
      { code: "DECRYPT_FAILED" },
    );
  }
  const plaintext = body.subarray(32);
  if (!sha256(plaintext).equals(body.subarray(0, 32))) {
    throw new BackupError("the decrypted memory does not match the sha256 its envelope carries", {
      code: "PLAINTEXT_HASH_MISMATCH",
    });
  }
  return plaintext;
}
