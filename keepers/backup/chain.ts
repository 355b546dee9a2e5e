import { type Address, type Hex, type PublicClient, parseAbi, parseAbiItem } from "viem";
import { type ContentStore, cidFromBytes } from "./contentStore";
import { BackupError } from "./errors";
import { type BackupRecord, parseManifest, recordHash, type SignedBackupRecord } from "./record";

/*
 * What restore reads from the chain: the consent flag, the registry's own BackupRecorded events (direct and relayed
 * records), and the anchored batches (BackupsAnchored → manifest by content address → leaf, proof, signature, checked
 * with the registry's verifyAnchoredBackup).
 */

export const registryBackupAbi = parseAbi([
  "function resurrectionConsent(uint256 agentId) view returns (bool)",
  "function latestBackup(uint256 agentId) view returns (uint32 sequence, bytes28 head)",
  "function anchorCount() view returns (uint256)",
  "function getAnchor(uint256 index) view returns ((bytes32 root, uint32 count, uint40 anchoredAt, address relayer))",
  "function verifyAnchoredBackup(uint256 index, uint256 agentId, bytes32 recordHash, bytes signature, bytes32[] proof) view returns (bool)",
  "function backupRecordHash(uint256 agentId, uint32 sequence, bytes32 ciphertextHash, bytes cid, uint256 deadline) pure returns (bytes32)",
  "function recordBackupBySig(uint256 agentId, uint32 sequence, bytes32 ciphertextHash, bytes cid, uint256 deadline, bytes signature)",
  "function anchorBackups(bytes32 root, uint32 count, string uri) returns (uint256 index)",
  "function recordRestoration(uint256 agentId, uint32 sequence, bytes32 ciphertextHash)",
  "function recordRestorationBySig(uint256 agentId, uint32 sequence, bytes32 ciphertextHash, uint256 nonce, uint256 deadline, bytes signature)",
  "function revokeResurrectionConsent(uint256 agentId)",
  "function grantResurrectionConsent(uint256 agentId)",
  "event BackupRecorded(uint256 indexed agentId, uint32 indexed sequence, bytes32 ciphertextHash, bytes cid, bytes28 prevHead, bytes28 head)",
  "event BackupsAnchored(uint256 indexed index, bytes32 indexed root, uint32 count, string uri, address relayer)",
  "event Restored(uint256 indexed agentId, uint32 indexed sequence, bytes32 ciphertextHash, address indexed by)",
  "error AgentRegistryNoResurrectionConsent(uint256 agentId)",
  "error AgentRegistryStaleBackup(uint256 agentId, uint32 sequence, uint32 latest)",
  "error AgentRegistryInvalidSignature(uint256 agentId, address expectedSigner)",
  "error AgentRegistryNotAgentSigner(uint256 agentId, address caller)",
  "error AgentRegistryExpiredSignature(uint256 deadline)",
  "error AgentRegistryNonceUsed(uint256 agentId, uint256 nonce)",
  "error AgentRegistryCharterNotAccepted(uint256 agentId)",
  "error AgentRegistryEmptyAnchor()",
  "error AccessControlUnauthorizedAccount(address account, bytes32 neededRole)",
]);

const backupRecorded = parseAbiItem(
  "event BackupRecorded(uint256 indexed agentId, uint32 indexed sequence, bytes32 ciphertextHash, bytes cid, bytes28 prevHead, bytes28 head)",
);
const backupsAnchored = parseAbiItem(
  "event BackupsAnchored(uint256 indexed index, bytes32 indexed root, uint32 count, string uri, address relayer)",
);

export type RegistryRef = { client: PublicClient; registry: Address; fromBlock?: bigint; chunkBlocks?: bigint };

/** Where a record was found and what proves it. */
export type RecordSource =
  | { kind: "direct"; txHash: Hex; blockNumber: bigint }
  | { kind: "anchor"; index: bigint; root: Hex; proof: Hex[]; signature: Hex; signer: Address };

export type LocatedRecord = { record: BackupRecord; source: RecordSource };

export async function resurrectionConsent(ref: RegistryRef, agentId: bigint): Promise<boolean> {
  return ref.client.readContract({
    address: ref.registry,
    abi: registryBackupAbi,
    functionName: "resurrectionConsent",
    args: [agentId],
  });
}

async function chunkedLogs<T>(ref: RegistryRef, read: (from: bigint, to: bigint) => Promise<T[]>): Promise<T[]> {
  const head = await ref.client.getBlockNumber({ cacheTime: 0 });
  const step = ref.chunkBlocks ?? 10_000n;
  const out: T[] = [];
  for (let from = ref.fromBlock ?? 0n; from <= head; from += step) {
    const to = from + step - 1n > head ? head : from + step - 1n;
    out.push(...(await read(from, to)));
  }
  return out;
}

