import { randomUUID } from "node:crypto";
import type { Address, Hash, Hex } from "viem";
import { ident, type Queryable, type Store, StoreError } from "../shared";
import type { Fees } from "./fees";
import type { ExecutorRecord, RejectionCode, RequestKind } from "./types";

/*
 * The executor's SQL, in one place. Every function that changes a request also appends its audit
 * entries in the same database transaction, so the audit log never tells a different story from the
 * requests table.
 */

export type RequestRow = {
  id: string;
  scope: string;
  key: string;
  body_hash: string;
  kind: RequestKind;
  agent_id: string | null;
  keeper: string | null;
  chain_id: string;
  sender: string;
  to_address: string;
  data: string;
  value: string;
  gas_limit: string | null;
  label: string | null;
  body: unknown;
  spend_nonce: string | null;
  spend_token: string | null;
  spend_amount: string | null;
  status: ExecutorRecord["status"];
  accepted_at: Date | null;
  reject_code: RejectionCode | null;
  reject_http: number | null;
  revert_reason: string | null;
  error: string | null;
  claimed_by: string | null;
  claimed_until: Date | null;
  nonce: string | null;
  hash: string | null;
  attempts: number;
  max_fee_per_gas: string | null;
  max_priority_fee_per_gas: string | null;
  last_signed_at: Date | null;
  first_sent_at: Date | null;
  last_sent_at: Date | null;
  stuck_reported: boolean;
  seen_block: string | null;
  seen_block_hash: string | null;
  seen_hash: string | null;
  gas_used: string | null;
  effective_gas_price: string | null;
  block_number: string | null;
  block_hash: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
};

const OPEN_COLUMNS = [
  "id",
  "scope",
  "key",
  "body_hash",
  "kind",
  "agent_id",
  "keeper",
  "chain_id",
  "sender",
  "to_address",
  "data",
  "value",
  "gas_limit",
  "label",
  "spend_nonce",
  "spend_token",
  "spend_amount",
  "status",
  "accepted_at",
  "reject_code",
  "reject_http",
  "revert_reason",
  "error",
  "claimed_by",
  "claimed_until",
  "nonce",
  "hash",
  "attempts",
  "max_fee_per_gas",
  "max_priority_fee_per_gas",
  "last_signed_at",
  "first_sent_at",
  "last_sent_at",
  "stuck_reported",
  "seen_block",
  "seen_block_hash",
  "seen_hash",
  "gas_used",
  "effective_gas_price",
  "block_number",
  "block_hash",
  "created_at",
  "updated_at",
  "finished_at",
].join(", ");

export type AttemptRow = {
  request_id: string;
  n: number;
  hash: string;
  raw_tx: string;
  max_fee_per_gas: string;
  max_priority_fee_per_gas: string | null;
  created_at: Date;
};

export type NewRequest = {
  scope: string;
  key: string;
  bodyHash: string;
  kind: RequestKind;
  agentId?: bigint;
  keeper?: string;
  chainId: number;
  sender: Address;
  to: Address;
  data: Hex;
  value: bigint;
  gas?: bigint;
  label?: string;
  body: unknown;
  spend?: { nonce: bigint; token: Address; amount: bigint };
};

export type AuditEntry = {
  requestId?: string | null;
  scope?: string | null;
  agentId?: bigint | string | null;
  event: string;
  code?: string | null;
  reason?: string | null;
  detail?: Record<string, unknown> | null;
};

/** What the spending keeper's POST /anomalies accepts from the executor. */
export type AnomalySignal = "unknown_target" | "refused_burst" | "refused_spend";

export type AnomalyRow = {
  id: string;
  agent_id: string;
  signal: AnomalySignal;
  key: string;
  detail: Record<string, unknown>;
  attempts: number;
};

export type Signed = { nonce: number; hash: Hash; raw: Hex; fees: Fees };

/** A request's final state, from its receipt or from its nonce being taken. */
export type Final = {
  row: RequestRow;
  status: "confirmed" | "failed";
  hash?: Hash;
  gasUsed?: bigint;
  effectiveGasPrice?: bigint;
  blockNumber?: bigint;
  blockHash?: Hash;
  revertReason?: string;
  error?: string;
};

export class ExecutorStore {
  readonly t: {
    requests: string;
    attempts: string;
    nonces: string;
    audit: string;
    gas: string;
    rate: string;
    blocks: string;
    anomalies: string;
  };

  constructor(
    readonly db: Store,
    readonly schema: string,
    readonly instance: string,
  ) {
    const s = ident(schema);
    this.t = {
      requests: `${s}.requests`,
      attempts: `${s}.attempts`,
      nonces: `${s}.sender_nonces`,
      audit: `${s}.audit_log`,
      gas: `${s}.agent_gas`,
      rate: `${s}.rate_windows`,
      blocks: `${s}.agent_blocks`,
      anomalies: `${s}.anomaly_reports`,
    };
  }

