import { createHash } from "node:crypto";
import type { Abi, Address, Hash, Hex, LocalAccount } from "viem";
import {
  type ChainConnection,
  classifyError,
  intentHash,
  isTerminal,
  type Logger,
  parseTxIntent,
  RpcError,
  revertReasonOf,
  StoreError,
  SubmitError,
  type Submitter,
  shortMessageOf,
  sleep,
  type TxIntent,
  type TxRecord,
  type WaitOptions,
  withContext,
} from "../shared";
import type { AnomalyReporter } from "./anomalies";
import type { KeeperTokens } from "./auth";
import type { ExecutorMetrics } from "./metrics";
import type { ParsedSpend, PreparedCall, SpendPolicy } from "./policy";
import { bigintJson, type ExecutorStore, type NewRequest, type RequestRow } from "./requests";
import { type FinishedTx, type SenderOptions, SenderPipeline } from "./sender";
import { type ExecutorRecord, REJECTIONS, type Rejection, type RejectionCode } from "./types";

/*
 * The tx-executor's core, without HTTP: takes a request (an agent's signed Spend, a keeper's own
 * transaction, or the circuit breaker's freeze), stores it, checks it against the chain, accepts or
 * refuses it, and hands accepted ones to the pipeline of their sender key. api.ts serves it over
 * HTTP; `submitterFor(keeper)` serves it in process as a Submitter.
 *
 * The order never changes: idempotency (same key, same body: the first result; another body: 409),
 * breaker block, rate limit, then the request is STORED, then checked (signature, policy, simulation
 * — nothing sent, no nonce taken), then accepted under the agent's lock, then signed with a nonce and
 * stored again, then broadcast.
 */

export type Submission =
  | { kind: "keeper"; keeper: string; intent: TxIntent }
  | { kind: "spend"; key: string; spend: ParsedSpend };

export type Outcome =
  /** accepted: checked and on its way; queued: stored, to be checked once the chain answers; replayed: an earlier result. */
  | { type: "accepted" | "queued" | "replayed"; record: ExecutorRecord }
  | {
      type: "rejected";
      rejection: Rejection;
      http: number;
      record?: ExecutorRecord;
      /** Context for the client: the id of the request in the way, when to retry. */
      extra?: Record<string, unknown>;
    };

export type ExecutorOptions = {
  store: ExecutorStore;
  chain: ChainConnection;
  relayer: LocalAccount;
  sentinel?: LocalAccount;
  /** Keepers that send from their own role key through the executor (else from the relayer key). */
  keeperAccounts?: ReadonlyMap<string, LocalAccount>;
  policy?: SpendPolicy;
  keeperTokens: KeeperTokens;
  /** Where anomalies go (the spending keeper's POST /anomalies); unset: only the breaker acts. */
  anomalies?: AnomalyReporter;
  sender: Omit<SenderOptions, "errorAbi">;
  /** Errors of the contracts keepers call, to decode their reverts. */
  errorAbi?: Abi;
  gasMarginPercent: number;
  simulateAt: "pending" | "latest";
  rateLimit: { requests: number; windowMs: number };
  breaker: { overCapRefusals: number; unknownTargetRefusals: number; windowMs: number };
  /**
   * How long one instance holds a request while checking it (default 10 s). A crashed instance's
   * claims lapse after this; a slow check that outlives its claim loses the race harmlessly.
   */
  evaluationClaimMs?: number;
  logger: Logger;
  metrics: ExecutorMetrics;
};

const OVER_CAP_CODES: RejectionCode[] = ["over_tx_cap", "over_daily_cap"];
const UNKNOWN_TARGET_CODES: RejectionCode[] = ["call_not_allowed"];

export class Executor {
  readonly chainId: number;
  private readonly senders = new Map<Address, SenderPipeline>();
  private readonly keeperSenders = new Map<string, Address>();
  private readonly relayer: Address;
  private readonly sentinel?: Address;
  private readonly errorAbi: Abi;
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  private ticks = 0;

