import { existsSync } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { importBytes } from "ipfs-unixfs-importer";
import { CovenantError, type Logger } from "../shared";
import { EarningsTree, type StandardTreeDump } from "./tree";

/*
 * Publication of an epoch's full tree: the OpenZeppelin StandardMerkleTree dump as JSON, named by its IPFS content
 * address (CIDv1, UnixFS with raw leaves, the "unixfs-v1-2025" profile: 1 MiB chunks, 1,024 links a node), written
 * to TREE_DIR/<cid>.json and, when IPFS_API_URL is set, added and pinned on that IPFS node before the root is posted.
 * No peer-to-peer node is started here: the content address is computed locally and pinning is one HTTP request.
 */

export type PublishedTree = {
  /** The content address computed here. */
  cid: string;
  /** The URI posted with the root: the pinning node's CID when one pinned it, else ours. */
  uri: string;
  file: string;
  bytes: number;
  pinned: boolean;
};

export class PublishError extends CovenantError {
  override name = "PublishError";
}

/** The JSON bytes of a tree: deterministic for the same leaves (the dump's order is fixed). */
export function treeJson(tree: EarningsTree): Buffer {
  return Buffer.from(JSON.stringify(tree.dump()));
}

/** The CIDv1 of `bytes` as `ipfs add --cid-version 1` under the unixfs-v1-2025 profile computes it. */
export async function contentAddress(bytes: Uint8Array): Promise<string> {
  const discard = { put: async <K>(cid: K) => cid };
  const result = await importBytes(bytes, discard, { profile: "unixfs-v1-2025" });
  return result.cid.toString();
}

/** Writes the tree to `<dir>/<cid>.json` (atomically; an existing file of that name already holds these bytes). */
export async function publishTree(
  tree: EarningsTree,
  dir: string,
  options: { ipfsApiUrl?: string; logger?: Logger; fetchImpl?: typeof fetch } = {},
): Promise<PublishedTree> {
  const bytes = treeJson(tree);
  const cid = await contentAddress(bytes);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${cid}.json`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }
  let uri = `ipfs://${cid}`;
  let pinned = false;
  if (options.ipfsApiUrl) {
    const remote = await pin(options.ipfsApiUrl, bytes, `${cid}.json`, options.fetchImpl ?? fetch);
    pinned = true;
    if (remote !== cid) {
      options.logger?.warn({ cid, pinnedCid: remote }, "the IPFS node chunked the tree differently; posting its CID");
      uri = `ipfs://${remote}`;
    }
  }
  return { cid, uri, file, bytes: bytes.length, pinned };
}

/** Adds and pins `bytes` on an IPFS node through its HTTP API (kubo: POST /api/v0/add). Returns the node's CID. */
async function pin(apiUrl: string, bytes: Buffer, name: string, fetchImpl: typeof fetch): Promise<string> {
  const url = new URL("api/v0/add", apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`);
  url.search = new URLSearchParams({
    "cid-version": "1",
    "raw-leaves": "true",
    chunker: "size-1048576",
    pin: "true",
  }).toString();
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)], { type: "application/json" }), name);
  let response: Response;
  try {
    response = await fetchImpl(url, { method: "POST", body: form, signal: AbortSignal.timeout(120_000) });
  } catch (err) {
    throw new PublishError("cannot reach the IPFS API to pin the tree", {
      code: "PIN_UNREACHABLE",
      retryable: true,
      cause: err,
    });
  }
  const text = await response.text();
  if (!response.ok) {
    throw new PublishError(`the IPFS API refused the tree: HTTP ${response.status}`, {
      code: "PIN_REFUSED",
      retryable: response.status >= 500 || response.status === 429,
      details: text.slice(0, 500),
    });
  }
  // kubo answers one JSON object per line; the last names the added file.
  const lines = text.trim().split("\n").filter(Boolean);
  const last = lines.length > 0 ? (JSON.parse(lines[lines.length - 1]!) as { Hash?: string }) : {};
  if (!last.Hash) {
    throw new PublishError("the IPFS API answered without a CID", {
      code: "PIN_BAD_ANSWER",
      retryable: false,
      details: text.slice(0, 500),
    });
  }
  return last.Hash;
}

/**
 * Loads a published tree file, checking it is the tree its name says and that its root is `root`. `own`: a file this
 * keeper wrote, named by its CID: once the CID matches, its nodes are taken without hashing the tree again.
 */
export async function loadTreeFile(
  file: string,
  root?: string,
  options: { own?: boolean } = {},
): Promise<EarningsTree> {
  const bytes = await readFile(file);
  const expected = path.basename(file, ".json");
  const named = /^baf[a-z0-9]+$/.test(expected);
  if (named) {
    const cid = await contentAddress(bytes);
    if (cid !== expected) throw new Error(`${file} is not the content its name says (its CID is ${cid})`);
  }
  const tree = EarningsTree.fromDump(JSON.parse(bytes.toString("utf8")) as StandardTreeDump, {
    trusted: named && options.own === true,
  });
  if (root && tree.root.toLowerCase() !== root.toLowerCase()) {
    throw new Error(`${file} has root ${tree.root}, expected ${root}`);
  }
  return tree;
}
