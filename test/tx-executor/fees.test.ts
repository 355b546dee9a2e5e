import { expect } from "chai";
import fc from "fast-check";
import { capFees, type Fees, initialFees, raise, replacementFees } from "../../keepers/tx-executor/fees";

const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

describe("tx-executor fees: replacements nodes accept, never above the cap", () => {
  before(() => console.log(`      fast-check seed ${SEED} (FC_SEED=${SEED} replays)`));

  it("raise() rounds up, so a bump of 10 % of a tiny fee is still a raise", () => {
    expect(raise(1n, 10)).to.equal(2n);
    expect(raise(100n, 10)).to.equal(110n);
    expect(raise(101n, 12.5)).to.equal(114n);
  });

  it("initial fees: 2 × base fee + tip; legacy chains: gas price + 10 %", () => {
    expect(initialFees(10n, 2n, 0n)).to.deep.equal({ type: "eip1559", maxFeePerGas: 22n, maxPriorityFeePerGas: 2n });
    expect(initialFees(null, 0n, 100n)).to.deep.equal({
      type: "legacy",
      maxFeePerGas: 110n,
      maxPriorityFeePerGas: 110n,
    });
  });

  it("a replacement raises both fees by at least the bump, meets the market, stays under the cap", () => {
    const wei = fc.bigInt({ min: 1n, max: 10n ** 12n });
    fc.assert(
      fc.property(
        wei,
        wei,
        wei,
        wei,
        fc.integer({ min: 10, max: 100 }),
        wei,
        (pMax, pTip, mBase, mTip, bump, capExtra) => {
          const pending: Fees = { type: "eip1559", maxFeePerGas: pMax + pTip, maxPriorityFeePerGas: pTip };
          const market = initialFees(mBase, mTip, 0n);
          const cap = pMax + capExtra;
          const r = replacementFees(pending, market, bump, cap);
          const minMax = raise(pending.maxFeePerGas, bump);
          const minTip = raise(pending.maxPriorityFeePerGas, bump);
          if (r.kind === "capped") {
            expect(minMax > cap || minTip > cap).to.equal(true);
            return;
          }
          const f = r.fees;
          // The node's replacement rule (10 %) and our own bump, on both fees.
          expect(f.maxFeePerGas >= minMax).to.equal(true);
          expect(f.maxPriorityFeePerGas >= minTip).to.equal(true);
          expect(f.maxFeePerGas * 10n >= pending.maxFeePerGas * 11n).to.equal(true);
          expect(f.maxPriorityFeePerGas * 10n >= pending.maxPriorityFeePerGas * 11n).to.equal(true);
          expect(f.maxFeePerGas <= cap).to.equal(true);
          expect(f.maxPriorityFeePerGas <= f.maxFeePerGas).to.equal(true);
          // What the market asks, unless the cap forbids it.
          if (market.maxFeePerGas <= cap) expect(f.maxFeePerGas >= market.maxFeePerGas).to.equal(true);
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("capped when even the minimum replacement exceeds the cap", () => {
    const pending: Fees = { type: "eip1559", maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    const market = initialFees(10n, 1n, 0n);
    expect(replacementFees(pending, market, 10, 109n)).to.deep.equal({ kind: "capped", needed: 110n, cap: 109n });
    expect(replacementFees(pending, market, 10, 110n)).to.deep.equal({
      kind: "replace",
      fees: { type: "eip1559", maxFeePerGas: 110n, maxPriorityFeePerGas: 11n },
    });
  });

  it("a bump below 10 % is raised to the 10 % nodes require", () => {
    const pending: Fees = { type: "eip1559", maxFeePerGas: 100n, maxPriorityFeePerGas: 10n };
    const r = replacementFees(pending, initialFees(1n, 1n, 0n), 1, 10_000n);
    expect(r).to.deep.equal({
      kind: "replace",
      fees: { type: "eip1559", maxFeePerGas: 110n, maxPriorityFeePerGas: 11n },
    });
  });

  it("fresh fees are clamped to the cap while the cap still covers base fee and tip", () => {
    const fees = initialFees(100n, 10n, 0n); // 210
    expect(capFees(fees, 100n, 500n)).to.equal(fees);
    expect(capFees(fees, 100n, 150n)).to.deep.equal({ ...fees, maxFeePerGas: 150n });
    expect(capFees(fees, 100n, 109n)).to.equal(undefined);
  });
});
