import { type Address, encodeFunctionData } from "viem";
import type { TxIntent } from "../shared";
import { spendingModuleAbi } from "./abi";

/*
 * The spending keeper's decisions, pure: the state it read from the chain and its store goes in, the
 * transactions it intends come out (sweeps, freezes by the sentinel, executions of approved queued
 * spends). No I/O here: the keeper (keeper.ts) reads the state, calls decide, and submits.
 */

/** What can make the keeper freeze an agent. */
export const ANOMALY_SIGNALS = [
  /** The executor refused a spend request (over a cap, frozen, bad signature …); counted towards a burst. */
  "refused_spend",
  /** The executor saw a burst of refused requests itself. */
  "refused_burst",
  /** A spend request called a (target, selector) the agent's Safe does not allow. */
  "unknown_target",
  /** An ERC-20 left a bound Safe in a transaction made neither by the module nor by the owners. */
  "unexplained_outflow",
] as const;
export type AnomalySignal = (typeof ANOMALY_SIGNALS)[number];

export type OpenAnomaly = {
  id: string;
  agentId: bigint;
  signal: AnomalySignal;
  /** Unix seconds (wall clock of the keeper's database). */
  observedAt: number;
};

/** The sentinel key's on-chain freeze allowance. */
export type SentinelView = { maxFreezes: number; window: number; windowStart: number; used: number };

/** A token of a bound Safe whose sweep is set up (cold address and an enabled threshold, as the chain says). */
export type SweepCandidate = {
  agentId: bigint;
  token: Address;
  balance: bigint;
  threshold: bigint;
  /** Swept events seen so far for (agent, token): a new sweep gets a new key once the last one is on record. */
  sweptCount: number;
};

/** An approved queued spend, as the chain says now. */
export type ApprovedSpend = {
  queueId: bigint;
  agentId: bigint;
  executableAt: number;
  expiresAt: number;
  /** The agent is frozen, or bound to another Safe than the one the spend was queued for. */
  blocked: boolean;
};

export type DecidePolicy = {
  /** Freeze after this many refused_spend reports within `refusedBurstWindowS`. */
  refusedBurstCount: number;
  refusedBurstWindowS: number;
  /** Signals that freeze; others are only recorded. */
  freezeSignals: ReadonlySet<AnomalySignal>;
  /** Sweep only when the balance exceeds the threshold by more than this (avoids dust sweeps). */
  sweepMinExcess: bigint;
  /** Execute approved queued spends once their delay has passed. */
  executeQueued: boolean;
};

export type SpendingState = {
  module: Address;
  /** Wall clock, unix seconds (anomaly windows). */
  now: number;
  /** Latest block timestamp (queue delays). */
  chainTime: number;
  anomalies: readonly OpenAnomaly[];
  /** Agents (decimal ids) frozen on-chain now. */
  frozen: ReadonlySet<string>;
  sentinel: SentinelView;
  sweeps: readonly SweepCandidate[];
  approved: readonly ApprovedSpend[];
  policy: DecidePolicy;
};

export type SpendingIntent = TxIntent & {
  kind: "freeze" | "sweep" | "execute";
  agentId: string;
  /** For freezes: the anomalies this freeze answers. */
  anomalyIds?: string[];
};

export type Decision = {
  intents: SpendingIntent[];
  /** Anomalies that need no action: the agent is already frozen, or a refused_spend too old to count. */
  closed: { id: string; reason: "already_frozen" | "expired" | "not_a_freeze_signal" }[];
  /** Agents that should be frozen but the sentinel's rate limit allows no more freezes now. */
  deferred: string[];
};

/** How many freezes the sentinel may still send at `now`. */
export function sentinelAllowance(s: SentinelView, now: number): number {
  if (s.maxFreezes === 0) return 0;
  return now >= s.windowStart + s.window ? s.maxFreezes : Math.max(0, s.maxFreezes - s.used);
}

const IMMEDIATE: ReadonlySet<AnomalySignal> = new Set(["refused_burst", "unknown_target", "unexplained_outflow"]);