  constructor(private readonly o: ExecutorOptions) {
    this.chainId = o.chain.chain.id;
    this.errorAbi = [...(o.errorAbi ?? []), ...(o.policy?.errorAbi ?? [])];
    const addSender = (account: LocalAccount, role: "relayer" | "sentinel") => {
      if (this.senders.has(account.address)) return;
      this.senders.set(
        account.address,
        new SenderPipeline(
          o.store,
          o.chain,
          account,
          role,
          { ...o.sender, errorAbi: this.errorAbi },
          o.logger,
          o.metrics,
          (tx) => this.finished(tx),
        ),
      );
    };
    addSender(o.relayer, "relayer");
    this.relayer = o.relayer.address;
    if (o.sentinel) {
      addSender(o.sentinel, "sentinel");
      this.sentinel = o.sentinel.address;
    }
    for (const [keeper, account] of o.keeperAccounts ?? []) {
      addSender(account, "relayer");
      this.keeperSenders.set(keeper, account.address);
    }
  }

  private get claimMs(): number {
    return this.o.evaluationClaimMs ?? 10_000;
  }

  get senderAddresses(): Address[] {
    return [...this.senders.keys()];
  }

  get spendsEnabled(): boolean {
    return this.o.policy !== undefined;
  }

  get keeperTokens(): KeeperTokens {
    return this.o.keeperTokens;
  }

  parseSpend(body: unknown): ParsedSpend {
    if (!this.o.policy) throw new SubmitError("spends are disabled", { code: "SPENDS_DISABLED", retryable: false });
    return this.o.policy.parse(body);
  }

  /* ---------------------------------------- requests --------------------------------------- */

  /** Takes one request through idempotency, the breaker, the rate limit, storage and its checks. */
  submit(sub: Submission): Promise<Outcome> {
    return this.track(this.submitOnce(sub));
  }

  private async submitOnce(sub: Submission): Promise<Outcome> {
    if (this.stopped) throw new SubmitError("the executor is stopping", { code: "STOPPING", retryable: true });
    const req = this.describe(sub);
    const kind = sub.kind;
    const log = withContext(this.o.logger, { agentId: req.agentId, key: req.key, scope: req.scope });

    // 1. Idempotency: the first result stands; a different body under the key is refused.
    const existing = await this.o.store.byKey(req.scope, req.key);
    if (existing) {
      if (existing.body_hash !== req.bodyHash) {
        return this.refuseEarly(
          req,
          "idempotency_conflict",
          `idempotency key ${req.key} was already used for a different request`,
          {
            existingId: existing.id,
          },
        );
      }
      if (existing.status === "queued" && existing.accepted_at === null) {
        // Stored earlier, still waiting for its check (the chain was unreachable): try it now.
        return this.evaluate(existing.id, sub.kind === "spend" ? sub.spend : undefined);
      }
      if (existing.status !== "rejected") {
        this.o.metrics.requests.inc({ kind, outcome: "replayed", reason: "" });
        return { type: "replayed", record: toRecord(existing) };
      }
    }

    // 2. The circuit breaker, 3. the rate limit (agents only).
    if (req.agentId !== undefined && kind === "spend") {
      const admission = await this.o.store.admit(req.agentId, this.o.rateLimit.windowMs);
      if (admission.blocked) {
        const block = admission.blocked;
        return this.refuseEarly(
          req,
          "agent_blocked",
          `agent ${req.agentId} is blocked by the circuit breaker since ${block.tripped_at.toISOString()}: ${block.reason}`,
        );
      }
      if (admission.count > this.o.rateLimit.requests) {
        return this.refuseEarly(
          req,
          "rate_limited",
          `agent ${req.agentId} sent more than ${this.o.rateLimit.requests} requests in ${this.o.rateLimit.windowMs} ms`,
          { retryAfterMs: admission.resetInMs },
        );
      }
    }

    // 4. Store the request before anything else happens to it.
    let row: RequestRow;
    if (existing) {
      row = existing;
    } else {
      const inserted = await this.o.store.insert(req, this.claimMs);
      if ("replayOf" in inserted) {
        return this.refuseEarly(
          req,
          "spend_replayed",
          `this signed Spend (agent ${req.agentId}, nonce ${req.spend?.nonce}) was already submitted under another idempotency key`,
          { existingId: inserted.replayOf },
        );
      }
      if (!inserted.created) {
        // Another request with this key won the race: same rules as above.
        if (inserted.row.body_hash !== req.bodyHash) {
          return this.refuseEarly(
            req,
            "idempotency_conflict",
            `idempotency key ${req.key} was already used for a different request`,
            {
              existingId: inserted.row.id,
            },
          );
        }
        this.o.metrics.requests.inc({ kind, outcome: "replayed", reason: "" });
        return { type: "replayed", record: toRecord(inserted.row) };
      }
      row = inserted.row;
    }

    // 5. Check it. A chain that cannot be read leaves it queued for the loop to check later.
    const outcome = await this.evaluate(
      row.id,
      sub.kind === "spend" ? sub.spend : undefined,
      existing ? undefined : row,
    );
    if (outcome.type === "queued") log.warn({ txId: row.id }, "request stored; its check waits for the chain");
    return outcome;
  }

