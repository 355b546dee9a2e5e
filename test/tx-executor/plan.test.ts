import { expect } from "chai";
import type { Hash } from "viem";
import type { Fees } from "../../keepers/tx-executor/fees";
import { type ChainView, type OpenTx, type PlanConfig, planSender } from "../../keepers/tx-executor/plan";

const config: PlanConfig = {
  replaceAfterMs: 10_000,
  rebroadcastAfterMs: 30_000,
  retryBroadcastMs: 2_000,
  bumpPercent: 15,
  maxFeePerGas: 1_000n,
  maxReplacements: 2,
};
const fees = (maxFeePerGas: bigint, tip = 2n): Fees => ({ type: "eip1559", maxFeePerGas, maxPriorityFeePerGas: tip });
const NOW = 1_000_000;
const view = (v: Partial<ChainView> = {}): ChainView => ({
  latestNonce: 5,
  deepBlock: 100n,
  baseFeePerGas: 10n,
  market: fees(22n),
  now: NOW,
  ...v,
});
const tx = (t: Partial<OpenTx> & { nonce: number }): OpenTx => ({
  id: `tx${t.nonce}`,
  status: "submitted",
  hash: `0x${t.nonce.toString(16).padStart(64, "0")}` as Hash,
  attempts: 1,
  fees: fees(22n),
  lastSignedAt: NOW - 1_000,
  lastSentAt: NOW - 1_000,
  stuckReported: false,
  ...t,
});

describe("tx-executor plan: what to do with a sender's open transactions", () => {
  it("looks up receipts of nonces the chain has mined, and finalizes sightings once deep", () => {
    const actions = planSender(
      [tx({ nonce: 3 }), tx({ nonce: 4, seenBlock: 100n }), tx({ nonce: 2, seenBlock: 101n })],
      view(),
      config,
    );
    expect(actions).to.deep.equal([
      { kind: "lookup", id: "tx3" },
      { kind: "finalize", id: "tx4" },
    ]);
  });

  it("looks again at a sighting whose nonce is no longer mined (reorg)", () => {
    expect(planSender([tx({ nonce: 5, seenBlock: 99n })], view(), config)).to.deep.equal([
      { kind: "lookup", id: "tx5" },
    ]);
  });

  it("leaves a fresh pending transaction alone", () => {
    expect(planSender([tx({ nonce: 5 }), tx({ nonce: 6 })], view(), config)).to.deep.equal([]);
  });

  it("replaces the head of the line once stuck, with both fees raised", () => {
    const stuck = tx({ nonce: 5, lastSignedAt: NOW - 10_000 });
    expect(planSender([stuck], view(), config)).to.deep.equal([
      { kind: "replace", id: "tx5", fees: { type: "eip1559", maxFeePerGas: 26n, maxPriorityFeePerGas: 3n } },
    ]);
  });

  it("replaces a later transaction only when it is underpriced for the current base fee", () => {
    const old = NOW - 20_000;
    const actions = planSender(
      [
        tx({ nonce: 5, lastSignedAt: NOW }),
        tx({ nonce: 6, lastSignedAt: old }),
        tx({ nonce: 7, lastSignedAt: old, fees: fees(11n) }),
      ],
      view(),
      config,
    );
    expect(actions.map((a) => [a.kind, a.id])).to.deep.equal([["replace", "tx7"]]);
  });

  it("reports once, and keeps broadcasting, when the replacement cap is reached", () => {
    const capped = tx({ nonce: 5, attempts: 3, lastSignedAt: NOW - 60_000, lastSentAt: NOW - 40_000 });
    expect(planSender([capped], view(), config)).to.deep.equal([
      {
        kind: "report-stuck",
        id: "tx5",
        reason: "not mined after 2 replacements (the cap); still broadcasting the last one",
      },
      { kind: "broadcast", id: "tx5" },
    ]);
    expect(planSender([{ ...capped, stuckReported: true }], view(), config)).to.deep.equal([
      { kind: "broadcast", id: "tx5" },
    ]);
  });

  it("reports when the fee cap forbids a replacement", () => {
    const high = tx({ nonce: 5, lastSignedAt: NOW - 60_000, fees: fees(950n, 100n) });
    const actions = planSender([high], view(), config);
    expect(actions).to.have.length(1);
    expect(actions[0]).to.include({ kind: "report-stuck", id: "tx5" });
    expect((actions[0] as { reason: string }).reason).to.contain("above the cap of 1000 wei");
  });

  it("never replaces a transaction no node has accepted yet: it retries the broadcast", () => {
    const queued = tx({ nonce: 5, status: "queued", lastSignedAt: NOW - 60_000, lastSentAt: NOW - 3_000 });
    expect(planSender([queued], view(), config)).to.deep.equal([{ kind: "broadcast", id: "tx5" }]);
    expect(planSender([{ ...queued, lastSentAt: NOW - 1_000 }], view(), config)).to.deep.equal([]);
  });

  it("rebroadcasts a submitted transaction after the rebroadcast interval (a node may have dropped it)", () => {
    const t = tx({ nonce: 6, lastSignedAt: NOW - 5_000, lastSentAt: NOW - 30_000 });
    expect(planSender([t], view(), config)).to.deep.equal([{ kind: "broadcast", id: "tx6" }]);
  });

  it("leaves a just-signed transaction to the dispatch that broadcasts it; after a restart, broadcasts everything pending", () => {
    const fresh = tx({ nonce: 5, status: "queued", lastSignedAt: NOW - 500, lastSentAt: undefined });
    expect(planSender([fresh], view(), config)).to.deep.equal([]);
    expect(planSender([fresh, tx({ nonce: 6 })], view({ forceBroadcast: true }), config)).to.deep.equal([
      { kind: "broadcast", id: "tx5" },
      { kind: "broadcast", id: "tx6" },
    ]);
  });
});