  /* ----------------------------------------- audit ---------------------------------------- */

  async audit(entry: AuditEntry, db: Queryable = this.db): Promise<void> {
    await db.query(
      `INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, code, reason, detail, instance)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        entry.requestId ?? null,
        entry.scope ?? null,
        entry.agentId ?? null,
        entry.event,
        entry.code ?? null,
        entry.reason?.slice(0, 2_000) ?? null,
        entry.detail ? JSON.stringify(entry.detail, bigintJson) : null,
        this.instance,
      ],
    );
  }

  async auditTrail(requestId: string): Promise<
    {
      id: string;
      at: Date;
      event: string;
      code: string | null;
      reason: string | null;
      detail: unknown;
      instance: string;
    }[]
  > {
    const { rows } = await this.db.query<{
      id: string;
      at: Date;
      event: string;
      code: string | null;
      reason: string | null;
      detail: unknown;
      instance: string;
    }>(`SELECT id, at, event, code, reason, detail, instance FROM ${this.t.audit} WHERE request_id = $1 ORDER BY id`, [
      requestId,
    ]);
    return rows;
  }

  /** Refusals of one agent with one of `codes` since `windowMs` ago (the circuit breaker's input). */
  async countRefusals(agentId: bigint, codes: readonly string[], windowMs: number): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.t.audit}
        WHERE agent_id = $1 AND event = 'rejected' AND code = ANY($2::text[])
          AND at > now() - $3 * interval '1 millisecond'`,
      [agentId, codes, windowMs],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /* ---------------------------------------- requests --------------------------------------- */

  /**
   * Stores a new request, claimed by this instance for its first check, or returns the one already
   * stored under (scope, key). `created` tells which. The spend-nonce index refuses a second live
   * request for the same signed Spend: that surfaces as `replayOf`. One statement: the row and its
   * "received" audit entry are written together.
   */
  async insert(r: NewRequest, claimMs: number): Promise<{ row: RequestRow; created: boolean } | { replayOf: string }> {
    try {
      const { rows } = await this.db.query<RequestRow>(
        `WITH ins AS (
           INSERT INTO ${this.t.requests}
             (id, scope, key, body_hash, kind, agent_id, keeper, chain_id, sender, to_address, data, value, gas_limit,
              label, body, spend_nonce, spend_token, spend_amount, status, claimed_by, claimed_until)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'queued', $19,
                   now() + $20 * interval '1 millisecond')
           ON CONFLICT (scope, key) DO NOTHING
           RETURNING *),
         audit AS (
           INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, detail, instance)
           SELECT id, scope, agent_id, 'received', $21::jsonb, $19 FROM ins)
         SELECT * FROM ins`,
        [
          randomUUID(),
          r.scope,
          r.key,
          r.bodyHash,
          r.kind,
          r.agentId ?? null,
          r.keeper ?? null,
          r.chainId,
          r.sender,
          r.to,
          r.data,
          r.value,
          r.gas ?? null,
          r.label ?? null,
          JSON.stringify(r.body, bigintJson),
          r.spend?.nonce ?? null,
          r.spend?.token ?? null,
          r.spend?.amount ?? null,
          this.instance,
          claimMs,
          JSON.stringify({ kind: r.kind, key: r.key, to: r.to, value: r.value.toString(), label: r.label }),
        ],
      );
      if (rows[0]) return { row: rows[0], created: true };
    } catch (err) {
      if (err instanceof StoreError && err.sqlState === "23505" && r.spend) {
        const other = await this.liveSpend(r.agentId!, r.spend.nonce);
        if (other) return { replayOf: other.id };
      }
      throw err;
    }
    const existing = await this.byKey(r.scope, r.key);
    if (!existing)
      throw new StoreError("request row vanished after a conflict", { code: "STORE_RACE", retryable: true });
    return { row: existing, created: false };
  }

  async byId(id: string, db: Queryable = this.db): Promise<RequestRow | undefined> {
    const { rows } = await db.query<RequestRow>(`SELECT * FROM ${this.t.requests} WHERE id = $1`, [id]);
    return rows[0];
  }

  async byKey(scope: string, key: string): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query<RequestRow>(`SELECT * FROM ${this.t.requests} WHERE scope = $1 AND key = $2`, [
      scope,
      key,
    ]);
    return rows[0];
  }

  async liveSpend(agentId: bigint, spendNonce: bigint): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query<RequestRow>(
      `SELECT * FROM ${this.t.requests} WHERE agent_id = $1 AND spend_nonce = $2 AND status <> 'rejected'`,
      [agentId, spendNonce],
    );
    return rows[0];
  }

