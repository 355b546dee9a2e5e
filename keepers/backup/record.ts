import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, getAddress, type Hex, hashStruct, toHex } from "viem";
import { type AgentSigner, buildAction, type Deployment, registryTypes, signAction } from "../../sdk";
import { cidFromBytes, cidToBytes } from "./contentStore";
import { BackupError } from "./errors";

/*
 * Backup records, as the AgentRegistry hashes them (EIP-712 `BackupRecord(agentId, sequence, ciphertextHash, cid,
 * deadline)`, the CID in its binary form), and the batches a relayer anchors: an OpenZeppelin StandardMerkleTree over
 * (uint256 agentId, bytes32 recordHash, bytes signature), the leaf `verifyAnchoredBackup` checks. The batch itself,
 * every leaf with its record fields and signature, is published by content address as a manifest; its `ipfs://` URI
 * is what `anchorBackups` records.
 */

export type BackupRecord = {
  agentId: bigint;
  sequence: number;
  /** sha256 of the encrypted envelope (the blob stored). */
  ciphertextHash: Hex;
  /** CIDv1 of the blob, string form. */
  cid: string;
  deadline: bigint;
};

export type SignedBackupRecord = BackupRecord & { signature: Hex; signer: Address };

export const LEAF_TYPES = ["uint256", "bytes32", "bytes"] as const;

export function recordMessage(r: BackupRecord) {
  return {
    agentId: r.agentId,
    sequence: r.sequence,
    ciphertextHash: r.ciphertextHash,
    cid: toHex(cidToBytes(r.cid)),
    deadline: r.deadline,
  };
}

/** The struct hash the registry computes (`backupRecordHash`). */
export function recordHash(r: BackupRecord): Hex {
  return hashStruct({ data: recordMessage(r), primaryType: "BackupRecord", types: registryTypes });
}

/** The agent signs its record (EIP-712, the registry's domain). */
export async function signRecord(
  signer: AgentSigner,
  deployment: Deployment,
  r: BackupRecord,
): Promise<SignedBackupRecord> {
  const signed = await signAction(signer, buildAction("BackupRecord", deployment, recordMessage(r)));
  return { ...r, signature: signed.signature, signer: signer.address };
}

export type Leaf = [string, Hex, Hex];

export const leafOf = (r: SignedBackupRecord): Leaf => [r.agentId.toString(), recordHash(r), r.signature];

/** Canonical batch order: by agent, then sequence. */
export function sortRecords<T extends BackupRecord>(records: readonly T[]): T[] {
  return [...records].sort((a, b) =>
    a.agentId === b.agentId ? a.sequence - b.sequence : a.agentId < b.agentId ? -1 : 1,
  );
}

export function buildTree(records: readonly SignedBackupRecord[]): StandardMerkleTree<Leaf> {
  if (records.length === 0) throw new BackupError("an anchor needs at least one record", { code: "RECORD_INVALID" });
  return StandardMerkleTree.of(sortRecords(records).map(leafOf), [...LEAF_TYPES]);
}

export type AnchorManifest = {
  format: "covenant-backup-anchor";
  version: 1;
  chainId: number;
  registry: Address;
  root: Hex;
  records: {
    agentId: string;
    sequence: number;
    ciphertextHash: Hex;
    cid: string;
    deadline: string;
    signature: Hex;
    signer: Address;
  }[];
};

export function buildManifest(chainId: number, registry: Address, records: readonly SignedBackupRecord[]) {
  const sorted = sortRecords(records);
  const tree = buildTree(sorted);
  const manifest: AnchorManifest = {
    format: "covenant-backup-anchor",
    version: 1,
    chainId,
    registry: getAddress(registry),
    root: tree.root as Hex,
    records: sorted.map((r) => ({
      agentId: r.agentId.toString(),
      sequence: r.sequence,
      ciphertextHash: r.ciphertextHash,
      cid: r.cid,
      deadline: r.deadline.toString(),
      signature: r.signature,
      signer: r.signer,
    })),
  };
  return { manifest, tree, bytes: Buffer.from(JSON.stringify(manifest)) };
}

/** Parses a manifest and rebuilds its tree; RECORD_INVALID unless it is well formed and its root is `root`. */
export function parseManifest(bytes: Uint8Array, expectedRoot?: Hex) {
  let manifest: AnchorManifest;
  let records: SignedBackupRecord[];
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString("utf8")) as AnchorManifest;
    if (manifest.format !== "covenant-backup-anchor" || manifest.version !== 1) throw new Error("format");
    records = manifest.records.map((r) => ({
      agentId: BigInt(r.agentId),
      sequence: r.sequence,
      ciphertextHash: r.ciphertextHash,
      cid: cidFromBytes(cidToBytes(r.cid)),
      deadline: BigInt(r.deadline),
      signature: r.signature,
      signer: r.signer,
    }));
  } catch {
    throw new BackupError("the anchor manifest is not a covenant-backup-anchor v1 document", {
      code: "RECORD_INVALID",
    });
  }
  const tree = buildTree(records);
  if (expectedRoot && tree.root.toLowerCase() !== expectedRoot.toLowerCase()) {
    throw new BackupError(`the anchor manifest's tree has root ${tree.root}, the chain says ${expectedRoot}`, {
      code: "RECORD_INVALID",
    });
  }
  return { manifest, records, tree };
}
