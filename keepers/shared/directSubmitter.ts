import { randomUUID } from "node:crypto";
import pino from "pino";
import {
  type Abi,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
} from "viem";
import type { Confirmations } from "./config";
import { classifyError, RpcError, StoreError, SubmitError, shortMessageOf } from "./errors";
import { type Logger, withContext } from "./logger";
import type { Metrics } from "./metrics";
import { sleep } from "./retry";
import { decodeRevertData, revertReasonOf } from "./revert";
import { ident, type Queryable, type Store } from "./store";
import {
  intentHash,
  isTerminal,
  parseTxIntent,
  type Submitter,
  type TxIntent,
  type TxRecord,
  type TxStatus,
  type WaitOptions,
} from "./submitter";

/*
 * The Submitter that signs with the keeper's own key.
 *
 * Exactly once per key, across crashes: the nonce is taken, the transaction signed and the raw bytes
 * and hash stored in ONE database transaction, and only after that commit is anything broadcast.
 * Whatever happens next (crash, lost response, RPC down), the row tells a restarted keeper which
 * signed transaction to look for and, if the chain has not seen it, to broadcast again — the same
 * bytes, so at most one transaction can ever be mined for the key.
 *
 * Nonces: the next nonce is max(stored next nonce, the chain's pending count), taken under a row
 * lock, so instances sharing one PostgreSQL never reuse one; every nonce taken belongs to a stored
 * signed transaction that is rebroadcast until mined, so no gap is left behind.
 *
 * Not done here (the tx-executor's job): replacing a stuck transaction with a higher fee. Fees are
 * set to 2 × base fee + tip, which survives several full blocks of rising base fee.
 */

export type DirectSubmitterOptions = {
  store: Store;
  /** The keeper's shared schema (from `migrateShared`). */
  schema: string;
  publicClient: PublicClient<Transport, Chain>;
  account: LocalAccount;
  /** Depth before a mined transaction is reported confirmed or failed. */
  confirmations: Confirmations;
  /** Errors of the contracts this keeper calls, to decode custom-error reverts. */
  errorAbi?: Abi;
  /** Added to the gas estimate (default 20 %). */
  gasMarginPercent?: number;
  /** Never sign with a higher max fee per gas (wei); above it, submit throws a retryable FEE_CAP_EXCEEDED. */
  maxFeePerGasCap?: bigint;
  /** State the simulation runs against (default "pending", so that a keeper's consecutive intents see each other). */
  simulateAt?: "pending" | "latest";
  /** A submitted transaction the node no longer knows is broadcast again after this long (default 15 s). */
  rebroadcastAfterMs?: number;
  logger?: Logger;
  metrics?: Metrics;
};

type TxRow = {
  id: string;
  key: string;
  intent_hash: string;
  chain_id: string;
  sender: string;
  to_address: string;
  data: string;
  value: string;
  gas_limit: string | null;
  label: string | null;
  agent_id: string | null;
  status: TxStatus;
  nonce: string | null;
  raw_tx: string | null;
  hash: string | null;
  gas_used: string | null;
  effective_gas_price: string | null;
  block_number: string | null;
  block_hash: string | null;
  revert_reason: string | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
};

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

export type RecoverResult = { open: number; broadcast: number; finished: number };

export class DirectSubmitter implements Submitter {
  readonly address: Address;
  readonly chainId: number;
  private readonly o: DirectSubmitterOptions;
  private readonly t: { txs: string; nonces: string };
  private readonly keyLocks = new Map<string, Promise<unknown>>();
  private readonly lastBroadcast = new Map<string, number>();
  private readonly m?: {
    txs: ReturnType<Metrics["counter"]>;
    broadcastErrors: ReturnType<Metrics["counter"]>;
  };

