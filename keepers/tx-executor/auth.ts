import { createHash, timingSafeEqual } from "node:crypto";
import type { Secret } from "../shared";

/*
 * Keepers authenticate their own transactions with a bearer token each (KEEPER_TOKENS). Only the
 * tokens' SHA-256 digests are kept, compared in constant time; the keeper's name becomes the
 * request's scope ("keeper:<name>"), so one keeper's idempotency keys never collide with another's.
 */
export class KeeperTokens {
  private readonly digests: { name: string; digest: Buffer }[];

  constructor(tokens: ReadonlyMap<string, Secret>) {
    this.digests = [...tokens].map(([name, token]) => ({ name, digest: sha256(token.reveal()) }));
  }

  get size(): number {
    return this.digests.length;
  }

  /** The keeper an `Authorization: Bearer <token>` header belongs to, or undefined. */
  identify(authorization: string | string[] | undefined): string | undefined {
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return undefined;
    const presented = sha256(m[1]!);
    let found: string | undefined;
    // Compare with every digest, so the time taken does not tell which (if any) matched.
    for (const { name, digest } of this.digests) {
      if (timingSafeEqual(presented, digest) && found === undefined) found = name;
    }
    return found;
  }
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}
