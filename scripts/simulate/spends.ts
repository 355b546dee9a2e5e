import { type Address, encodeFunctionData, type Hex, keccak256, toHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ExecutorClient } from "../../keepers/tx-executor/client";
import { buildSpend, type Deployment, fromViemAccount, type SignedAction, signAction } from "../../sdk";
import type { Agent } from "./agents";
import type { SpendEntry, SpendKind } from "./ledger";
import type { Rng } from "./rng";

/*
 * What the agents send to the tx-executor. Honest agents (and bankrupt ones) sign their own Spends within their caps;
 * byzantine agents send forged, replayed and other agents' signatures, over-cap spends and calls the Safe does not
 * allow; the clone's key is used from two hosts at once. Every request is written to the ledger with its answer.
 */

export const SPEND_GAS = 80_000n;
const TERMINAL = new Set(["confirmed", "failed", "rejected"]);

/** Where an agent's spends go: an address of its own that nothing else pays, so its balance is checkable. */
export function recipientOf(seed: number, agentIndex: number): Address {
  return `0x${keccak256(toHex(`covenant-simulate:${seed}:recipient:${agentIndex}`)).slice(26)}` as Address;
}

/** A deterministic nonce: round and sequence in the bitmap word, the bit in the low byte. */
export function spendNonce(round: number, host: number, seq: number): bigint {
  return (((BigInt(round) + 1n) << 16n) | (BigInt(host) << 12n) | BigInt(seq >> 8)) * 256n + BigInt(seq & 0xff);
}

export type SpendContext = {
  seed: number;
  deployment: Deployment;
  /** The executor's URL now (it changes when the executor restarts after a crash). */
  executorUrl(): string;
  /** Deadline for every Spend (chain seconds). */
  deadline: bigint;
  /** How long a request is retried on connection errors and 503s before it is given up as unanswered. */
  retryMs: number;
};

type SpendFields = { agentId: bigint; to: Address; amount: bigint; nonce: bigint; deadline: bigint; data?: Hex };

async function sign(key: Hex, deployment: Deployment, s: SpendFields) {
  return signAction(
    fromViemAccount(privateKeyToAccount(key)),
    buildSpend(deployment, {
      agentId: s.agentId,
      to: s.to,
      amount: s.amount,
      nonce: s.nonce,
      deadline: s.deadline,
      gas: SPEND_GAS,
      ...(s.data && { data: s.data }),
    }),
  );
}

/**
 * Sends one signed Spend, retrying the same idempotency key on connection errors, 5xx and 429 (the executor may be
 * restarting or cut off from its chain), and records the last answer.
 */
