import { type Abi, decodeErrorResult, type Hex } from "viem";

/*
 * Turning a revert into a sentence an operator can act on. Nodes disagree on where the revert data
 * goes: geth puts the hex in `error.data` (code 3), Hardhat in `error.data.data` (code -32603),
 * some providers only in the message. The data is decoded with the keeper's error ABI (custom
 * errors such as `Refused(uint256,address)`), plus Error(string) and Panic(uint256).
 */

const PANIC_REASONS: Record<number, string> = {
  1: "assertion failed",
  17: "arithmetic overflow or underflow",
  18: "division or modulo by zero",
  33: "invalid enum value",
  34: "invalid storage byte array",
  49: "pop on empty array",
  50: "array index out of bounds",
  65: "out of memory",
  81: "call to an uninitialised function",
};

/** The revert data (0x…) carried somewhere in an error's cause chain, if any. */
export function revertDataOf(err: unknown): Hex | undefined {
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 12; depth++) {
    const data = (cur as { data?: unknown }).data;
    if (typeof data === "string" && /^0x[0-9a-fA-F]*$/.test(data)) return data as Hex;
    if (data && typeof data === "object") {
      const inner = (data as { data?: unknown }).data;
      if (typeof inner === "string" && /^0x[0-9a-fA-F]*$/.test(inner)) return inner as Hex;
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  const text = messageChain(err);
  const m = /return data: (0x[0-9a-fA-F]*)/.exec(text);
  return m ? (m[1] as Hex) : undefined;
}

/** A readable revert reason from revert data. */
export function decodeRevertData(data: Hex, errorAbi: Abi = []): string {
  if (data === "0x") return "reverted without a reason";
  try {
    const decoded = decodeErrorResult({ abi: errorAbi.filter((i) => i.type === "error"), data });
    if (decoded.errorName === "Error") return String(decoded.args?.[0]);
    if (decoded.errorName === "Panic") {
      const code = Number(decoded.args?.[0]);
      return `panic 0x${code.toString(16).padStart(2, "0")} (${PANIC_REASONS[code] ?? "unknown panic"})`;
    }
    const args = (decoded.args ?? []).map(formatArg).join(", ");
    return `${decoded.errorName}(${args})`;
  } catch {
    return `custom error ${data.slice(0, 10)}${data.length > 10 ? ` (data ${data})` : ""}`;
  }
}

/** The revert reason of a failed call or transaction error, or undefined if it was no revert. */
export function revertReasonOf(err: unknown, errorAbi: Abi = []): string | undefined {
  const data = revertDataOf(err);
  if (data !== undefined) return decodeRevertData(data, errorAbi);
  const text = messageChain(err);
  const quoted = /reverted with reason string '([^']*)'/.exec(text) ?? /execution reverted: ([^\n|]+)/.exec(text);
  if (quoted) return quoted[1]!.trim();
  if (/execution reverted|reverted without a reason|transaction reverted/i.test(text))
    return "reverted without a reason";
  if (/out of gas/i.test(text)) return "out of gas";
  return undefined;
}

function formatArg(v: unknown): string {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "string") return v;
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

function messageChain(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 12; depth++) {
    for (const k of ["shortMessage", "details", "message"]) {
      const v = (cur as Record<string, unknown>)[k];
      if (typeof v === "string") parts.push(v);
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return parts.join(" | ");
}