  /** Claims, checks and accepts or rejects a stored request. Used on arrival and by the loop. */
  private async evaluate(id: string, spend?: ParsedSpend, claimed?: RequestRow): Promise<Outcome> {
    let row: RequestRow | undefined = claimed;
    try {
      row ??= await this.o.store.claimForEvaluation(id, this.claimMs);
    } catch (err) {
      // Reopening a refused Spend whose nonce another live request holds now.
      if (err instanceof StoreError && err.sqlState === "23505") {
        const stored = (await this.o.store.byId(id))!;
        return this.refuseEarly(
          { ...describeRow(stored) },
          "spend_replayed",
          `this signed Spend (agent ${stored.agent_id}, nonce ${stored.spend_nonce}) was already submitted under another idempotency key`,
        );
      }
      throw err;
    }
    if (!row) {
      // Someone else is checking it right now (or it is done): report where it stands.
      const current = await this.o.store.byId(id);
      return { type: current?.accepted_at ? "accepted" : "queued", record: toRecord(current!) };
    }
    const kind = row.kind;
    let check:
      | { ok: true; gas: bigint; allowance?: { atBlock: bigint; remaining: bigint } }
      | { ok: false; rejection: Rejection };
    try {
      check = await this.check(row, spend);
    } catch (err) {
      const c = classifyError(err);
      const message = `waiting for the chain: ${shortMessageOf(err)}`;
      await this.o.store.releaseClaim(row.id, message);
      this.o.metrics.requests.inc({ kind, outcome: "queued", reason: c.kind });
      if (!c.retryable) throw err;
      return { type: "queued", record: toRecord((await this.o.store.byId(row.id))!) };
    }
    if (!check.ok) return this.rejectStored(row, check.rejection);

    const result = await this.o.store.accept(row, check.gas, check.allowance);
    if ("overDaily" in result) {
      const { remaining, inFlight } = result.overDaily;
      return this.rejectStored(row, {
        code: "over_daily_cap",
        message: `spending ${row.spend_amount} would exceed the day's allowance: ${remaining} left on chain, ${inFlight} of it already in flight here`,
        anomaly: "over_cap",
      });
    }
    if ("lost" in result) {
      const current = await this.o.store.byId(row.id);
      return { type: current?.accepted_at ? "accepted" : "queued", record: toRecord(current!) };
    }
    this.o.metrics.requests.inc({ kind, outcome: "accepted", reason: "" });
    this.kick(result.accepted.sender as Address);
    return { type: "accepted", record: toRecord(result.accepted) };
  }

