/*
 * Fee arithmetic, pure. Nodes accept a replacement for a pending transaction only when BOTH the max
 * fee and the priority fee are at least 10 % above the pending one's (geth's PriceBump, Hardhat the
 * same), so every replacement here raises both by at least `bumpPercent` (≥ 10), rounded up, and
 * never less than what the market asks now. A cap bounds what the executor will ever sign.
 */

/** EIP-1559 fees (legacy chains: maxFeePerGas = maxPriorityFeePerGas = gasPrice, type "legacy"). */
export type Fees = { type: "eip1559" | "legacy"; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

/** The lowest replacement fee nodes accept, by percent over the pending transaction's. */
export const MIN_REPLACEMENT_BUMP_PERCENT = 10;

/** Fees for a new transaction: 2 × base fee + tip survives six full blocks of a rising base fee. */
export function initialFees(baseFeePerGas: bigint | null | undefined, tip: bigint, gasPrice: bigint): Fees {
  if (baseFeePerGas === null || baseFeePerGas === undefined) {
    const price = (gasPrice * 11n) / 10n;
    return { type: "legacy", maxFeePerGas: price, maxPriorityFeePerGas: price };
  }
  return { type: "eip1559", maxFeePerGas: baseFeePerGas * 2n + tip, maxPriorityFeePerGas: tip };
}

/** `value` raised by `percent`, rounded up (so 10 % of 1 wei is still 1 wei). */
export function raise(value: bigint, percent: number): bigint {
  const p = BigInt(Math.round(percent * 100));
  return (value * (10_000n + p) + 9_999n) / 10_000n;
}

export type Replacement = { kind: "replace"; fees: Fees } | { kind: "capped"; needed: bigint; cap: bigint };

/**
 * Fees for a replacement of `pending`: both raised by `bumpPercent`, at least the market's, at most
 * `cap`. "capped" when even the minimum acceptable replacement would exceed the cap.
 */
export function replacementFees(pending: Fees, market: Fees, bumpPercent: number, cap: bigint): Replacement {
  const bump = Math.max(bumpPercent, MIN_REPLACEMENT_BUMP_PERCENT);
  const minTip = raise(pending.maxPriorityFeePerGas, bump);
  const minMax = raise(pending.maxFeePerGas, bump);
  if (pending.type === "legacy") {
    const price = max(minMax, market.maxFeePerGas);
    if (minMax > cap) return { kind: "capped", needed: minMax, cap };
    const p = price > cap ? cap : price;
    return { kind: "replace", fees: { type: "legacy", maxFeePerGas: p, maxPriorityFeePerGas: p } };
  }
  let tip = max(minTip, market.maxPriorityFeePerGas);
  let maxFee = max(minMax, market.maxFeePerGas, tip);
  if (minMax > cap || minTip > cap) return { kind: "capped", needed: max(minMax, minTip), cap };
  if (maxFee > cap) maxFee = cap;
  if (tip > maxFee) tip = maxFee;
  return { kind: "replace", fees: { type: "eip1559", maxFeePerGas: maxFee, maxPriorityFeePerGas: tip } };
}

/** Clamps fresh fees to the cap; undefined when the cap does not even cover the base fee and tip. */
export function capFees(fees: Fees, baseFeePerGas: bigint | null | undefined, cap: bigint): Fees | undefined {
  if (fees.maxFeePerGas <= cap) return fees;
  if (fees.type === "legacy") return undefined;
  const floor = (baseFeePerGas ?? 0n) + fees.maxPriorityFeePerGas;
  if (floor > cap) return undefined;
  return { ...fees, maxFeePerGas: cap };
}

/** Math.max does not take bigints. */
function max(first: bigint, ...rest: bigint[]): bigint {
  let m = first;
  for (const v of rest) if (v > m) m = v;
  return m;
}