  constructor(options: DirectSubmitterOptions) {
    this.o = options;
    this.address = options.account.address;
    this.chainId = options.publicClient.chain.id;
    this.t = { txs: `${ident(options.schema)}.txs`, nonces: `${ident(options.schema)}.nonces` };
    if (options.metrics) {
      this.m = {
        txs: options.metrics.counter("submitter_transactions_total", "Transactions by final status", ["status"]),
        broadcastErrors: options.metrics.counter("submitter_broadcast_errors_total", "Broadcasts refused or failed", [
          "kind",
        ]),
      };
    }
  }

  /** A submitter that has already finished (or re-broadcast) what a previous run left open. */
  static async start(options: DirectSubmitterOptions): Promise<DirectSubmitter> {
    const s = new DirectSubmitter(options);
    await s.recover();
    return s;
  }

  async get(idOrKey: string): Promise<TxRecord | undefined> {
    const { rows } = await this.o.store.query<TxRow>(
      `SELECT * FROM ${this.t.txs} WHERE id = $1 OR key = $1 ORDER BY (id = $1) DESC LIMIT 1`,
      [idOrKey],
    );
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Open (queued or submitted) transactions of this sender, oldest nonce first. */
  async open(): Promise<TxRecord[]> {
    const { rows } = await this.o.store.query<TxRow>(
      `SELECT * FROM ${this.t.txs} WHERE chain_id = $1 AND sender = $2 AND status IN ('queued', 'submitted') ORDER BY nonce`,
      [this.chainId, this.address],
    );
    return rows.map(toRecord);
  }

  submit(input: TxIntent): Promise<TxRecord> {
    const intent = parseTxIntent(input);
    // One submission per key at a time in this process; other processes are handled by the
    // unique key and the row locks below.
    const previous = this.keyLocks.get(intent.key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.submitOnce(intent));
    this.keyLocks.set(intent.key, run);
    void run
      .finally(() => {
        if (this.keyLocks.get(intent.key) === run) this.keyLocks.delete(intent.key);
      })
      .catch(() => undefined);
    return run;
  }

  async wait(id: string, options: WaitOptions = {}): Promise<TxRecord> {
    const deadline = Date.now() + (options.timeoutMs ?? 300_000);
    const poll = options.pollIntervalMs ?? 1_000;
    for (;;) {
      const record = await this.get(id);
      if (!record) throw new SubmitError(`no transaction ${id}`, { code: "TX_NOT_FOUND", retryable: false });
      if (isTerminal(record.status)) return record;
      let advanced = record;
      try {
        advanced = await this.advance(record, options.confirmations);
      } catch (err) {
        // An RPC or database hiccup while waiting is no reason to give up before the deadline.
        if (!classifyError(err).retryable) throw err;
        this.o.logger?.debug({ err, txId: id }, "transient error while waiting; polling on");
      }
      if (isTerminal(advanced.status)) return advanced;
      if (Date.now() >= deadline) {
        throw new SubmitError(`transaction ${id} is still ${advanced.status} after waiting`, {
          code: "WAIT_TIMEOUT",
          retryable: true,
          details: "",
          meta: { id, key: advanced.key, hash: advanced.hash, status: advanced.status },
        });
      }
      await sleep(Math.min(poll, Math.max(0, deadline - Date.now())), options.signal);
    }
  }

  /**
   * Moves every open transaction one step: finishes mined ones that are deep enough, broadcasts
   * signed ones the node does not know. Run at start and on every tick.
   */
  async recover(): Promise<RecoverResult> {
    const open = await this.open();
    let broadcast = 0;
    let finished = 0;
    for (const record of open) {
      const before = record.status;
      const after = await this.advance(record, undefined, true);
      if (isTerminal(after.status)) finished++;
      else if (before === "queued" && after.status === "submitted") broadcast++;
    }
    if (open.length > 0)
      this.o.logger?.info({ open: open.length, broadcast, finished }, "submitter recovered open transactions");
    return { open: open.length, broadcast, finished };
  }

  /* ------------------------------------------------------------------------------------------ */

  private async submitOnce(intent: TxIntent): Promise<TxRecord> {
    const hash = intentHash(intent);
    const existing = await this.get(intent.key);
    if (existing) {
      await this.assertSameIntent(existing.id, hash, intent.key);
      if (existing.status !== "rejected") {
        return existing.status === "queued" ? this.advance(existing) : existing;
      }
    }
    const log = withContext(this.o.logger ?? noopLogger, { txKey: intent.key, agentId: intent.agentId });

    // 1. Simulate: a revert here costs nothing and is reported with its reason.
    const simulation = await this.simulate(intent);
    if (simulation.kind === "rejected") {
      log.warn(
        { revertReason: simulation.revertReason, error: simulation.error },
        "transaction rejected by simulation",
      );
      return this.storeRejection(intent, hash, simulation);
    }
    const gas = intent.gas ?? (simulation.gasEstimate * BigInt(100 + (this.o.gasMarginPercent ?? 20))) / 100n;
    const fees = await this.fees();
    const maxFee = "gasPrice" in fees ? fees.gasPrice : fees.maxFeePerGas;
    const balance = await this.o.publicClient.getBalance({ address: this.address });
    const needed = (intent.value ?? 0n) + gas * maxFee;
    if (balance < needed) {
      const error = `insufficient funds: ${this.address} has ${balance} wei, needs up to ${needed} wei`;
      log.error({ balance: balance.toString(), needed: needed.toString() }, "transaction rejected: insufficient funds");
      return this.storeRejection(intent, hash, { error });
    }

    // 2. Take a nonce, sign, store — one database transaction, before any broadcast.
    const chainPending = await this.o.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
    let row: TxRow;
    try {
      row = await this.o.store.transaction((tx) => this.signAndStore(tx, intent, hash, gas, fees, chainPending));
    } catch (err) {
      if (err instanceof StoreError && err.sqlState === "23505") {
        // Another instance stored this key between our read and our insert: theirs stands.
        const winner = await this.get(intent.key);
        if (winner) {
          await this.assertSameIntent(winner.id, hash, intent.key);
          return winner;
        }
      }
      throw err;
    }
    const record = toRecord(row);
    withContext(log, { txId: record.id }).info(
      { nonce: record.nonce, hash: record.hash },
      "transaction signed and stored",
    );

    // 3. Broadcast. A failure here leaves the row queued; wait()/recover() broadcast it again.
    return this.broadcast(record);
  }

  private async assertSameIntent(id: string, hash: string, key: string): Promise<void> {
    const { rows } = await this.o.store.query<{ intent_hash: string }>(
      `SELECT intent_hash FROM ${this.t.txs} WHERE id = $1`,
      [id],
    );
    if (rows[0] && rows[0].intent_hash !== hash) {
      throw new SubmitError(`idempotency key ${key} was already used for a different transaction`, {
        code: "IDEMPOTENCY_CONFLICT",
        retryable: false,
        details: "",
        meta: { id },
      });
    }
  }

  private async simulate(
    intent: TxIntent,
  ): Promise<{ kind: "ok"; gasEstimate: bigint } | { kind: "rejected"; revertReason?: string; error?: string }> {
    const request = { account: this.address, to: intent.to, data: intent.data, value: intent.value ?? 0n };
    try {
      const blockTag = this.o.simulateAt ?? "pending";
      await this.o.publicClient.call({ ...request, gas: intent.gas, blockTag });
      const gasEstimate = intent.gas ?? (await this.o.publicClient.estimateGas({ ...request, blockTag }));
      return { kind: "ok", gasEstimate };
    } catch (err) {
      const c = classifyError(err);
      if (c.kind === "revert")
        return { kind: "rejected", revertReason: revertReasonOf(err, this.o.errorAbi) ?? shortMessageOf(err) };
      if (/insufficient funds/i.test(String((err as Error).message))) {
        return { kind: "rejected", error: `insufficient funds for value ${intent.value ?? 0n} wei` };
      }
      throw RpcError.from(err, "simulation failed");
    }
  }

  private async fees(): Promise<Fees> {
    const client = this.o.publicClient;
    const block = await client.getBlock({ blockTag: "latest" });
    const cap = this.o.maxFeePerGasCap;
    if (block.baseFeePerGas === null || block.baseFeePerGas === undefined) {
      const gasPrice = ((await client.getGasPrice()) * 11n) / 10n;
      if (cap !== undefined && gasPrice > cap) throw feeCapError(gasPrice, cap);
      return { gasPrice };
    }
    const tip = await client.estimateMaxPriorityFeePerGas();
    let maxFeePerGas = block.baseFeePerGas * 2n + tip;
    if (cap !== undefined && maxFeePerGas > cap) {
      // Sign at the cap while it still covers the current base fee and tip; otherwise wait.
      if (block.baseFeePerGas + tip > cap) throw feeCapError(block.baseFeePerGas + tip, cap);
      maxFeePerGas = cap;
    }
    return { maxFeePerGas, maxPriorityFeePerGas: tip };
  }

  private async signAndStore(
    tx: Queryable,
    intent: TxIntent,
    hash: string,
    gas: bigint,
    fees: Fees,
    chainPending: number,
  ): Promise<TxRow> {
    const existing = (await tx.query<TxRow>(`SELECT * FROM ${this.t.txs} WHERE key = $1 FOR UPDATE`, [intent.key]))
      .rows[0];
    if (existing && existing.status !== "rejected") return existing;
    await tx.query(
      `INSERT INTO ${this.t.nonces} (chain_id, address, next_nonce) VALUES ($1, $2, $3) ON CONFLICT (chain_id, address) DO NOTHING`,
      [this.chainId, this.address, chainPending],
    );
    const { rows } = await tx.query<{ next_nonce: string }>(
      `SELECT next_nonce FROM ${this.t.nonces} WHERE chain_id = $1 AND address = $2 FOR UPDATE`,
      [this.chainId, this.address],
    );
    const stored = Number(rows[0]!.next_nonce);
    const nonce = Math.max(stored, chainPending);
    const raw = await this.o.account.signTransaction({
      chainId: this.chainId,
      nonce,
      to: intent.to,
      data: intent.data,
      value: intent.value ?? 0n,
      gas,
      ...("gasPrice" in fees
        ? { type: "legacy" as const, gasPrice: fees.gasPrice }
        : { type: "eip1559" as const, ...fees }),
    });
    const txHash = keccak256(raw);
    const maxFee = "gasPrice" in fees ? fees.gasPrice : fees.maxFeePerGas;
    const tip = "gasPrice" in fees ? null : fees.maxPriorityFeePerGas;
    let saved: TxRow | undefined;
    if (existing) {
      saved = (
        await tx.query<TxRow>(
          `UPDATE ${this.t.txs}
              SET status = 'queued', nonce = $2, raw_tx = $3, hash = $4, gas_limit = $5, max_fee_per_gas = $6,
                  max_priority_fee_per_gas = $7, revert_reason = NULL, error = NULL, updated_at = now()
            WHERE id = $1 AND status = 'rejected'
            RETURNING *`,
          [existing.id, nonce, raw, txHash, gas, maxFee, tip],
        )
      ).rows[0];
    } else {
      saved = (
        await tx.query<TxRow>(
          `INSERT INTO ${this.t.txs}
             (id, key, intent_hash, chain_id, sender, to_address, data, value, gas_limit, label, agent_id, status,
              nonce, raw_tx, hash, max_fee_per_gas, max_priority_fee_per_gas)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', $12, $13, $14, $15, $16)
           RETURNING *`,
          [
            randomUUID(),
            intent.key,
            hash,
            this.chainId,
            this.address,
            intent.to,
            intent.data,
            intent.value ?? 0n,
            gas,
            intent.label ?? null,
            intent.agentId ?? null,
            nonce,
            raw,
            txHash,
            maxFee,
            tip,
          ],
        )
      ).rows[0];
    }
    await tx.query(
      `UPDATE ${this.t.nonces} SET next_nonce = $3, updated_at = now() WHERE chain_id = $1 AND address = $2`,
      [this.chainId, this.address, nonce + 1],
    );
    if (!saved)
      throw new StoreError("could not store the signed transaction", { code: "STORE_TX_LOST", retryable: true });
    return saved;
  }

  private async storeRejection(
    intent: TxIntent,
    hash: string,
    r: { revertReason?: string; error?: string },
  ): Promise<TxRecord> {
    const { rows } = await this.o.store.query<TxRow>(
      `INSERT INTO ${this.t.txs}
         (id, key, intent_hash, chain_id, sender, to_address, data, value, gas_limit, label, agent_id, status, revert_reason, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'rejected', $12, $13)
       ON CONFLICT (key) DO UPDATE
         SET revert_reason = excluded.revert_reason, error = excluded.error, updated_at = now()
         WHERE ${this.t.txs}.status = 'rejected'
       RETURNING *`,
      [
        randomUUID(),
        intent.key,
        hash,
        this.chainId,
        this.address,
        intent.to,
        intent.data,
        intent.value ?? 0n,
        intent.gas ?? null,
        intent.label ?? null,
        intent.agentId ?? null,
        r.revertReason ?? null,
        r.error ?? null,
      ],
    );
    this.m?.txs.inc({ status: "rejected" });
    if (rows[0]) return toRecord(rows[0]);
    // Raced with a successful submission of the same key: that one stands.
    const winner = await this.get(intent.key);
    if (!winner) throw new StoreError("transaction row vanished", { code: "STORE_TX_LOST", retryable: true });
    return winner;
  }

  /** Sends the stored raw transaction; never signs anything new. */
  private async broadcast(record: TxRecord): Promise<TxRecord> {
    const { rows } = await this.o.store.query<{ raw_tx: Hex }>(`SELECT raw_tx FROM ${this.t.txs} WHERE id = $1`, [
      record.id,
    ]);
    const raw = rows[0]?.raw_tx;
    if (!raw || !record.hash) return record;
    this.lastBroadcast.set(record.id, Date.now());
    const log = withContext(this.o.logger ?? noopLogger, { txId: record.id, agentId: record.agentId });
    try {
      await this.o.publicClient.sendRawTransaction({ serializedTransaction: raw });
      return this.markSubmitted(record.id, null);
    } catch (err) {
      const text = `${(err as Error).message ?? ""} ${shortMessageOf(err)}`;
      if (
        /already known|known transaction|already imported|already in the mempool|transaction already exists/i.test(text)
      ) {
        return this.markSubmitted(record.id, null);
      }
      if (/nonce too low|nonce has already been used|nonce is too low|oldnonce/i.test(text)) {
        return this.handleNonceTaken(record);
      }
      const c = classifyError(err);
      this.m?.broadcastErrors.inc({ kind: c.kind });
      const message = shortMessageOf(err);
      if (c.retryable) log.warn({ err, hash: record.hash }, "broadcast failed, will retry");
      else
        log.error(
          { err, hash: record.hash, nonce: record.nonce },
          "broadcast refused; the nonce stays reserved for this transaction",
        );
      const { rows: updated } = await this.o.store.query<TxRow>(
        `UPDATE ${this.t.txs} SET error = $2, updated_at = now() WHERE id = $1 RETURNING *`,
        [record.id, `broadcast failed: ${message}`],
      );
      return updated[0] ? toRecord(updated[0]) : record;
    }
  }

  private async markSubmitted(id: string, error: string | null): Promise<TxRecord> {
    const { rows } = await this.o.store.query<TxRow>(
      `UPDATE ${this.t.txs}
          SET status = CASE WHEN status = 'queued' THEN 'submitted' ELSE status END,
              broadcasts = broadcasts + 1, error = $2, updated_at = now()
        WHERE id = $1
        RETURNING *`,
      [id, error],
    );
    return toRecord(rows[0]!);
  }

  /** The node says our nonce is used: either by this very transaction (mined) or by another one. */
  private async handleNonceTaken(record: TxRecord): Promise<TxRecord> {
    const receipt = await this.receipt(record.hash!);
    if (receipt) return this.markSubmitted(record.id, null);
    // A node that still knows our transaction (or a lagging receipt index) means it is not lost.
    const known = await this.o.publicClient.getTransaction({ hash: record.hash! }).catch(() => undefined);
    if (known) return this.markSubmitted(record.id, null);
    const mined = await this.o.publicClient.getTransactionCount({ address: this.address, blockTag: "latest" });
    if (record.nonce !== undefined && mined > record.nonce) {
      const error = `nonce ${record.nonce} was used by another transaction; this one can never be mined`;
      this.o.logger?.error({ txId: record.id, nonce: record.nonce }, error);
      return this.finish(record.id, "failed", { error });
    }
    return record;
  }

  /** One step towards a terminal state for an open record. */
  private async advance(record: TxRecord, confirmations?: Confirmations, recovering = false): Promise<TxRecord> {
    if (isTerminal(record.status) || !record.hash) return record;
    const receipt = await this.receipt(record.hash);
    if (receipt) {
      if (!(await this.isDeepEnough(receipt, confirmations ?? this.o.confirmations))) {
        return record.status === "queued" ? this.markSubmitted(record.id, null) : record;
      }
      return this.finalize(record, receipt);
    }
    if (record.status === "queued") return this.broadcast(record);
    const last = this.lastBroadcast.get(record.id) ?? 0;
    if (recovering || Date.now() - last >= (this.o.rebroadcastAfterMs ?? 15_000)) {
      const known = await this.o.publicClient.getTransaction({ hash: record.hash }).catch(() => undefined);
      if (!known) return this.broadcast(record);
      this.lastBroadcast.set(record.id, Date.now());
    }
    return record;
  }

  private async receipt(hash: Hash): Promise<TransactionReceipt | undefined> {
    try {
      return await this.o.publicClient.getTransactionReceipt({ hash });
    } catch (err) {
      if ((err as { name?: string }).name === "TransactionReceiptNotFoundError") return undefined;
      throw RpcError.from(err, "cannot read the transaction receipt");
    }
  }

  private async isDeepEnough(receipt: TransactionReceipt, confirmations: Confirmations): Promise<boolean> {
    const client = this.o.publicClient;
    if (confirmations === "finalized") {
      const finalized = await client.getBlock({ blockTag: "finalized" });
      if (finalized.number < receipt.blockNumber) return false;
    } else {
      const head = await client.getBlockNumber();
      if (head - receipt.blockNumber + 1n < BigInt(Math.max(1, confirmations))) return false;
    }
    // The receipt must still be in the canonical chain (a node may serve a stale one after a reorg).
    const block = await client.getBlock({ blockNumber: receipt.blockNumber });
    return block.hash === receipt.blockHash;
  }

  private async finalize(record: TxRecord, receipt: TransactionReceipt): Promise<TxRecord> {
    const ok = receipt.status === "success";
    const revertReason = ok ? null : await this.failureReason(record, receipt);
    const result = await this.finish(record.id, ok ? "confirmed" : "failed", {
      gasUsed: receipt.gasUsed,
      effectiveGasPrice: receipt.effectiveGasPrice,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      revertReason,
    });
    const log = withContext(this.o.logger ?? noopLogger, { txId: record.id, agentId: record.agentId });
    if (ok) log.info({ hash: record.hash, block: receipt.blockNumber.toString() }, "transaction confirmed");
    else log.error({ hash: record.hash, revertReason }, "transaction reverted on chain");
    return result;
  }

  private async finish(
    id: string,
    status: "confirmed" | "failed",
    f: {
      gasUsed?: bigint;
      effectiveGasPrice?: bigint;
      blockNumber?: bigint;
      blockHash?: Hash;
      revertReason?: string | null;
      error?: string;
    },
  ): Promise<TxRecord> {
    const { rows } = await this.o.store.query<TxRow>(
      `UPDATE ${this.t.txs}
          SET status = $2, gas_used = $3, effective_gas_price = $4, block_number = $5, block_hash = $6,
              revert_reason = $7, error = $8, updated_at = now()
        WHERE id = $1 AND status IN ('queued', 'submitted')
        RETURNING *`,
      [
        id,
        status,
        f.gasUsed ?? null,
        f.effectiveGasPrice ?? null,
        f.blockNumber ?? null,
        f.blockHash ?? null,
        f.revertReason ?? null,
        f.error ?? null,
      ],
    );
    this.lastBroadcast.delete(id);
    if (rows[0]) {
      this.m?.txs.inc({ status });
      return toRecord(rows[0]);
    }
    const current = await this.get(id);
    if (!current) throw new StoreError(`transaction ${id} vanished`, { code: "STORE_TX_LOST", retryable: false });
    return current;
  }

  /**
   * Why a mined transaction reverted. Replaying the call on the parent block finds most reasons; a
   * revert caused by an earlier transaction of the same block needs a trace, which not every
   * provider offers.
   */
  private async failureReason(record: TxRecord, receipt: TransactionReceipt): Promise<string> {
    const client = this.o.publicClient;
    if (record.gas !== undefined && receipt.gasUsed === record.gas) return `out of gas (used all ${record.gas} gas)`;
    try {
      await client.call({
        account: record.from,
        to: record.to,
        data: record.data,
        value: record.value,
        gas: record.gas,
        blockNumber: receipt.blockNumber - 1n,
      });
    } catch (err) {
      const reason = revertReasonOf(err, this.o.errorAbi);
      if (reason) return reason;
    }
    try {
      const trace = (await client.request({
        method: "debug_traceTransaction" as never,
        params: [record.hash, { disableStorage: true, disableMemory: true, disableStack: true }] as never,
      })) as { failed?: boolean; returnValue?: string };
      if (trace?.failed && typeof trace.returnValue === "string") {
        const data = (trace.returnValue.startsWith("0x") ? trace.returnValue : `0x${trace.returnValue}`) as Hex;
        return decodeRevertData(data, this.o.errorAbi);
      }
    } catch {
      // Most public RPCs do not offer debug_traceTransaction.
    }
    return "reverted (reason unavailable: the replay succeeded and the node offers no trace)";
  }
}

function feeCapError(fee: bigint, cap: bigint): SubmitError {
  return new SubmitError(`gas price ${fee} wei is above the cap of ${cap} wei`, {
    code: "FEE_CAP_EXCEEDED",
    retryable: true,
    details: "",
  });
}

function toRecord(r: TxRow): TxRecord {
  const record: TxRecord = {
    id: r.id,
    key: r.key,
    status: r.status,
    chainId: Number(r.chain_id),
    from: r.sender as Address,
    to: r.to_address as Address,
    data: r.data as Hex,
    value: BigInt(r.value),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.gas_limit !== null) record.gas = BigInt(r.gas_limit);
  if (r.label !== null) record.label = r.label;
  if (r.agent_id !== null) record.agentId = r.agent_id;
  if (r.hash !== null) record.hash = r.hash as Hash;
  if (r.nonce !== null) record.nonce = Number(r.nonce);
  if (r.gas_used !== null) record.gasUsed = BigInt(r.gas_used);
  if (r.effective_gas_price !== null) record.effectiveGasPrice = BigInt(r.effective_gas_price);
  if (r.block_number !== null) record.blockNumber = BigInt(r.block_number);
  if (r.block_hash !== null) record.blockHash = r.block_hash as Hash;
  if (r.revert_reason !== null) record.revertReason = r.revert_reason;
  if (r.error !== null) record.error = r.error;
  return record;
}

const noopLogger: Logger = pino({ enabled: false });