  private async check(
    row: RequestRow,
    parsed?: ParsedSpend,
  ): Promise<
    { ok: true; gas: bigint; allowance?: { atBlock: bigint; remaining: bigint } } | { ok: false; rejection: Rejection }
  > {
    const margin = (g: bigint) => (g * BigInt(100 + this.o.gasMarginPercent)) / 100n;
    if (row.kind === "spend") {
      if (!this.o.policy) return { ok: false, rejection: { code: "spends_disabled", message: "spends are disabled" } };
      // The stored body is the canonical Spend and signature; the request's envelope (kind, key) is the row's.
      const spend = parsed ?? this.o.policy.parse({ kind: "spend", idempotencyKey: row.key, ...(row.body as object) });
      const r = await this.o.policy.check(spend, row.sender as Address);
      if (!r.ok) return r;
      return { ok: true, gas: margin(r.gasEstimate), allowance: r.allowance };
    }
    const sim = await this.simulate(row, row.kind === "freeze" ? "latest" : this.o.simulateAt);
    if (!sim.ok) return sim;
    return { ok: true, gas: row.gas_limit === null ? margin(sim.gasEstimate) : BigInt(row.gas_limit) };
  }

  /** eth_call and eth_estimateGas from the sender: a revert here is a refusal that costs nothing. */
  private async simulate(
    row: RequestRow,
    blockTag: "pending" | "latest",
  ): Promise<{ ok: true; gasEstimate: bigint } | { ok: false; rejection: Rejection }> {
    const client = this.o.chain.publicClient;
    const request = {
      account: row.sender as Address,
      to: row.to_address as Address,
      data: row.data as Hex,
      value: BigInt(row.value),
    };
    try {
      const gas = row.gas_limit === null ? undefined : BigInt(row.gas_limit);
      await client.call({ ...request, gas, blockTag });
      const gasEstimate = gas ?? (await client.estimateGas({ ...request, blockTag }));
      return { ok: true, gasEstimate };
    } catch (err) {
      const c = classifyError(err);
      const text = `${(err as Error).message ?? ""}`;
      if (/insufficient funds/i.test(text)) {
        return {
          ok: false,
          rejection: {
            code: "insufficient_balance",
            message: `the sender ${row.sender} cannot pay value ${row.value} wei`,
          },
        };
      }
      if (c.kind === "revert") {
        const reason = revertReasonOf(err, this.errorAbi) ?? shortMessageOf(err);
        return {
          ok: false,
          rejection: {
            code: "simulation_reverted",
            message: `the transaction would revert: ${reason}`,
            revertReason: reason,
          },
        };
      }
      throw RpcError.from(err, "simulation failed");
    }
  }

  private async rejectStored(row: RequestRow, rejection: Rejection): Promise<Outcome> {
    const http = REJECTIONS[rejection.code];
    const rejected = await this.o.store.reject(row, rejection.code, http, rejection.message, rejection.revertReason);
    this.o.metrics.requests.inc({ kind: row.kind, outcome: "rejected", reason: rejection.code });
    withContext(this.o.logger, { txId: row.id, agentId: row.agent_id ?? undefined }).info(
      { code: rejection.code, reason: rejection.message },
      "request rejected",
    );
    if (rejection.anomaly && row.agent_id !== null) {
      const agentId = BigInt(row.agent_id);
      if (this.o.anomalies) {
        const at = (rejected ?? row).updated_at.getTime();
        await this.o.store.addAnomaly(
          agentId,
          rejection.anomaly === "unknown_target" ? "unknown_target" : "refused_spend",
          `refused:${row.id}:${at}`,
          { requestId: row.id, code: rejection.code, reason: rejection.message },
        );
      }
      await this.considerBreaker(agentId, rejection);
    }
    const current = rejected ?? (await this.o.store.byId(row.id));
    return { type: "rejected", rejection, http, record: current ? toRecord(current) : undefined };
  }

