import { rm } from "node:fs/promises";
import type { Address, Hex } from "viem";
import type { AgentSigner, Deployment } from "../../sdk";
import { archiveParts, unpackEntries } from "./archive";
import { type LocatedRecord, type RegistryRef, resurrectionConsent, verifyLocated } from "./chain";
import type { ContentStore } from "./contentStore";
import { restoreCandidates } from "./decide";
import { envelopeKeyVersion, open, sealParts, sha256 } from "./envelope";
import { BackupError } from "./errors";
import { commitStaged, isEmptyOrAbsent, readFolder, stageEntries } from "./folder";
import { type AgentSecrets, currentKey, keyVersion } from "./keystore";
import { type BackupRecord, type SignedBackupRecord, signRecord } from "./record";

/*
 * One backup and one restore, end to end, without a database: the keeper, the CLI and the bench all run these.
 */

export type Binding = { chainId: number; registry: Address };

export type SealedBackup = { record: BackupRecord; envelope: Buffer; plaintextBytes: number };

/** Archive + sha256 + encrypt a folder for `(agentId, sequence)`: the CPU part of a backup, nothing stored yet. */
export async function sealFolder(
  folder: string,
  binding: Binding,
  agentId: bigint,
  sequence: number,
  secrets: AgentSecrets,
): Promise<{ envelope: Buffer; ciphertextHash: Hex; plaintextBytes: number }> {
  if (secrets.agentId !== agentId) {
    throw new BackupError(`the keystore is agent ${secrets.agentId}'s, not agent ${agentId}'s`, {
      code: "KEYSTORE_INVALID",
    });
  }
  const parts = archiveParts(await readFolder(folder));
  const key = currentKey(secrets);
  const envelope = sealParts(parts, key.key, key.version, { ...binding, agentId, sequence });
  const plaintextBytes = parts.reduce((n, p) => n + p.length, 0);
  return { envelope, ciphertextHash: `0x${sha256(envelope).toString("hex")}`, plaintextBytes };
}

/** A whole backup up to the signed record: seal, store by content address, sign. Anchoring is the caller's. */
export async function createBackup(o: {
  folder: string;
  binding: Binding;
  store: ContentStore;
  agentId: bigint;
  sequence: number;
  secrets: AgentSecrets;
  signer: AgentSigner;
  deadline: bigint;
}): Promise<{ record: SignedBackupRecord; plaintextBytes: number; envelopeBytes: number }> {
  const sealed = await sealFolder(o.folder, o.binding, o.agentId, o.sequence, o.secrets);
  const cid = await o.store.put(sealed.envelope);
  const deployment: Deployment = { chainId: o.binding.chainId, registry: o.binding.registry };
  const record = await signRecord(o.signer, deployment, {
    agentId: o.agentId,
    sequence: o.sequence,
    ciphertextHash: sealed.ciphertextHash,
    cid,
    deadline: o.deadline,
  });
  return { record, plaintextBytes: sealed.plaintextBytes, envelopeBytes: sealed.envelope.length };
}

/** Fetch, check against the record, decrypt, parse: the memory's archive entries, nothing written anywhere. */
export async function openRecord(
  record: BackupRecord,
  binding: Binding,
  store: ContentStore,
  secrets: AgentSecrets,
): Promise<ReturnType<typeof unpackEntries>> {
  const blob = await store.get(record.cid);
  const actual = `0x${sha256(blob).toString("hex")}`;
  if (actual.toLowerCase() !== record.ciphertextHash.toLowerCase()) {
    throw new BackupError(
      `the blob of agent ${record.agentId}'s backup ${record.sequence} (${record.cid}) has sha256 ${actual}, the anchored record says ${record.ciphertextHash}: refused (restore an earlier backup only by asking for its sequence)`,
      { code: "BLOB_HASH_MISMATCH" },
    );
  }
  if (secrets.agentId !== record.agentId) {
    throw new BackupError(`the keystore is agent ${secrets.agentId}'s, not agent ${record.agentId}'s`, {
      code: "KEYSTORE_INVALID",
    });
  }
  const key = keyVersion(secrets, envelopeKeyVersion(blob));
  const plaintext = open(blob, key.key, { ...binding, agentId: record.agentId, sequence: record.sequence });
  return unpackEntries(plaintext);
}

export type RestoreResult = {
  record: BackupRecord;
  source: LocatedRecord["source"];
  files: number;
  bytes: number;
  restorationTx?: Hex;
};

/**
 * Restores agent `agentId` into `target` (absent or empty):
 *  1. refuses unless the resurrection consent stands (NO_CONSENT);
 *  2. takes the latest located record (or `sequence`), checks it is the agent's and, when batched, that the registry
 *     verifies its proof and signature;
 *  3. fetches the blob, checks its sha256 against the record, decrypts with the keystore's key, parses the archive;
 *  4. writes it to a staging folder and reads every file back;
 *  5. calls `recordRestoration` (the chain refuses it without consent) and only then moves the folder into place.
 * Any failure leaves `target` untouched.
 */
export async function restoreAgent(o: {
  ref: RegistryRef;
  binding: Binding;
  store: ContentStore;
  agentId: bigint;
  secrets: AgentSecrets;
  target: string;
  located: readonly LocatedRecord[];
  sequence?: number;
  recordRestoration?: (record: BackupRecord) => Promise<Hex | undefined>;
}): Promise<RestoreResult> {
  if (!(await isEmptyOrAbsent(o.target))) {
    throw new BackupError(`${o.target} is not empty: a restore goes into an empty folder`, {
      code: "TARGET_NOT_EMPTY",
    });
  }
  if (!(await resurrectionConsent(o.ref, o.agentId))) {
    throw new BackupError(`agent ${o.agentId} has revoked its resurrection consent: it is not brought back`, {
      code: "NO_CONSENT",
    });
  }
  const candidates = restoreCandidates(o.agentId, o.located, o.sequence);
  let chosen: LocatedRecord | undefined;
  let lastError: unknown;
  for (const c of candidates) {
    try {
      await verifyLocated(o.ref, o.agentId, c);
      chosen = c;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (!chosen) throw lastError;
  const entries = await openRecord(chosen.record, o.binding, o.store, o.secrets);
  const staging = await stageEntries(entries, o.target);
  let restorationTx: Hex | undefined;
  try {
    restorationTx = await o.recordRestoration?.(chosen.record);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  await commitStaged(staging, o.target);
  let files = 0;
  let bytes = 0;
  for (const e of entries) {
    if (e.type === "file") {
      files++;
      bytes += e.data.length;
    }
  }
  return {
    record: chosen.record,
    source: chosen.source,
    files,
    bytes,
    ...(restorationTx && { restorationTx }),
  };
}