/** The agent's records from the registry's BackupRecorded events (the registry wrote them: no proof needed). */
export async function directRecords(ref: RegistryRef, agentId: bigint): Promise<LocatedRecord[]> {
  const logs = await chunkedLogs(ref, (fromBlock, toBlock) =>
    ref.client.getLogs({ address: ref.registry, event: backupRecorded, args: { agentId }, fromBlock, toBlock }),
  );
  return logs.map((l) => ({
    record: {
      agentId,
      sequence: Number(l.args.sequence),
      ciphertextHash: l.args.ciphertextHash as Hex,
      cid: cidFromBytes(Buffer.from((l.args.cid as Hex).slice(2), "hex")),
      deadline: 0n,
    },
    source: { kind: "direct", txHash: l.transactionHash as Hex, blockNumber: l.blockNumber as bigint },
  }));
}

export type AnchorEvent = { index: bigint; root: Hex; count: number; uri: string };

export async function anchorEvents(ref: RegistryRef): Promise<AnchorEvent[]> {
  const logs = await chunkedLogs(ref, (fromBlock, toBlock) =>
    ref.client.getLogs({ address: ref.registry, event: backupsAnchored, fromBlock, toBlock }),
  );
  return logs.map((l) => ({
    index: l.args.index as bigint,
    root: l.args.root as Hex,
    count: Number(l.args.count),
    uri: l.args.uri as string,
  }));
}

/** The agent's leaves in anchored batches: each batch's manifest is fetched by its URI and checked against its root. */
export async function anchoredRecords(
  ref: RegistryRef,
  agentId: bigint,
  store: ContentStore,
  onSkip?: (anchor: AnchorEvent, reason: string) => void,
): Promise<LocatedRecord[]> {
  const out: LocatedRecord[] = [];
  for (const a of await anchorEvents(ref)) {
    if (!a.uri.startsWith("ipfs://")) {
      onSkip?.(a, `unsupported URI ${a.uri.slice(0, 80)}`);
      continue;
    }
    let parsed: ReturnType<typeof parseManifest>;
    try {
      parsed = parseManifest(await store.get(a.uri.slice("ipfs://".length)), a.root);
    } catch (err) {
      if (err instanceof BackupError && err.retryable) throw err;
      onSkip?.(a, (err as Error).message);
      continue;
    }
    out.push(...locateInTree(parsed, agentId, a.index));
  }
  return out;
}

export function locateInTree(
  parsed: ReturnType<typeof parseManifest>,
  agentId: bigint,
  index: bigint,
): LocatedRecord[] {
  const out: LocatedRecord[] = [];
  for (const r of parsed.records) {
    if (r.agentId !== agentId) continue;
    out.push({ record: r, source: anchorSource(parsed.tree, r, index) });
  }
  return out;
}

export function anchorSource(
  tree: ReturnType<typeof parseManifest>["tree"],
  r: SignedBackupRecord,
  index: bigint,
): RecordSource {
  const hash = recordHash(r);
  for (const [i, leaf] of tree.entries()) {
    if (leaf[0] === r.agentId.toString() && leaf[1] === hash && leaf[2] === r.signature) {
      return {
        kind: "anchor",
        index,
        root: tree.root as Hex,
        proof: tree.getProof(i) as Hex[],
        signature: r.signature,
        signer: r.signer,
      };
    }
  }
  throw new BackupError("the record is not a leaf of its anchor's tree", { code: "RECORD_INVALID" });
}

/**
 * Checks a located record for `agentId`: a direct one must be the agent's (the registry wrote it); an anchored one
 * must pass the registry's verifyAnchoredBackup (inclusion under the anchored root and the agent signer's signature
 * at anchoring time). Throws RECORD_OTHER_AGENT or RECORD_INVALID.
 */
export async function verifyLocated(ref: RegistryRef, agentId: bigint, located: LocatedRecord): Promise<void> {
  const { record, source } = located;
  if (record.agentId !== agentId) {
    throw new BackupError(`the record is agent ${record.agentId}'s, not agent ${agentId}'s`, {
      code: "RECORD_OTHER_AGENT",
    });
  }
  if (source.kind === "direct") return;
  const ok = await ref.client.readContract({
    address: ref.registry,
    abi: registryBackupAbi,
    functionName: "verifyAnchoredBackup",
    args: [source.index, agentId, recordHash(record), source.signature, source.proof],
  });
  if (!ok) {
    throw new BackupError(
      `anchored record ${record.sequence} of agent ${agentId} (anchor ${source.index}) has no valid agent signature or proof: refused`,
      { code: "RECORD_INVALID" },
    );
  }
}
