import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { create as createDigest } from "multiformats/hashes/digest";
import type { Hex } from "viem";

const SHA2_256 = 0x12;

/** JSON with sorted keys and bigints as decimal strings: the same report always has the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The content address of bytes: CIDv1, raw codec, sha2-256 (what `ipfs add --cid-version 1 --raw-leaves` gives). */
export function contentAddress(bytes: Uint8Array): { cid: string; sha256: Hex } {
  const digest = createHash("sha256").update(bytes).digest();
  return {
    cid: CID.createV1(raw.code, createDigest(SHA2_256, digest)).toString(),
    sha256: `0x${digest.toString("hex")}`,
  };
}

/**
 * Simulation reports stored by content address in a folder (`<cid>.json`). The chain records the report's sha256;
 * anyone holding the file can check it against the attestation, and it can be pinned to IPFS under the same CID.
 */
export class ReportStore {
  constructor(private readonly dir: string) {}

  async put(report: unknown): Promise<{ cid: string; sha256: Hex; path: string }> {
    const bytes = Buffer.from(canonicalJson(report), "utf8");
    const { cid, sha256 } = contentAddress(bytes);
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, `${cid}.json`);
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    return { cid, sha256, path };
  }

  /** The report stored under `cid`, after checking that its bytes still hash to it. */
  async get(cid: string): Promise<unknown> {
    const bytes = await readFile(join(this.dir, `${cid}.json`));
    if (contentAddress(bytes).cid !== cid) throw new Error(`report ${cid} does not match its content address`);
    return JSON.parse(bytes.toString("utf8"));
  }
}
