import { expect } from "chai";
import { type Address, decodeFunctionData } from "viem";
import { spendingModuleAbi } from "../../../keepers/spending/abi";
import {
  ANOMALY_SIGNALS,
  type AnomalySignal,
  decide,
  type OpenAnomaly,
  type SpendingState,
  sentinelAllowance,
} from "../../../keepers/spending/decide";

const MODULE = "0x00000000000000000000000000000000000000aa" as Address;
const TOKEN = "0x00000000000000000000000000000000000000bb" as Address;
const ETH = "0x0000000000000000000000000000000000000000" as Address;
const NOW = 1_800_000_000;

function state(over: Partial<SpendingState> = {}): SpendingState {
  return {
    module: MODULE,
    now: NOW,
    chainTime: NOW,
    anomalies: [],
    frozen: new Set(),
    sentinel: { maxFreezes: 3, window: 3600, windowStart: NOW - 10, used: 0 },
    sweeps: [],
    approved: [],
    policy: {
      refusedBurstCount: 3,
      refusedBurstWindowS: 600,
      freezeSignals: new Set(ANOMALY_SIGNALS),
      sweepMinExcess: 0n,
      executeQueued: true,
    },
    ...over,
  };
}

let nextId = 1;
function anomaly(agentId: bigint, signal: AnomalySignal, ageS = 0): OpenAnomaly {
  return { id: String(nextId++), agentId, signal, observedAt: NOW - ageS };
}

function call(data: `0x${string}`) {
  return decodeFunctionData({ abi: spendingModuleAbi, data });
}