  /**
   * Claims a queued, not yet evaluated request for `ms` (or renews this instance's claim). A rejected
   * request that is submitted again is reopened for a new evaluation under the same claim.
   */
  async claimForEvaluation(id: string, ms: number): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query<RequestRow>(
      `UPDATE ${this.t.requests}
          SET claimed_by = $2, claimed_until = now() + $3 * interval '1 millisecond', updated_at = now(),
              status = 'queued', reject_code = NULL, reject_http = NULL, revert_reason = NULL, error = NULL,
              finished_at = NULL
        WHERE id = $1 AND accepted_at IS NULL AND status IN ('queued', 'rejected')
          AND (claimed_until IS NULL OR claimed_until < now() OR claimed_by = $2)
        RETURNING *`,
      [id, this.instance, ms],
    );
    return rows[0];
  }

  /** Queued requests nobody is evaluating (left by a crash, or waiting for the RPC), oldest first. */
  async unevaluated(limit: number): Promise<RequestRow[]> {
    const { rows } = await this.db.query<RequestRow>(
      `SELECT * FROM ${this.t.requests}
        WHERE status = 'queued' AND accepted_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
        ORDER BY created_at LIMIT $1`,
      [limit],
    );
    return rows;
  }

  async releaseClaim(id: string, error?: string): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.requests} SET claimed_by = NULL, claimed_until = NULL, error = $3, updated_at = now()
        WHERE id = $1 AND claimed_by = $2`,
      [id, this.instance, error ?? null],
    );
  }

  /** Refuses a request that was being evaluated (row and audit entry in one statement). */
  async reject(
    row: RequestRow,
    code: RejectionCode,
    http: number,
    message: string,
    revertReason?: string,
  ): Promise<RequestRow | undefined> {
    const { rows } = await this.db.query<RequestRow>(
      `WITH up AS (
         UPDATE ${this.t.requests}
            SET status = 'rejected', reject_code = $2, reject_http = $3, error = $4, revert_reason = $5,
                claimed_by = NULL, claimed_until = NULL, finished_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'queued' AND accepted_at IS NULL
          RETURNING *),
       audit AS (
         INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, code, reason, detail, instance)
         SELECT id, scope, agent_id, 'rejected', $2, $4, $6::jsonb, $7 FROM up)
       SELECT * FROM up`,
      [
        row.id,
        code,
        http,
        message,
        revertReason ?? null,
        revertReason ? JSON.stringify({ revertReason }) : null,
        this.instance,
      ],
    );
    return rows[0];
  }

  /**
   * Accepts an evaluated request. For a spend, `allowance` is the daily allowance left at block
   * `atBlock`: under a per-agent lock, the spends this executor has in flight that the chain did not
   * yet count at that block are subtracted, so two requests (or two instances) can never accept
   * more than the module would let through. Returns the accepted row, or the refusal.
   */
  async accept(
    row: RequestRow,
    gasLimit: bigint,
    allowance?: { atBlock: bigint; remaining: bigint },
  ): Promise<{ accepted: RequestRow } | { overDaily: { remaining: bigint; inFlight: bigint } } | { lost: true }> {
    const detail = JSON.stringify({
      gasLimit: gasLimit.toString(),
      ...(allowance && { allowanceAtBlock: allowance.atBlock.toString(), remaining: allowance.remaining.toString() }),
    });
    const update = (db: Queryable) =>
      db.query<RequestRow>(
        `WITH up AS (
           UPDATE ${this.t.requests}
              SET accepted_at = now(), gas_limit = $2, claimed_by = NULL, claimed_until = NULL, error = NULL,
                  updated_at = now()
            WHERE id = $1 AND status = 'queued' AND accepted_at IS NULL AND claimed_by = $3
            RETURNING *),
         audit AS (
           INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, detail, instance)
           SELECT id, scope, agent_id, 'accepted', $4::jsonb, $3 FROM up)
         SELECT * FROM up`,
        [row.id, gasLimit, this.instance, detail],
      );
    if (!allowance || row.agent_id === null || row.spend_amount === null) {
      const { rows } = await update(this.db);
      return rows[0] ? { accepted: rows[0] } : { lost: true };
    }
    return this.db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`covenant.tx_executor.agent.${row.agent_id}`]);
      const { rows: sums } = await tx.query<{ total: string | null }>(
        `SELECT sum(spend_amount) AS total FROM ${this.t.requests}
          WHERE kind = 'spend' AND agent_id = $1 AND spend_token = $2 AND id <> $3 AND accepted_at IS NOT NULL
            AND (
              (status IN ('queued', 'submitted') AND (seen_block IS NULL OR seen_block > $4))
              OR (status = 'confirmed' AND block_number > $4)
            )`,
        [row.agent_id, row.spend_token, row.id, allowance.atBlock],
      );
      const inFlight = BigInt(sums[0]?.total ?? "0");
      if (inFlight + BigInt(row.spend_amount!) > allowance.remaining) {
        return { overDaily: { remaining: allowance.remaining, inFlight } };
      }
      const { rows } = await update(tx);
      return rows[0] ? { accepted: rows[0] } : { lost: true as const };
    });
  }

  /* ----------------------------------------- nonces ---------------------------------------- */

  /**
   * Hands out the next nonces of `sender` to accepted requests, oldest first, signs each and stores
   * nonce, bytes and hash, all in one database transaction. Nothing is broadcast here. The sender's
   * row is locked for the duration, so instances sharing the database take turns; rows another
   * instance is signing are skipped. The first nonce is max(stored next nonce, the chain's pending
   * count): a nonce stored here is never handed out twice, and none is skipped.
   */
  async assignNonces(
    chainId: number,
    sender: Address,
    chainPending: number,
    limit: number,
    balance: bigint,
    sign: (row: RequestRow, nonce: number) => Promise<Signed>,
  ): Promise<{ signed: RequestRow[]; unaffordable: boolean }> {
    if (limit <= 0) return { signed: [], unaffordable: false };
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO ${this.t.nonces} (chain_id, address, next_nonce) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id, address) DO NOTHING`,
        [chainId, sender, chainPending],
      );
      const { rows: nonceRows } = await tx.query<{ next_nonce: string }>(
        `SELECT next_nonce FROM ${this.t.nonces} WHERE chain_id = $1 AND address = $2 FOR UPDATE`,
        [chainId, sender],
      );
      const stored = Number(nonceRows[0]!.next_nonce);
      // What the open transactions may still cost is reserved out of the balance.
      const { rows: open } = await tx.query<{ n: string; reserved: string | null }>(
        `SELECT count(*) AS n, sum(gas_limit * max_fee_per_gas + value) AS reserved FROM ${this.t.requests}
          WHERE chain_id = $1 AND sender = $2 AND nonce IS NOT NULL AND status IN ('queued', 'submitted')`,
        [chainId, sender],
      );
      const room = limit - Number(open[0]?.n ?? 0);
      let budget = balance - BigInt(open[0]?.reserved ?? "0");
      if (room <= 0) return { signed: [], unaffordable: false };
      const { rows: todo } = await tx.query<RequestRow>(
        `SELECT * FROM ${this.t.requests}
          WHERE chain_id = $1 AND sender = $2 AND status = 'queued' AND accepted_at IS NOT NULL AND nonce IS NULL
          ORDER BY accepted_at, id
          LIMIT $3
          FOR UPDATE SKIP LOCKED`,
        [chainId, sender, room],
      );
      if (todo.length === 0) return { signed: [], unaffordable: false };
      let next = Math.max(stored, chainPending);
      if (chainPending > stored && stored > 0) {
        await this.audit(
          {
            event: "nonce_resync",
            reason: `the chain counts ${chainPending} transactions of ${sender}, the store expected ${stored}: another signer used the key`,
            detail: { sender, stored, chainPending },
          },
          tx,
        );
      }
      const batch: { row: RequestRow; signed: Signed }[] = [];
      let unaffordable = false;
      for (const row of todo) {
        const signed = await sign(row, next);
        const cost = BigInt(row.gas_limit ?? "0") * signed.fees.maxFeePerGas + BigInt(row.value);
        if (cost > budget) {
          // Left accepted and unsigned: it gets a nonce once the sender is funded.
          unaffordable = true;
          break;
        }
        budget -= cost;
        batch.push({ row, signed });
        next++;
      }
      if (batch.length === 0) return { signed: [], unaffordable };
      // The whole batch in one statement: nonces and hashes on the requests, the signed bytes as
      // attempts, one audit entry each.
      const { rows } = await tx.query<RequestRow>(
        `WITH v AS (
           SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::numeric[], $6::numeric[])
             AS v(id, nonce, hash, raw, max_fee, tip)),
         up AS (
           UPDATE ${this.t.requests} r
              SET nonce = v.nonce, hash = v.hash, attempts = 1, max_fee_per_gas = v.max_fee,
                  max_priority_fee_per_gas = v.tip, last_signed_at = now(), updated_at = now()
             FROM v WHERE r.id = v.id
           RETURNING r.*),
         att AS (
           INSERT INTO ${this.t.attempts} (request_id, n, hash, raw_tx, max_fee_per_gas, max_priority_fee_per_gas)
           SELECT id, 0, hash, raw, max_fee, tip FROM v),
         audit AS (
           INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, detail, instance)
           SELECT id, scope, agent_id, 'signed',
                  jsonb_build_object('sender', $7::text, 'nonce', nonce, 'hash', hash,
                                     'maxFeePerGas', max_fee_per_gas::text,
                                     'maxPriorityFeePerGas', max_priority_fee_per_gas::text),
                  $8
             FROM up)
         SELECT * FROM up ORDER BY nonce`,
        [
          batch.map((b) => b.row.id),
          batch.map((b) => String(b.signed.nonce)),
          batch.map((b) => b.signed.hash),
          batch.map((b) => b.signed.raw),
          batch.map((b) => b.signed.fees.maxFeePerGas.toString()),
          batch.map((b) => tipOf(b.signed.fees)?.toString() ?? null),
          sender,
          this.instance,
        ],
      );
      await tx.query(
        `UPDATE ${this.t.nonces} SET next_nonce = $3, updated_at = now() WHERE chain_id = $1 AND address = $2`,
        [chainId, sender, next],
      );
      return { signed: rows, unaffordable };
    });
  }

  async storedNextNonce(chainId: number, sender: Address): Promise<number | undefined> {
    const { rows } = await this.db.query<{ next_nonce: string }>(
      `SELECT next_nonce FROM ${this.t.nonces} WHERE chain_id = $1 AND address = $2`,
      [chainId, sender],
    );
    return rows[0] ? Number(rows[0].next_nonce) : undefined;
  }

  /** Nonces in [from, to) of `sender` that no stored request holds: must always be 0. */
  async nonceGaps(chainId: number, sender: Address, from: number, to: number): Promise<number> {
    if (to <= from) return 0;
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.t.requests} WHERE chain_id = $1 AND sender = $2 AND nonce >= $3 AND nonce < $4`,
      [chainId, sender, from, to],
    );
    return to - from - Number(rows[0]?.n ?? 0);
  }

  async hasUnsigned(chainId: number, sender: Address): Promise<boolean> {
    const { rows } = await this.db.query(
      `SELECT 1 FROM ${this.t.requests}
        WHERE chain_id = $1 AND sender = $2 AND status = 'queued' AND accepted_at IS NOT NULL AND nonce IS NULL LIMIT 1`,
      [chainId, sender],
    );
    return rows.length > 0;
  }

  /* ------------------------------------- transactions -------------------------------------- */

  /** Requests of `sender` with a nonce and no final receipt, lowest nonce first. */
  async open(chainId: number, sender: Address): Promise<RequestRow[]> {
    const { rows } = await this.db.query<RequestRow>(
      // Every column but the request body (the largest, and not needed to follow a transaction).
      `SELECT ${OPEN_COLUMNS}, NULL AS body FROM ${this.t.requests}
        WHERE chain_id = $1 AND sender = $2 AND status IN ('queued', 'submitted') AND nonce IS NOT NULL
        ORDER BY nonce`,
      [chainId, sender],
    );
    return rows;
  }

  async attempts(requestId: string): Promise<AttemptRow[]> {
    const { rows } = await this.db.query<AttemptRow>(
      `SELECT * FROM ${this.t.attempts} WHERE request_id = $1 ORDER BY n DESC`,
      [requestId],
    );
    return rows;
  }

  async latestAttempt(requestId: string): Promise<AttemptRow | undefined> {
    const { rows } = await this.db.query<AttemptRow>(
      `SELECT * FROM ${this.t.attempts} WHERE request_id = $1 ORDER BY n DESC LIMIT 1`,
      [requestId],
    );
    return rows[0];
  }

  /**
   * Records accepted broadcasts, many in one statement: submitted, sent times, and an audit entry
   * for each attempt's first accepted broadcast (not for re-sends).
   */
  async markBroadcastMany(sent: readonly { row: RequestRow; hash: string }[]): Promise<void> {
    if (sent.length === 0) return;
    // now() is the statement's transaction start: equal to broadcast_at only when this statement set it.
    await this.db.query(
      `WITH v AS (SELECT * FROM unnest($1::text[], $2::text[]) AS v(id, hash)),
       up AS (
         UPDATE ${this.t.requests} r
            SET status = CASE WHEN r.status = 'queued' THEN 'submitted' ELSE r.status END,
                first_sent_at = coalesce(r.first_sent_at, now()), last_sent_at = now(), error = NULL,
                updated_at = now()
           FROM v
          WHERE r.id = v.id AND r.status IN ('queued', 'submitted')
          RETURNING r.id, r.scope, r.agent_id, r.nonce),
       att AS (
         UPDATE ${this.t.attempts} a SET broadcast_at = coalesce(a.broadcast_at, now())
           FROM v
          WHERE a.hash = v.hash
          RETURNING a.request_id, a.hash, a.broadcast_at = now() AS first),
       audit AS (
         INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, detail, instance)
         SELECT up.id, up.scope, up.agent_id, 'broadcast', jsonb_build_object('hash', att.hash, 'nonce', up.nonce), $3
           FROM up JOIN att ON att.request_id = up.id
          WHERE att.first)
       SELECT 1`,
      [sent.map((x) => x.row.id), sent.map((x) => x.hash), this.instance],
    );
  }

  /** Records a refused or failed broadcast (the reason on the request, an audit entry). */
  async markBroadcastFailed(row: RequestRow, hash: string, error: string): Promise<void> {
    await this.db.query(
      `WITH up AS (
         UPDATE ${this.t.requests} SET last_sent_at = now(), error = $3, updated_at = now()
          WHERE id = $1 AND status IN ('queued', 'submitted')
          RETURNING id, scope, agent_id, nonce)
       INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, reason, detail, instance)
       SELECT id, scope, agent_id, 'broadcast_failed', $3, jsonb_build_object('hash', $2::text, 'nonce', nonce), $4
         FROM up`,
      [row.id, hash, error, this.instance],
    );
  }

  /** Stores a replacement (same nonce, higher fees) before it is broadcast. */
  async addReplacement(row: RequestRow, signed: Signed, reason: string): Promise<RequestRow | undefined> {
    return this.db.transaction(async (tx) => {
      const { rows: locked } = await tx.query<RequestRow>(
        `SELECT * FROM ${this.t.requests} WHERE id = $1 AND status IN ('queued', 'submitted') AND attempts = $2
           FOR UPDATE SKIP LOCKED`,
        [row.id, row.attempts],
      );
      if (!locked[0]) return undefined; // finished, or another instance replaced it first
      await tx.query(
        `INSERT INTO ${this.t.attempts} (request_id, n, hash, raw_tx, max_fee_per_gas, max_priority_fee_per_gas)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [row.id, row.attempts, signed.hash, signed.raw, signed.fees.maxFeePerGas, tipOf(signed.fees)],
      );
      const { rows } = await tx.query<RequestRow>(
        `UPDATE ${this.t.requests}
            SET hash = $2, attempts = attempts + 1, max_fee_per_gas = $3, max_priority_fee_per_gas = $4,
                last_signed_at = now(), updated_at = now()
          WHERE id = $1
          RETURNING *`,
        [row.id, signed.hash, signed.fees.maxFeePerGas, tipOf(signed.fees)],
      );
      await this.audit(
        {
          requestId: row.id,
          scope: row.scope,
          agentId: row.agent_id,
          event: "replaced",
          reason,
          detail: {
            nonce: row.nonce,
            replaces: row.hash,
            hash: signed.hash,
            attempt: row.attempts,
            maxFeePerGas: signed.fees.maxFeePerGas.toString(),
            maxPriorityFeePerGas: tipOf(signed.fees)?.toString(),
          },
        },
        tx,
      );
      return rows[0];
    });
  }

  async reportStuck(row: RequestRow, reason: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        `UPDATE ${this.t.requests} SET stuck_reported = true, error = $2, updated_at = now()
          WHERE id = $1 AND NOT stuck_reported AND status IN ('queued', 'submitted')`,
        [row.id, `stuck: ${reason}`],
      );
      if (rowCount > 0) {
        await this.audit(
          {
            requestId: row.id,
            scope: row.scope,
            agentId: row.agent_id,
            event: "stuck",
            reason,
            detail: { nonce: row.nonce, hash: row.hash },
          },
          tx,
        );
      }
    });
  }

  async markSeen(row: RequestRow, seen: { block: bigint; blockHash: Hash; hash: Hash } | undefined): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.requests}
          SET seen_block = $2, seen_block_hash = $3, seen_hash = $4,
              status = CASE WHEN $2::bigint IS NOT NULL AND status = 'queued' THEN 'submitted' ELSE status END,
              first_sent_at = CASE WHEN $2::bigint IS NOT NULL THEN coalesce(first_sent_at, now()) ELSE first_sent_at END,
              updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'submitted')`,
      [row.id, seen?.block ?? null, seen?.blockHash ?? null, seen?.hash ?? null],
    );
  }

  /**
   * Final states from receipts deep enough (or nonces taken by foreign transactions), many in one
   * statement: the rows, an audit entry each and, for a transaction sent for an agent, its gas.
   * Returns the rows that were still open (the others were finished already, e.g. by another instance).
   */
  async finishMany(finals: readonly Final[]): Promise<RequestRow[]> {
    if (finals.length === 0) return [];
    const col = <T>(f: (x: Final) => T) => finals.map(f);
    const { rows } = await this.db.query<RequestRow>(
      `WITH v AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::numeric[], $6::bigint[], $7::text[],
                              $8::text[], $9::text[], $10::boolean[])
           AS v(id, status, hash, gas_used, egp, block_number, block_hash, revert_reason, error, mined)),
       up AS (
         UPDATE ${this.t.requests} r
            SET status = v.status, hash = coalesce(v.hash, r.hash), gas_used = v.gas_used, effective_gas_price = v.egp,
                block_number = v.block_number, block_hash = v.block_hash, revert_reason = v.revert_reason,
                error = v.error, seen_block = NULL, seen_block_hash = NULL, seen_hash = NULL, finished_at = now(),
                updated_at = now()
           FROM v
          WHERE r.id = v.id AND r.status IN ('queued', 'submitted')
          RETURNING r.*),
       audit AS (
         INSERT INTO ${this.t.audit} (request_id, scope, agent_id, event, reason, detail, instance)
         SELECT up.id, up.scope, up.agent_id, up.status, coalesce(up.revert_reason, up.error),
                jsonb_strip_nulls(jsonb_build_object('hash', up.hash, 'nonce', up.nonce, 'block', up.block_number::text,
                  'gasUsed', up.gas_used::text, 'effectiveGasPrice', up.effective_gas_price::text)),
                $11
           FROM up),
       gas AS (
         INSERT INTO ${this.t.gas} (request_id, agent_id, kind, hash, block_number, gas_used, effective_gas_price, cost_wei)
         SELECT up.id, up.agent_id, up.kind, up.hash, up.block_number, up.gas_used, up.effective_gas_price,
                up.gas_used::numeric * up.effective_gas_price
           FROM up JOIN v ON v.id = up.id
          WHERE up.agent_id IS NOT NULL AND v.mined
         ON CONFLICT (request_id) DO NOTHING)
       SELECT * FROM up`,
      [
        col((f) => f.row.id),
        col((f) => f.status),
        col((f) => f.hash ?? null),
        col((f) => f.gasUsed?.toString() ?? null),
        col((f) => f.effectiveGasPrice?.toString() ?? null),
        col((f) => f.blockNumber?.toString() ?? null),
        col((f) => f.blockHash ?? null),
        col((f) => f.revertReason ?? null),
        col((f) => f.error ?? null),
        col((f) => f.gasUsed !== undefined && f.effectiveGasPrice !== undefined && f.hash !== undefined),
        this.instance,
      ],
    );
    return rows;
  }

  /* ------------------------------------ agents and gas ------------------------------------- */

  /**
   * The agent's circuit-breaker block, if any; otherwise counts one request of the agent in the
   * current rate window and returns the count so far in it. One statement.
   */
  async admit(
    agentId: bigint,
    windowMs: number,
  ): Promise<
    | { blocked: { code: string; reason: string; tripped_at: Date } }
    | { blocked: undefined; count: number; resetInMs: number }
  > {
    const { rows } = await this.db.query<{
      code: string | null;
      reason: string | null;
      tripped_at: Date | null;
      requests: number | null;
      reset_ms: string | null;
    }>(
      `WITH b AS (SELECT code, reason, tripped_at FROM ${this.t.blocks} WHERE agent_id = $1),
            r AS (
              INSERT INTO ${this.t.rate} AS w (agent_id, window_start, requests)
              SELECT $1, to_timestamp(floor(extract(epoch FROM now()) * 1000 / $2) * $2 / 1000.0), 1
               WHERE NOT EXISTS (SELECT 1 FROM b)
              ON CONFLICT (agent_id, window_start) DO UPDATE SET requests = w.requests + 1
              RETURNING requests,
                (extract(epoch FROM window_start) * 1000 + $2 - extract(epoch FROM now()) * 1000)::bigint AS reset_ms)
       SELECT b.code, b.reason, b.tripped_at, r.requests, r.reset_ms
         FROM (SELECT 1) AS one LEFT JOIN b ON true LEFT JOIN r ON true`,
      [agentId, windowMs],
    );
    const row = rows[0]!;
    if (row.code !== null) {
      return { blocked: { code: row.code, reason: row.reason ?? "", tripped_at: row.tripped_at! } };
    }
    return { blocked: undefined, count: Number(row.requests), resetInMs: Math.max(0, Number(row.reset_ms)) };
  }

  /** Drops finished rate windows (they only matter while current). */
  async pruneRateWindows(windowMs: number): Promise<void> {
    await this.db.query(`DELETE FROM ${this.t.rate} WHERE window_start < now() - 2 * $1 * interval '1 millisecond'`, [
      windowMs,
    ]);
  }

  async block(
    agentId: bigint,
  ): Promise<{ code: string; reason: string; tripped_at: Date; freeze_request_id: string | null } | undefined> {
    const { rows } = await this.db.query<{
      code: string;
      reason: string;
      tripped_at: Date;
      freeze_request_id: string | null;
    }>(`SELECT code, reason, tripped_at, freeze_request_id FROM ${this.t.blocks} WHERE agent_id = $1`, [agentId]);
    return rows[0];
  }

  /** Blocks an agent; false when it was already blocked (by this or another instance). */
  async tripBreaker(agentId: bigint, code: string, reason: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(
        `INSERT INTO ${this.t.blocks} (agent_id, code, reason, instance) VALUES ($1, $2, $3, $4)
         ON CONFLICT (agent_id) DO NOTHING`,
        [agentId, code, reason, this.instance],
      );
      if (rowCount > 0) {
        await this.audit({ scope: `agent:${agentId}`, agentId, event: "breaker_tripped", code, reason }, tx);
      }
      return rowCount > 0;
    });
  }

  async setFreezeRequest(agentId: bigint, requestId: string): Promise<void> {
    await this.db.query(`UPDATE ${this.t.blocks} SET freeze_request_id = $2 WHERE agent_id = $1`, [agentId, requestId]);
  }

  /** Lifts a block (an operator decision after the owners unfroze the agent on-chain). */
  async clearBlock(agentId: bigint, reason: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const { rowCount } = await tx.query(`DELETE FROM ${this.t.blocks} WHERE agent_id = $1`, [agentId]);
      if (rowCount > 0) await this.audit({ scope: `agent:${agentId}`, agentId, event: "breaker_cleared", reason }, tx);
      return rowCount > 0;
    });
  }

  /* --------------------------------------- anomalies --------------------------------------- */

  /** Stores an anomaly to report (once per key). */
  async addAnomaly(
    agentId: bigint,
    signal: AnomalySignal,
    key: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.t.anomalies} (agent_id, signal, key, detail) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO NOTHING`,
      [agentId, signal, key, JSON.stringify(detail, bigintJson)],
    );
  }

  async unsentAnomalies(limit: number): Promise<AnomalyRow[]> {
    const { rows } = await this.db.query<AnomalyRow>(
      `SELECT id, agent_id, signal, key, detail, attempts FROM ${this.t.anomalies}
        WHERE sent_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows;
  }

  async anomalySent(id: string, error?: string): Promise<void> {
    await this.db.query(
      error === undefined
        ? `UPDATE ${this.t.anomalies} SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1`
        : `UPDATE ${this.t.anomalies} SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
      error === undefined ? [id] : [id, error.slice(0, 500)],
    );
  }

  /** Gas paid for an agent's transactions: totals, and what is not yet charged to its budget. */
  async agentGas(agentId: bigint): Promise<{
    transactions: number;
    gasUsed: bigint;
    costWei: bigint;
    unchargedTransactions: number;
    unchargedWei: bigint;
  }> {
    const { rows } = await this.db.query<{
      n: string;
      gas: string | null;
      cost: string | null;
      un: string;
      uncost: string | null;
    }>(
      `SELECT count(*) AS n, sum(gas_used) AS gas, sum(cost_wei) AS cost,
              count(*) FILTER (WHERE charged_at IS NULL) AS un,
              sum(cost_wei) FILTER (WHERE charged_at IS NULL) AS uncost
         FROM ${this.t.gas} WHERE agent_id = $1`,
      [agentId],
    );
    const r = rows[0]!;
    return {
      transactions: Number(r.n),
      gasUsed: BigInt(r.gas ?? "0"),
      costWei: BigInt(r.cost ?? "0"),
      unchargedTransactions: Number(r.un),
      unchargedWei: BigInt(r.uncost ?? "0"),
    };
  }

  /** Counts by status, for the pending gauge. */
  async statusCounts(): Promise<Record<string, number>> {
    const { rows } = await this.db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.t.requests} WHERE status IN ('queued', 'submitted') GROUP BY status`,
    );
    const out: Record<string, number> = { queued: 0, submitted: 0 };
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }
}

export function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

/** The priority fee to store: null marks a legacy (gasPrice) transaction. */
function tipOf(fees: Fees): bigint | null {
  return fees.type === "legacy" ? null : fees.maxPriorityFeePerGas;
}