  /** A refusal before any row exists: audited, counted, nothing stored on the request side. */
  private async refuseEarly(
    req: NewRequest,
    code: RejectionCode,
    message: string,
    extra?: Record<string, unknown>,
  ): Promise<Outcome> {
    await this.o.store.audit({
      requestId: null,
      scope: req.scope,
      agentId: req.agentId,
      event: "rejected",
      code,
      reason: message,
      detail: { key: req.key, ...(extra ?? {}) },
    });
    this.o.metrics.requests.inc({ kind: req.kind, outcome: "rejected", reason: code });
    return { type: "rejected", rejection: { code, message }, http: REJECTIONS[code], ...(extra && { extra }) };
  }

  /** Audits a refusal that happened before the request could even be read (bad JSON, wrong types, no auth). */
  async auditRefusal(code: RejectionCode, message: string, detail?: Record<string, unknown>): Promise<void> {
    this.o.metrics.requests.inc({ kind: String(detail?.kind ?? "unknown"), outcome: "rejected", reason: code });
    await this.o.store.audit({ event: "rejected", code, reason: message, detail: detail ?? null });
  }

  private describe(sub: Submission): NewRequest {
    if (sub.kind === "keeper") {
      const intent = parseTxIntent(sub.intent);
      const sender = this.keeperSenders.get(sub.keeper) ?? this.relayer;
      return {
        scope: `keeper:${sub.keeper}`,
        key: intent.key,
        bodyHash: intentHash(intent),
        kind: "keeper",
        agentId: intent.agentId === undefined ? undefined : BigInt(intent.agentId),
        keeper: sub.keeper,
        chainId: this.chainId,
        sender,
        to: intent.to,
        data: intent.data,
        value: intent.value ?? 0n,
        gas: intent.gas,
        label: intent.label,
        body: { ...intent, value: (intent.value ?? 0n).toString(), gas: intent.gas?.toString() },
      };
    }
    const s = sub.spend;
    return {
      scope: `agent:${s.agentId}`,
      key: sub.key,
      bodyHash: createHash("sha256").update(JSON.stringify(s.canonical, bigintJson)).digest("hex"),
      kind: "spend",
      agentId: s.agentId,
      chainId: this.chainId,
      sender: this.relayer,
      to: s.call.to,
      data: s.call.data,
      value: s.call.value,
      label: `spend ${s.amount} of ${s.token} to ${s.target}`,
      body: s.canonical,
      spend: { nonce: s.nonce, token: s.token, amount: s.amount },
    };
  }

  /* ------------------------------------ circuit breaker ------------------------------------ */

  private async considerBreaker(agentId: bigint, rejection: Rejection): Promise<void> {
    const b = this.o.breaker;
    const [codes, threshold] =
      rejection.anomaly === "over_cap"
        ? [OVER_CAP_CODES, b.overCapRefusals]
        : [UNKNOWN_TARGET_CODES, b.unknownTargetRefusals];
    const refusals = await this.o.store.countRefusals(agentId, codes, b.windowMs);
    if (refusals < threshold) return;
    const what = rejection.anomaly === "over_cap" ? "over-cap spends" : "spends to targets or selectors not allowed";
    const reason = `${refusals} refused ${what} within ${b.windowMs} ms (threshold ${threshold})`;
    if (!(await this.o.store.tripBreaker(agentId, rejection.anomaly!, reason))) return;
    this.o.metrics.breakerTrips.inc({ code: rejection.anomaly! });
    withContext(this.o.logger, { agentId }).error({ reason }, "circuit breaker tripped: agent blocked");
    if (this.o.anomalies) {
      const block = await this.o.store.block(agentId);
      await this.o.store.addAnomaly(agentId, "refused_burst", `breaker:${agentId}:${block?.tripped_at.getTime()}`, {
        code: rejection.anomaly,
        reason,
      });
      void this.track(this.o.anomalies.flush()).catch(() => undefined);
    }
    await this.freeze(agentId, reason);
  }

