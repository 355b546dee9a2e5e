import { type Hex, hexToBytes, stringToHex } from "viem";

/** Thrown for a text that does not fit the on-chain bytes32 short-text encoding. */
export class ShortTextError extends Error {
  override name = "ShortTextError";
}

/**
 * Encodes a short text (core value, goal title) as bytes32: UTF-8, right-padded with zeros.
 * Refuses empty texts and texts over 32 bytes, and texts ending in NUL (they would not round-trip).
 */
export function toBytes32Text(text: string): Hex {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length === 0) throw new ShortTextError("text is empty");
  if (bytes.length > 32) throw new ShortTextError(`"${text}" is ${bytes.length} bytes in UTF-8; at most 32 fit`);
  if (bytes[bytes.length - 1] === 0) throw new ShortTextError("text must not end in a NUL byte");
  return stringToHex(text, { size: 32 });
}

/**
 * Decodes a bytes32 short text written by {@link toBytes32Text}: strips the zero padding byte by byte (viem's
 * `trim` strips zero hex digits, which would eat the low nibble of a last byte such as "0", "p" or a space).
 */
export function fromBytes32Text(value: Hex): string {
  const bytes = hexToBytes(value);
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--;
  return Buffer.from(bytes.subarray(0, end)).toString("utf8");
}