export async function send(ctx: SpendContext, entry: SpendEntry, signed: SignedAction<"Spend">): Promise<void> {
  const until = Date.now() + ctx.retryMs;
  for (;;) {
    entry.attempts++;
    try {
      const r = await new ExecutorClient(ctx.executorUrl()).executeSpend(entry.idempotencyKey, signed);
      if (r.ok) {
        entry.answer = "accepted";
        entry.requestId = r.record.id;
        return;
      }
      if (r.refusal.status < 500 && r.refusal.status !== 429) {
        entry.answer = r.refusal.code;
        entry.requestId = r.refusal.id;
        return;
      }
      entry.answer = `${r.refusal.status} ${r.refusal.code}`;
    } catch (err) {
      entry.answer = `unanswered: ${(err as Error).message}`;
    }
    if (Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Polls every stored request of `entries` until the executor calls it final, or `timeoutMs` passes. */
export async function settle(ctx: SpendContext, entries: SpendEntry[], timeoutMs: number): Promise<number> {
  const open = new Set(entries.filter((e) => e.requestId && !TERMINAL.has(e.finalStatus ?? "")));
  const until = Date.now() + timeoutMs;
  while (open.size > 0 && Date.now() < until) {
    for (const e of [...open]) {
      try {
        const rec = await new ExecutorClient(ctx.executorUrl()).status(e.requestId!);
        if (!rec) continue;
        e.finalStatus = rec.status;
        if (rec.rejection) e.finalCode = rec.rejection.code;
        if (rec.hash) e.hash = rec.hash as Hex;
        if (TERMINAL.has(rec.status)) open.delete(e);
      } catch {
        // the executor is restarting: ask again
      }
    }
    if (open.size > 0) await new Promise((r) => setTimeout(r, 500));
  }
  return open.size;
}

/** The requests one agent sends in one round (signed, not yet sent). */
export async function planAgentSpends(
  ctx: SpendContext,
  agent: Agent,
  others: Agent[],
  round: number,
  rng: Rng,
  sentBefore: { entry: SpendEntry; signed: SignedAction<"Spend"> }[],
): Promise<{ entry: SpendEntry; signed: SignedAction<"Spend"> }[]> {
  const out: { entry: SpendEntry; signed: SignedAction<"Spend"> }[] = [];
  const to = recipientOf(ctx.seed, agent.index);
  const add = async (
    kind: SpendKind,
    key: Hex,
    s: { agentId: bigint; nonce: bigint; amount: bigint; to: Address; data?: Hex },
    host = 0,
  ) => {
    const entry: SpendEntry = {
      round,
      agentIndex: agent.index,
      agentId: s.agentId,
      kind,
      host,
      idempotencyKey: `sim-${round}-${agent.index}-${host}-${out.length}`,
      nonce: s.nonce,
      to: s.to,
      amount: s.amount,
      signer: privateKeyToAccount(key).address,
      attempts: 0,
    };
    out.push({ entry, signed: await sign(key, ctx.deployment, { ...s, deadline: ctx.deadline }) });
  };
  const amount = () => rng.bigint(10n ** 14n, agent.perTxCap / 2n);
  if (agent.role === "honest" || agent.role === "bankrupt") {
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      await add("valid", agent.key, { agentId: agent.agentId, nonce: spendNonce(round, 0, i), amount: amount(), to });
    }
  } else if (agent.role === "clone") {
    // Host A spends as usual; host B, with the same key at the same time, spends under the same nonces to another
    // payee, and resends host A's signed Spend under its own idempotency key.
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      await add("valid", agent.key, { agentId: agent.agentId, nonce: spendNonce(round, 0, i), amount: amount(), to });
    }
    for (let i = 0; i < n; i++) {
      await add(
        "clone",
        agent.key,
        {
          agentId: agent.agentId,
          nonce: spendNonce(round, 0, i),
          amount: amount(),
          to: recipientOf(ctx.seed, -1 - agent.index),
        },
        1,
      );
    }
    const first = out[0]!;
    out.push({
      entry: {
        ...first.entry,
        kind: "clone_resend",
        host: 1,
        idempotencyKey: `sim-${round}-${agent.index}-1-resend`,
        attempts: 0,
      },
      signed: first.signed,
    });
  } else {
    // Byzantine: one of each attack, in a seeded order.
    const victim = rng.pick(others.filter((o) => o.role !== "byzantine"));
    const attacks: (() => Promise<void>)[] = [
      // A signature by a key that is not the agent's.
      () =>
        add("forged", keccak256(toHex(`covenant-simulate:${ctx.seed}:forger:${agent.index}:${round}`)), {
          agentId: agent.agentId,
          nonce: spendNonce(round, 2, 0),
          amount: amount(),
          to,
        }),
      // Its own key, signing for another agent.
      () =>
        add("foreign", agent.key, {
          agentId: victim.agentId,
          nonce: spendNonce(round, 2, 1),
          amount: amount(),
          to,
        }),
      // Over the per-spend cap.
      () =>
        add("over_cap", agent.key, {
          agentId: agent.agentId,
          nonce: spendNonce(round, 2, 2),
          amount: agent.perTxCap + rng.bigint(1n, 10n ** 16n),
          to,
        }),
      // A call its Safe does not allow (the registry's register(string)).
      () =>
        add("disallowed_call", agent.key, {
          agentId: agent.agentId,
          nonce: spendNonce(round, 2, 3),
          amount: 0n,
          to: ctx.deployment.registry,
          data: encodeFunctionData({
            abi: [
              {
                type: "function",
                name: "register",
                inputs: [{ type: "string" }],
                outputs: [],
                stateMutability: "nonpayable",
              },
            ],
            args: ["ipfs://stolen"],
          }),
        }),
    ];
    for (const attack of rng.shuffle(attacks)) await attack();
    // Replays: an earlier round's Spend of another agent, resent under a fresh idempotency key.
    const earlier = sentBefore.filter((s) => s.entry.kind === "valid" && s.entry.answer === "accepted");
    if (earlier.length > 0) {
      const victimSpend = rng.pick(earlier);
      out.push({
        entry: {
          ...victimSpend.entry,
          round,
          agentIndex: agent.index,
          kind: "replayed",
          host: 0,
          idempotencyKey: `sim-${round}-${agent.index}-replay`,
          attempts: 0,
          answer: undefined,
          requestId: undefined,
          finalStatus: undefined,
          finalCode: undefined,
          hash: undefined,
        },
        signed: victimSpend.signed,
      });
    }
  }
  return out;
}