  /** Has the sentinel freeze the agent on chain (through the sentinel's own nonce pipeline). */
  private async freeze(agentId: bigint, reason: string): Promise<void> {
    if (!this.o.policy || !this.o.sentinel || !this.sentinel) {
      if (!this.o.anomalies) {
        this.o.logger.error(
          { agentId: agentId.toString() },
          "neither a sentinel key nor a spending keeper is configured: the agent is blocked here but NOT frozen on chain",
        );
      }
      return;
    }
    const call: PreparedCall = this.o.policy.freezeCall(agentId, reason);
    const block = await this.o.store.block(agentId);
    const key = `freeze:agent:${agentId}:${block?.tripped_at.getTime() ?? Date.now()}`;
    const inserted = await this.o.store.insert(
      {
        scope: "breaker",
        key,
        bodyHash: createHash("sha256").update(`${call.to}${call.data}`).digest("hex"),
        kind: "freeze",
        agentId,
        chainId: this.chainId,
        sender: this.sentinel,
        to: call.to,
        data: call.data,
        value: call.value,
        label: `sentinel freeze of agent ${agentId}: ${reason}`,
        body: { agentId: agentId.toString(), reason },
      },
      this.claimMs,
    );
    if ("replayOf" in inserted) return;
    await this.o.store.setFreezeRequest(agentId, inserted.row.id);
    const outcome = await this.evaluate(inserted.row.id, undefined, inserted.created ? inserted.row : undefined);
    if (outcome.type === "rejected") {
      this.o.logger.error(
        { agentId: agentId.toString(), reason: outcome.rejection.message },
        "the sentinel's freeze would revert; the agent stays blocked here",
      );
    }
  }

  /* ----------------------------------------- reads ----------------------------------------- */

  async get(id: string): Promise<ExecutorRecord | undefined> {
    if (!/^[0-9a-f-]{36}$/.test(id)) return undefined;
    const row = await this.o.store.byId(id);
    return row ? toRecord(row) : undefined;
  }

  async getByKey(scope: string, key: string): Promise<ExecutorRecord | undefined> {
    const row = await this.o.store.byKey(scope, key);
    return row ? toRecord(row) : undefined;
  }

  auditTrail(id: string) {
    return this.o.store.auditTrail(id);
  }

  agentGas(agentId: bigint) {
    return this.o.store.agentGas(agentId);
  }

  /** A Submitter for one keeper's own transactions, in this process (no HTTP). */
  submitterFor(keeper: string): Submitter {
    const scope = `keeper:${keeper}`;
    return {
      submit: async (intent) => recordOf(await this.submit({ kind: "keeper", keeper, intent })),
      get: async (idOrKey) => (await this.get(idOrKey)) ?? (await this.getByKey(scope, idOrKey)),
      wait: (id, options) => this.wait(id, options),
    };
  }