describe("keepers/spending: decide", () => {
  describe("freezes", () => {
    it("an unknown target, an unexplained outflow or a reported burst freezes at once, once per set of anomalies", () => {
      for (const signal of ["unknown_target", "unexplained_outflow", "refused_burst"] as const) {
        const a = anomaly(7n, signal);
        const d = decide(state({ anomalies: [a] }));
        expect(d.intents).to.have.length(1);
        const [i] = d.intents;
        expect(i!.kind).to.equal("freeze");
        expect(i!.key).to.equal(`spending:freeze:agent-7:anomaly-${a.id}`);
        expect(i!.to).to.equal(MODULE);
        expect(i!.anomalyIds).to.deep.equal([a.id]);
        const decoded = call(i!.data);
        expect(decoded.functionName).to.equal("freeze");
        expect(decoded.args).to.deep.equal([7n]);
        // The same state gives the same key: a re-run never freezes twice.
        expect(decide(state({ anomalies: [a] })).intents[0]!.key).to.equal(i!.key);
      }
    });

    it("refused spends freeze only as a burst within the window", () => {
      const two = [anomaly(3n, "refused_spend", 10), anomaly(3n, "refused_spend", 5)];
      expect(decide(state({ anomalies: two })).intents).to.deep.equal([]);
      const three = [...two, anomaly(3n, "refused_spend", 1)];
      const d = decide(state({ anomalies: three }));
      expect(d.intents.map((i) => i.key)).to.deep.equal([`spending:freeze:agent-3:anomaly-${two[0]!.id}`]);
      expect(d.intents[0]!.anomalyIds).to.deep.equal(three.map((a) => a.id));
    });

    it("refused spends older than the window are closed as expired and do not count", () => {
      const old = anomaly(3n, "refused_spend", 601);
      const recent = [anomaly(3n, "refused_spend", 1), anomaly(3n, "refused_spend", 2)];
      const d = decide(state({ anomalies: [old, ...recent] }));
      expect(d.intents).to.deep.equal([]);
      expect(d.closed).to.deep.equal([{ id: old.id, reason: "expired" }]);
    });

    it("an agent frozen already is not frozen again; its anomalies close", () => {
      const a = anomaly(9n, "unknown_target");
      const d = decide(state({ anomalies: [a], frozen: new Set(["9"]) }));
      expect(d.intents).to.deep.equal([]);
      expect(d.closed).to.deep.equal([{ id: a.id, reason: "already_frozen" }]);
    });

    it("signals left out of FREEZE_SIGNALS are recorded, not acted on", () => {
      const a = anomaly(9n, "unexplained_outflow");
      const d = decide(
        state({
          anomalies: [a],
          policy: { ...state().policy, freezeSignals: new Set<AnomalySignal>(["unknown_target"]) },
        }),
      );
      expect(d.intents).to.deep.equal([]);
      expect(d.closed).to.deep.equal([{ id: a.id, reason: "not_a_freeze_signal" }]);
    });

    it("the sentinel's rate limit: the oldest anomalies first, the rest deferred", () => {
      const anomalies = [
        anomaly(1n, "unknown_target", 30),
        anomaly(2n, "unknown_target", 50),
        anomaly(3n, "unknown_target", 10),
      ];
      const d = decide(state({ anomalies, sentinel: { maxFreezes: 3, window: 3600, windowStart: NOW - 10, used: 1 } }));
      expect(d.intents.map((i) => i.agentId)).to.deep.equal(["2", "1"]);
      expect(d.deferred).to.deep.equal(["3"]);
      // A new window opens at windowStart + window.
      const later = decide(
        state({
          anomalies,
          chainTime: NOW - 10 + 3600,
          sentinel: { maxFreezes: 3, window: 3600, windowStart: NOW - 10, used: 3 },
        }),
      );
      expect(later.intents).to.have.length(3);
      expect(sentinelAllowance({ maxFreezes: 2, window: 60, windowStart: 100, used: 2 }, 159)).to.equal(0);
      expect(sentinelAllowance({ maxFreezes: 2, window: 60, windowStart: 100, used: 2 }, 160)).to.equal(2);
      expect(sentinelAllowance({ maxFreezes: 0, window: 60, windowStart: 0, used: 0 }, 1_000)).to.equal(0);
    });
  });

  describe("sweeps", () => {
    it("sweeps what is above the threshold, keyed by the sweeps on record", () => {
      const d = decide(
        state({
          sweeps: [
            { agentId: 4n, token: TOKEN, balance: 1_500n, threshold: 1_000n, sweptCount: 2 },
            { agentId: 4n, token: ETH, balance: 1_000n, threshold: 1_000n, sweptCount: 0 },
          ],
        }),
      );
      expect(d.intents).to.have.length(1);
      const [i] = d.intents;
      expect(i!.key).to.equal(`spending:sweep:agent-4:${TOKEN}:after-2`);
      const decoded = call(i!.data);
      expect(decoded.functionName).to.equal("sweep");
      expect(decoded.args).to.deep.equal([4n, TOKEN]);
    });

    it("ignores excess below SWEEP_MIN_EXCESS_WEI", () => {
      const sweeps = [{ agentId: 4n, token: TOKEN, balance: 1_100n, threshold: 1_000n, sweptCount: 0 }];
      const policy = { ...state().policy, sweepMinExcess: 100n };
      expect(decide(state({ sweeps, policy })).intents).to.deep.equal([]);
      expect(decide(state({ sweeps: [{ ...sweeps[0]!, balance: 1_101n }], policy })).intents).to.have.length(1);
    });
  });

  describe("approved queued spends", () => {
    const q = { queueId: 12n, agentId: 5n, executableAt: NOW, expiresAt: NOW + 7 * 86_400, blocked: false };

    it("executes from the second the delay ends until the window closes", () => {
      expect(decide(state({ approved: [{ ...q, executableAt: NOW + 1 }] })).intents).to.deep.equal([]);
      const d = decide(state({ approved: [q] }));
      expect(d.intents.map((i) => i.key)).to.deep.equal(["spending:execute:queue-12"]);
      expect(call(d.intents[0]!.data).args).to.deep.equal([12n]);
      expect(decide(state({ approved: [q], chainTime: q.expiresAt + 1 })).intents).to.deep.equal([]);
    });

    it("not while blocked (frozen agent or another Safe), not when turned off", () => {
      expect(decide(state({ approved: [{ ...q, blocked: true }] })).intents).to.deep.equal([]);
      const policy = { ...state().policy, executeQueued: false };
      expect(decide(state({ approved: [q], policy })).intents).to.deep.equal([]);
    });
  });
});
