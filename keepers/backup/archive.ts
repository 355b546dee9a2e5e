import { BackupError } from "./errors";

/*
 * The deterministic archive of an agent's memory folder. Same tree, same bytes: entries sorted by path (UTF-8 byte
 * order), no times, no owners, no modes (files are restored 0600, folders 0700). Format, all integers big-endian:
 *
 *   "COVARC01"                      8 bytes
 *   entry count                     u32
 *   per entry:  type                u8   (1 file, 2 folder; anything else, links above all, is refused)
 *               path length         u16, then the path: relative, "/"-separated UTF-8
 *               (files) size        u64, then the bytes
 *
 * A path may not be absolute, contain "." or ".." or empty segments, a backslash or NUL, and may not appear twice;
 * a file's parent must not be a file. Unpacking checks all of this before anything is written.
 */

export const ARCHIVE_MAGIC = Buffer.from("COVARC01", "ascii");
export const ENTRY_FILE = 1;
export const ENTRY_DIR = 2;
const MAX_PATH_BYTES = 4_096;

export type ArchiveEntry = { type: "file"; path: string; data: Uint8Array } | { type: "dir"; path: string };

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Throws ARCHIVE_UNSAFE_PATH unless `p` is a plain relative path that stays inside its folder. */
export function checkEntryPath(p: string): void {
  const bad = (why: string) =>
    new BackupError(`archive entry "${p.slice(0, 200)}" is refused: ${why}`, { code: "ARCHIVE_UNSAFE_PATH" });
  if (p.length === 0) throw bad("empty path");
  if (Buffer.byteLength(p, "utf8") > MAX_PATH_BYTES) throw bad("path too long");
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) throw bad("absolute path");
  if (p.includes("\\")) throw bad("backslash in path");
  if (p.includes("\0")) throw bad("NUL in path");
  for (const segment of p.split("/")) {
    if (segment === "..") throw bad("climbs out of the target folder (..)");
    if (segment === "." || segment === "") throw bad("empty or '.' segment");
  }
}

/** Sorts and checks entries: the canonical order, no duplicates, no file used as a folder. */
export function canonicalEntries(entries: readonly ArchiveEntry[]): ArchiveEntry[] {
  const sorted = [...entries].sort((a, b) => compareBytes(a.path, b.path));
  const kinds = new Map<string, ArchiveEntry["type"]>();
  for (const e of sorted) {
    checkEntryPath(e.path);
    if (kinds.has(e.path)) {
      throw new BackupError(`archive entry "${e.path}" appears twice`, { code: "ARCHIVE_INVALID" });
    }
    kinds.set(e.path, e.type);
  }
  for (const e of sorted) {
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (kinds.get(parts.slice(0, i).join("/")) === "file") {
        throw new BackupError(`archive entry "${e.path}" lies under a file`, { code: "ARCHIVE_INVALID" });
      }
    }
  }
  return sorted;
}

/** The archive bytes of `entries` (sorted here, so the order given does not matter). */
export function packEntries(entries: readonly ArchiveEntry[]): Buffer {
  return Buffer.concat(archiveParts(entries));
}

/**
 * The archive as a list of buffers whose concatenation is `packEntries(entries)`: file contents are not copied, so
 * a large memory can be hashed and encrypted without first being assembled in one buffer.
 */
export function archiveParts(entries: readonly ArchiveEntry[]): Buffer[] {
  const sorted = canonicalEntries(entries);
  const parts: Buffer[] = [ARCHIVE_MAGIC];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(sorted.length);
  parts.push(count);
  for (const e of sorted) {
    const name = Buffer.from(e.path, "utf8");
    const head = Buffer.alloc(e.type === "file" ? 11 : 3);
    head.writeUInt8(e.type === "file" ? ENTRY_FILE : ENTRY_DIR, 0);
    head.writeUInt16BE(name.length, 1);
    if (e.type === "file") {
      const size = Buffer.alloc(8);
      size.writeBigUInt64BE(BigInt(e.data.length));
      parts.push(head.subarray(0, 3), name, size, Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length));
    } else {
      parts.push(head, name);
    }
  }
  return parts;
}

/** Parses and checks archive bytes. Throws ARCHIVE_* on anything malformed or unsafe; never touches the disk. */
export function unpackEntries(bytes: Uint8Array): ArchiveEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const truncated = () => new BackupError("the archive is truncated", { code: "ARCHIVE_INVALID" });
  if (buf.length < 12 || !buf.subarray(0, 8).equals(ARCHIVE_MAGIC)) {
    throw new BackupError("not a Covenant memory archive (bad magic)", { code: "ARCHIVE_INVALID" });
  }
  const count = buf.readUInt32BE(8);
  let at = 12;
  const entries: ArchiveEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 3 > buf.length) throw truncated();
    const type = buf.readUInt8(at);
    const nameLength = buf.readUInt16BE(at + 1);
    at += 3;
    if (at + nameLength > buf.length) throw truncated();
    const path = buf.subarray(at, at + nameLength).toString("utf8");
    at += nameLength;
    if (type === ENTRY_DIR) {
      entries.push({ type: "dir", path });
    } else if (type === ENTRY_FILE) {
      if (at + 8 > buf.length) throw truncated();
      const size = buf.readBigUInt64BE(at);
      at += 8;
      if (BigInt(at) + size > BigInt(buf.length)) throw truncated();
      entries.push({ type: "file", path, data: buf.subarray(at, at + Number(size)) });
      at += Number(size);
    } else {
      throw new BackupError(
        `archive entry "${path.slice(0, 200)}" has type ${type}: only files and folders, never links`,
        {
          code: "ARCHIVE_LINK",
        },
      );
    }
  }
  if (at !== buf.length) throw new BackupError("the archive has trailing bytes", { code: "ARCHIVE_INVALID" });
  const canonical = canonicalEntries(entries);
  // The canonical order is part of the format: a reordered archive is not one this code wrote.
  if (canonical.some((e, i) => e !== entries[i])) {
    throw new BackupError("archive entries are not in canonical order", { code: "ARCHIVE_INVALID" });
  }
  return canonical;
}