  async wait(id: string, options: WaitOptions = {}): Promise<ExecutorRecord> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    for (;;) {
      const record = await this.get(id);
      if (!record) throw new SubmitError(`no transaction ${id}`, { code: "TX_NOT_FOUND", retryable: false });
      if (isTerminal(record.status)) return record;
      if (Date.now() >= deadline) {
        throw new SubmitError(`transaction ${id} is still ${record.status} after waiting`, {
          code: "WAIT_TIMEOUT",
          retryable: true,
          details: "",
          meta: { id, status: record.status, hash: record.hash },
        });
      }
      await sleep(options.pollIntervalMs ?? 250, options.signal);
    }
  }

  /* ------------------------------------------ loop ----------------------------------------- */

  /** One pass: check what waits for a check, sign what waits for a nonce, follow what is in flight. */
  async tick(): Promise<void> {
    let firstError: unknown;
    const note = (err: unknown) => {
      firstError ??= err;
    };
    for (const row of await this.o.store.unevaluated(50)) {
      if (this.stopped) return;
      await this.track(this.evaluate(row.id)).catch(note);
    }
    for (const sender of this.senders.values()) {
      if (this.stopped) return;
      // Not awaited: under steady load the dispatch keeps going round, and receipts must not wait for it.
      this.kick(sender.address);
      await this.track(sender.monitor()).catch(note);
    }
    if (this.o.anomalies) await this.track(this.o.anomalies.flush()).catch(note);
    if (this.ticks++ % 10 === 0) {
      const counts = await this.o.store.statusCounts();
      this.o.metrics.queued.set(counts.queued ?? 0);
    }
    if (firstError !== undefined) throw firstError;
  }

  async pruneRateWindows(): Promise<void> {
    await this.o.store.pruneRateWindows(this.o.rateLimit.windowMs);
  }

  /** Stops taking requests and waits for every write in flight (requests, dispatches, receipts). */
  async drain(): Promise<void> {
    this.stopped = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    for (const s of this.senders.values()) await s.idle();
  }

  private kick(sender: Address): void {
    const pipeline = this.senders.get(sender);
    if (!pipeline || this.stopped) return;
    void this.track(pipeline.dispatch()).catch((err) =>
      this.o.logger.warn({ err, sender }, "dispatch failed; the loop will retry"),
    );
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => undefined);
    return p;
  }

  private finished({ row, latencyMs }: FinishedTx): void {
    this.o.metrics.finished.inc({ kind: row.kind, status: row.status });
    if (latencyMs !== undefined && row.status === "confirmed")
      this.o.metrics.latency.observe({ kind: row.kind }, latencyMs / 1000);
    if (row.agent_id !== null && row.gas_used !== null && row.effective_gas_price !== null) {
      this.o.metrics.agentGasWei.inc(
        { kind: row.kind },
        Number(BigInt(row.gas_used) * BigInt(row.effective_gas_price)),
      );
    }
  }
}

function describeRow(r: RequestRow): NewRequest {
  return {
    scope: r.scope,
    key: r.key,
    bodyHash: r.body_hash,
    kind: r.kind,
    agentId: r.agent_id === null ? undefined : BigInt(r.agent_id),
    chainId: Number(r.chain_id),
    sender: r.sender as Address,
    to: r.to_address as Address,
    data: r.data as Hex,
    value: BigInt(r.value),
    body: r.body,
  };
}

/** The Submitter view of an outcome: rejections are records; a key conflict throws. */
function recordOf(outcome: Outcome): TxRecord {
  if (outcome.type !== "rejected") return outcome.record;
  if (outcome.record) return outcome.record;
  const { code, message } = outcome.rejection;
  throw new SubmitError(message, {
    code: code === "idempotency_conflict" ? "IDEMPOTENCY_CONFLICT" : code.toUpperCase(),
    retryable: code === "rate_limited",
    details: "",
  });
}

export function toRecord(r: RequestRow): ExecutorRecord {
  const record: ExecutorRecord = {
    id: r.id,
    key: r.key,
    kind: r.kind,
    status: r.status,
    accepted: r.accepted_at !== null,
    chainId: Number(r.chain_id),
    from: r.sender as Address,
    to: r.to_address as Address,
    data: r.data as Hex,
    value: BigInt(r.value),
    attempts: r.attempts,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.gas_limit !== null) record.gas = BigInt(r.gas_limit);
  if (r.label !== null) record.label = r.label;
  if (r.agent_id !== null) record.agentId = r.agent_id;
  if (r.keeper !== null) record.keeper = r.keeper;
  if (r.hash !== null) record.hash = r.hash as Hash;
  if (r.nonce !== null) record.nonce = Number(r.nonce);
  if (r.gas_used !== null) record.gasUsed = BigInt(r.gas_used);
  if (r.effective_gas_price !== null) record.effectiveGasPrice = BigInt(r.effective_gas_price);
  if (r.block_number !== null) record.blockNumber = BigInt(r.block_number);
  if (r.block_hash !== null) record.blockHash = r.block_hash as Hash;
  if (r.revert_reason !== null) record.revertReason = r.revert_reason;
  if (r.error !== null) record.error = r.error;
  if (r.reject_code !== null) record.rejection = { code: r.reject_code, message: r.error ?? r.reject_code };
  return record;
}
