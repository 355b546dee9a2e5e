import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { CID } from "multiformats/cid";
import { contentAddress } from "../earnings/publish";
import { classifyError } from "../shared";
import { BackupError } from "./errors";

/*
 * Where encrypted backups live, by content address (IPFS CIDv1). The local folder store computes the same CID as
 * `ipfs add --cid-version 1` under the unixfs-v1-2025 profile (keepers/earnings/publish.ts), so a blob it holds can be
 * pinned to any IPFS service and keep its address. The IPFS HTTP store speaks to a Kubo node's /api/v0 (add, cat).
 * No peer-to-peer node is ever started here.
 */

export interface ContentStore {
  readonly kind: "local" | "ipfs-http";
  /** Stores `bytes`; returns their CIDv1 (string form). */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes stored under `cid`; BLOB_NOT_FOUND when there are none. */
  get(cid: string): Promise<Buffer>;
}

/** Parses a CID, or BLOB_NOT_FOUND naming what was wrong (a CID from the chain is untrusted input). */
export function parseCid(cid: string): CID {
  try {
    return CID.parse(cid);
  } catch {
    throw new BackupError(`"${cid.slice(0, 100)}" is not a CID`, { code: "BLOB_NOT_FOUND" });
  }
}

/** The CID as the registry stores it (its binary form) and back. */
export const cidToBytes = (cid: string): Uint8Array => parseCid(cid).bytes;
export function cidFromBytes(bytes: Uint8Array): string {
  try {
    return CID.decode(bytes).toString();
  } catch {
    throw new BackupError("the record's content address is not a binary CID", { code: "RECORD_INVALID" });
  }
}

/** A folder of blobs named by their CID, files 0600 in a 0700 folder. */
export class LocalContentStore implements ContentStore {
  readonly kind = "local";
  constructor(readonly dir: string) {}

  async put(bytes: Uint8Array): Promise<string> {
    const cid = await contentAddress(bytes);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = path.join(this.dir, cid);
    const existing = await stat(file).catch(() => undefined);
    if (existing?.size !== bytes.length) {
      const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, file);
    }
    return cid;
  }

  async get(cid: string): Promise<Buffer> {
    const name = parseCid(cid).toString();
    try {
      return await readFile(path.join(this.dir, name));
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") {
        throw new BackupError(`no blob ${name} in the local store ${this.dir}`, { code: "BLOB_NOT_FOUND" });
      }
      throw new BackupError(`cannot read blob ${name}`, { code: "STORE_UNAVAILABLE", retryable: true, cause: err });
    }
  }
}

/** A Kubo node's HTTP API (`/api/v0/add`, `/api/v0/cat`): blobs are added, pinned, and read back by CID. */
export class IpfsHttpStore implements ContentStore {
  readonly kind = "ipfs-http";
  private readonly base: string;

  constructor(
    apiUrl: string,
    private readonly options: { timeoutMs?: number; fetchImpl?: typeof fetch } = {},
  ) {
    this.base = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
  }

  private async call(route: string, params: Record<string, string>, body?: FormData): Promise<Response> {
    const url = new URL(route, this.base);
    url.search = new URLSearchParams(params).toString();
    let response: Response;
    try {
      response = await (this.options.fetchImpl ?? fetch)(url, {
        method: "POST",
        ...(body && { body }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
    } catch (err) {
      throw new BackupError(`cannot reach the IPFS API (${route})`, {
        code: "STORE_UNAVAILABLE",
        retryable: classifyError(err).retryable || (err as Error).name === "TimeoutError",
        cause: err,
      });
    }
    if (!response.ok) {
      const text = (await response.text()).slice(0, 300);
      if (route.endsWith("cat") && /not found|no link named|could not resolve/i.test(text)) {
        throw new BackupError(`the IPFS node has no blob ${params.arg}`, { code: "BLOB_NOT_FOUND", details: text });
      }
      throw new BackupError(`the IPFS API answered ${route} with HTTP ${response.status}`, {
        code: response.status >= 500 || response.status === 429 ? "STORE_UNAVAILABLE" : "STORE_REFUSED",
        retryable: response.status >= 500 || response.status === 429,
        details: text,
      });
    }
    return response;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const form = new FormData();
    form.append("file", new Blob([new Uint8Array(bytes)], { type: "application/octet-stream" }), "backup");
    const response = await this.call(
      "api/v0/add",
      { "cid-version": "1", "raw-leaves": "true", chunker: "size-1048576", pin: "true" },
      form,
    );
    const text = await response.text();
    const lines = text.trim().split("\n").filter(Boolean);
    let hash: string | undefined;
    try {
      hash = (JSON.parse(lines[lines.length - 1] ?? "{}") as { Hash?: string }).Hash;
    } catch {
      hash = undefined;
    }
    if (!hash) {
      throw new BackupError("the IPFS API answered add without a CID", {
        code: "STORE_REFUSED",
        details: text.slice(0, 300),
      });
    }
    return parseCid(hash).toV1().toString();
  }

  async get(cid: string): Promise<Buffer> {
    const response = await this.call("api/v0/cat", { arg: parseCid(cid).toString() });
    return Buffer.from(await response.arrayBuffer());
  }
}