export function decide(state: SpendingState): Decision {
  const { policy } = state;
  const intents: SpendingIntent[] = [];
  const closed: Decision["closed"] = [];
  const deferred: string[] = [];

  // Freezes: per agent, the anomalies that call for one; the oldest first while the sentinel may freeze.
  const byAgent = new Map<string, OpenAnomaly[]>();
  for (const a of state.anomalies) {
    const id = a.agentId.toString();
    if (state.frozen.has(id)) {
      closed.push({ id: a.id, reason: "already_frozen" });
      continue;
    }
    if (!policy.freezeSignals.has(a.signal)) {
      closed.push({ id: a.id, reason: "not_a_freeze_signal" });
      continue;
    }
    if (a.signal === "refused_spend" && a.observedAt < state.now - policy.refusedBurstWindowS) {
      closed.push({ id: a.id, reason: "expired" });
      continue;
    }
    byAgent.set(id, [...(byAgent.get(id) ?? []), a]);
  }
  const triggered: { agentId: string; anomalies: OpenAnomaly[]; since: number }[] = [];
  for (const [agentId, list] of byAgent) {
    const refused = list.filter((a) => a.signal === "refused_spend").length;
    if (list.some((a) => IMMEDIATE.has(a.signal)) || refused >= policy.refusedBurstCount) {
      const sorted = [...list].sort((a, b) => a.observedAt - b.observedAt || Number(BigInt(a.id) - BigInt(b.id)));
      triggered.push({ agentId, anomalies: sorted, since: sorted[0]!.observedAt });
    }
  }
  triggered.sort((a, b) => a.since - b.since || Number(BigInt(a.agentId) - BigInt(b.agentId)));
  let allowance = sentinelAllowance(state.sentinel, state.chainTime);
  for (const t of triggered) {
    if (allowance === 0) {
      deferred.push(t.agentId);
      continue;
    }
    allowance--;
    const first = t.anomalies.reduce((min, a) => (BigInt(a.id) < BigInt(min.id) ? a : min));
    intents.push({
      kind: "freeze",
      // One freeze per set of anomalies: after an unfreeze, new anomalies (new ids) make a new key.
      key: `spending:freeze:agent-${t.agentId}:anomaly-${first.id}`,
      to: state.module,
      data: encodeFunctionData({ abi: spendingModuleAbi, functionName: "freeze", args: [BigInt(t.agentId)] }),
      label: `freeze agent ${t.agentId}: ${[...new Set(t.anomalies.map((a) => a.signal))].join(", ")}`,
      agentId: t.agentId,
      anomalyIds: t.anomalies.map((a) => a.id),
    });
  }

  // Sweeps: the balance above the hot threshold goes to the cold address.
  for (const s of state.sweeps) {
    if (s.balance <= s.threshold + policy.sweepMinExcess) continue;
    intents.push({
      kind: "sweep",
      key: `spending:sweep:agent-${s.agentId}:${s.token.toLowerCase()}:after-${s.sweptCount}`,
      to: state.module,
      data: encodeFunctionData({ abi: spendingModuleAbi, functionName: "sweep", args: [s.agentId, s.token] }),
      label: `sweep ${s.balance - s.threshold} of ${s.token} for agent ${s.agentId}`,
      agentId: s.agentId.toString(),
    });
  }

  // Approved queued spends whose delay has passed, within their window.
  if (policy.executeQueued) {
    for (const q of state.approved) {
      if (q.blocked || state.chainTime < q.executableAt || state.chainTime > q.expiresAt) continue;
      intents.push({
        kind: "execute",
        key: `spending:execute:queue-${q.queueId}`,
        to: state.module,
        data: encodeFunctionData({ abi: spendingModuleAbi, functionName: "executeQueuedSpend", args: [q.queueId] }),
        label: `execute queued spend ${q.queueId} of agent ${q.agentId}`,
        agentId: q.agentId.toString(),
      });
    }
  }
  return { intents, closed, deferred };
}
