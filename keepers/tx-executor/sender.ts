import {
  type Abi,
  type Address,
  type Hash,
  type Hex,
  keccak256,
  type LocalAccount,
  type TransactionReceipt,
} from "viem";
import {
  type ChainConnection,
  type Confirmations,
  classifyError,
  type Logger,
  RpcError,
  revertReasonOf,
  shortMessageOf,
  withContext,
} from "../shared";
import { capFees, type Fees, initialFees } from "./fees";
import type { ExecutorMetrics } from "./metrics";
import { type Action, type OpenTx, type PlanConfig, planSender } from "./plan";
import type { ExecutorStore, Final, RequestRow, Signed } from "./requests";

/*
 * Everything one sender key does: hand out its nonces, sign, broadcast, follow receipts, replace
 * stuck transactions. One instance per key per process; several processes may run one for the same
 * key on one PostgreSQL (the store's row locks keep them from stepping on each other).
 */

export type SenderOptions = PlanConfig & {
  /** Most transactions of this sender in a mempool at once; further accepted requests wait their turn. */
  maxInFlight: number;
  confirmations: Confirmations;
  /** Broadcasts in flight at once when a batch is signed. */
  broadcastConcurrency: number;
  /** Custom errors of the contracts called, to decode revert reasons. */
  errorAbi: Abi;
};

export type FinishedTx = { row: RequestRow; latencyMs?: number };

export class SenderPipeline {
  readonly address: Address;
  private dispatching?: Promise<void>;
  private sending?: Promise<void>;
  private readonly outbox: { row: RequestRow; raw?: Hex }[] = [];
  private dispatchAgain = false;
  private firstTick = true;
  private passes = 0;
  private marketCache?: { at: number; value: Promise<{ fees: Fees; baseFeePerGas: bigint | null }> };
  private readonly log: Logger;

  constructor(
    private readonly store: ExecutorStore,
    private readonly chain: ChainConnection,
    private readonly account: LocalAccount,
    readonly role: "relayer" | "sentinel",
    private readonly o: SenderOptions,
    logger: Logger,
    private readonly metrics: ExecutorMetrics,
    private readonly onFinished: (tx: FinishedTx) => void,
  ) {
    this.address = account.address;
    this.log = withContext(logger, { sender: account.address, role });
  }

  private get chainId(): number {
    return this.chain.chain.id;
  }

  /* ---------------------------------------- dispatch --------------------------------------- */

  /**
   * Signs and broadcasts accepted requests while there is room in flight. Calls coalesce: one run
   * at a time per process, and a call during a run makes it go round once more.
   */
  dispatch(): Promise<void> {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      try {
        do {
          this.dispatchAgain = false;
          await this.dispatchOnce();
        } while (this.dispatchAgain);
      } finally {
        this.dispatching = undefined;
      }
    })();
    return this.dispatching;
  }

  /** Resolves when no dispatch is running (for a graceful stop). */
  async idle(): Promise<void> {
    while (this.dispatching || this.sending) {
      await this.dispatching?.catch(() => undefined);
      await this.sending?.catch(() => undefined);
    }
  }

  private async dispatchOnce(): Promise<void> {
    if (!(await this.store.hasUnsigned(this.chainId, this.address))) return;
    const client = this.chain.publicClient;
    const [chainPending, balance, market] = await Promise.all([
      client.getTransactionCount({ address: this.address, blockTag: "pending" }),
      client.getBalance({ address: this.address }),
      this.market(),
    ]);
    const fees = capFees(market.fees, market.baseFeePerGas, this.o.maxFeePerGas);
    if (!fees) {
      this.log.error(
        { baseFeePerGas: market.baseFeePerGas?.toString(), cap: this.o.maxFeePerGas.toString() },
        "the base fee is above MAX_FEE_PER_GAS_WEI; accepted requests wait",
      );
      return;
    }
    const raws = new Map<string, Hex>();
    const { signed, unaffordable } = await this.store.assignNonces(
      this.chainId,
      this.address,
      chainPending,
      this.o.maxInFlight,
      balance,
      async (row, nonce) => {
        const s = await this.sign(row, nonce, fees);
        raws.set(s.hash, s.raw);
        return s;
      },
    );
    this.metrics.underfunded.set({ sender: this.address }, unaffordable ? 1 : 0);
    if (unaffordable) {
      this.log.error(
        { balance: balance.toString() },
        "sender cannot pay for the next transaction; accepted requests wait",
      );
    }
    if (signed.length === 0) return;
    this.log.debug({ count: signed.length, first: signed[0]!.nonce }, "nonces assigned");
    // Sent in the background, in nonce order, while the next batch is signed.
    this.enqueueBroadcasts(signed, raws);
    // Room may remain (more were accepted meanwhile): go round again.
    if (signed.length > 0) this.dispatchAgain = true;
  }

  private async sign(row: RequestRow, nonce: number, fees: Fees): Promise<Signed> {
    const raw = await this.account.signTransaction({
      chainId: this.chainId,
      nonce,
      to: row.to_address as Address,
      data: row.data as Hex,
      value: BigInt(row.value),
      gas: BigInt(row.gas_limit ?? "0"),
      ...(fees.type === "legacy"
        ? { type: "legacy" as const, gasPrice: fees.maxFeePerGas }
        : {
            type: "eip1559" as const,
            maxFeePerGas: fees.maxFeePerGas,
            maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
          }),
    });
    return { nonce, raw, hash: keccak256(raw), fees };
  }

  /**
   * Freshly signed transactions (their bytes still in memory) wait here and go out
   * BROADCAST_CONCURRENCY at a time, oldest nonce first; the accepted ones are recorded in one
   * statement per round. The loop re-sends anything this misses (a crash drops the queue, not the rows).
   */
  private enqueueBroadcasts(rows: RequestRow[], raws: Map<string, Hex>): void {
    for (const row of rows) this.outbox.push({ row, raw: raws.get(row.hash!) });
    this.sending ??= this.drainOutbox().finally(() => {
      this.sending = undefined;
    });
  }

  private async drainOutbox(): Promise<void> {
    while (this.outbox.length > 0) {
      const round = this.outbox.splice(0, this.o.broadcastConcurrency * 4);
      const sent: { row: RequestRow; hash: string }[] = [];
      await runLimited(round, this.o.broadcastConcurrency, async ({ row, raw }) => {
        if ((await this.send(row, raw)) === "accepted") sent.push({ row, hash: row.hash! });
      }).catch((err: unknown) => this.log.warn({ err }, "broadcast round failed; the loop re-sends"));
      await this.store
        .markBroadcastMany(sent)
        .catch((err: unknown) => this.log.warn({ err }, "could not record broadcasts; the loop re-sends"));
    }
  }

  /** Sends the latest stored attempt of `row` (or `raw`); never signs anything. */
  private async broadcast(row: RequestRow): Promise<void> {
    const result = await this.send(row);
    if (result === "accepted") await this.store.markBroadcastMany([{ row, hash: row.hash! }]);
  }

  /**
   * One broadcast. "accepted": a node took it or knew it (the caller records it); "mined": the nonce
   * is used (the next lookup says by what); "refused": recorded here with the reason.
   */
  private async send(row: RequestRow, raw?: Hex): Promise<"accepted" | "mined" | "refused" | "none"> {
    let bytes = raw;
    let hash = row.hash!;
    if (!bytes) {
      const attempt = await this.store.latestAttempt(row.id);
      if (!attempt) return "none";
      bytes = attempt.raw_tx as Hex;
      hash = attempt.hash;
    }
    try {
      await this.chain.publicClient.sendRawTransaction({ serializedTransaction: bytes });
      return "accepted";
    } catch (err) {
      const text = `${(err as Error).message ?? ""} ${shortMessageOf(err)}`;
      if (
        /already known|known transaction|already imported|already in the mempool|transaction already exists/i.test(text)
      ) {
        return "accepted";
      }
      if (/nonce too low|nonce has already been used|nonce is too low|oldnonce/i.test(text)) return "mined";
      const c = classifyError(err);
      this.metrics.broadcastErrors.inc({ kind: c.kind });
      const message = `broadcast failed: ${shortMessageOf(err)}`;
      if (c.retryable) this.log.warn({ err, txId: row.id, hash }, "broadcast failed; will retry");
      else
        this.log.error({ err, txId: row.id, nonce: row.nonce }, "broadcast refused; the nonce stays with this request");
      await this.store.markBroadcastFailed(row, hash, message);
      return "refused";
    }
  }

  /* ----------------------------------------- monitor --------------------------------------- */

  /** One pass over this sender's open transactions. */
  async monitor(): Promise<void> {
    const client = this.chain.publicClient;
    const [latestNonce, market, deepBlock] = await Promise.all([
      client.getTransactionCount({ address: this.address, blockTag: "latest" }),
      this.market(),
      this.deepBlock(),
    ]);
    const rows = await this.store.open(this.chainId, this.address);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const force = this.firstTick;
    this.firstTick = false;
    const view = {
      latestNonce,
      deepBlock,
      baseFeePerGas: market.baseFeePerGas,
      market: market.fees,
      now: Date.now(),
      forceBroadcast: force,
    };
    const open = rows.map(toOpenTx);
    const actions = planSender(open, view, this.o);
    const blockHashes = new Map<bigint, Promise<Hash | undefined>>();
    const finals: Final[] = [];
    try {
      await runLimited(actions, 16, (a) => this.act(a, byId.get(a.id)!, latestNonce, deepBlock, blockHashes, finals));
    } finally {
      // Everything that became final in this pass, in one statement (also when an action failed).
      await this.finishAll(finals);
    }
    this.metrics.pending.set({ sender: this.address }, rows.length - finals.length);
    // The gap check reads a range of rows: every 10th pass is enough for an invariant.
    if (this.passes++ % 10 === 0) await this.checkGaps(latestNonce);
  }

  /** Nonces between the chain's count and the store's next nonce that no stored transaction holds (must be 0). */
  async checkGaps(latestNonce?: number): Promise<number> {
    const latest =
      latestNonce ?? (await this.chain.publicClient.getTransactionCount({ address: this.address, blockTag: "latest" }));
    const stored = await this.store.storedNextNonce(this.chainId, this.address);
    const gaps = stored === undefined ? 0 : await this.store.nonceGaps(this.chainId, this.address, latest, stored);
    this.metrics.nonceGaps.set({ sender: this.address }, gaps);
    if (gaps > 0) {
      this.log.error({ gaps, latestNonce: latest, stored }, "nonce gap: nonces handed out with no stored transaction");
    }
    return gaps;
  }

  private async finishAll(finals: Final[]): Promise<void> {
    if (finals.length === 0) return;
    const done = await this.store.finishMany(finals);
    const byId = new Map(finals.map((f) => [f.row.id, f]));
    for (const row of done) {
      const f = byId.get(row.id)!;
      const log = withContext(this.log, { txId: row.id, agentId: row.agent_id ?? undefined });
      if (row.status === "confirmed") log.info({ hash: row.hash, block: row.block_number }, "transaction confirmed");
      else log.error({ hash: row.hash, revertReason: f.revertReason, error: f.error }, "transaction failed");
      const latencyMs = row.first_sent_at ? Date.now() - row.first_sent_at.getTime() : undefined;
      this.onFinished({ row, latencyMs });
    }
  }

  private async act(
    a: Action,
    row: RequestRow,
    latestNonce: number,
    deepBlock: bigint,
    blockHashes: Map<bigint, Promise<Hash | undefined>>,
    finals: Final[],
  ): Promise<void> {
    switch (a.kind) {
      case "broadcast":
        return this.broadcast(row);
      case "lookup":
        return this.lookup(row, latestNonce, deepBlock, blockHashes, finals);
      case "finalize":
        return this.finalizeSeen(row, blockHashes, finals);
      case "replace":
        return this.replace(row, a.fees);
      case "report-stuck": {
        this.log.error({ txId: row.id, nonce: row.nonce, reason: a.reason }, "transaction stuck");
        this.metrics.stuck.inc({ sender: this.address });
        return this.store.reportStuck(row, a.reason);
      }
    }
  }

  /** Finds which attempt of `row` was mined (or that a foreign transaction took its nonce). */
  private async lookup(
    row: RequestRow,
    latestNonce: number,
    deepBlock: bigint,
    blockHashes: Map<bigint, Promise<Hash | undefined>>,
    finals: Final[],
  ): Promise<void> {
    // One attempt (the usual case): its hash is on the row; replacements: every attempt, newest first.
    const hashes =
      row.attempts <= 1 ? [row.hash as Hash] : (await this.store.attempts(row.id)).map((a) => a.hash as Hash);
    for (const hash of hashes) {
      const receipt = await this.receipt(hash);
      if (!receipt) continue;
      if (receipt.blockNumber <= deepBlock) {
        if ((await this.blockHash(receipt.blockNumber, blockHashes)) !== receipt.blockHash) return; // reorg in progress
        finals.push(await this.finalOf(row, receipt));
      } else {
        await this.store.markSeen(row, {
          block: receipt.blockNumber,
          blockHash: receipt.blockHash,
          hash: receipt.transactionHash,
        });
      }
      return;
    }
    if (row.seen_block !== null) {
      // Seen before, gone now: a reorg took the block. It is pending again (or will be re-sent).
      this.log.warn(
        { txId: row.id, block: row.seen_block },
        "receipt vanished (reorg); following the transaction again",
      );
      await this.store.markSeen(row, undefined);
      await this.store.audit({
        requestId: row.id,
        scope: row.scope,
        agentId: row.agent_id,
        event: "reorged",
        reason: `block ${row.seen_block} no longer holds the transaction; following it again`,
        detail: { block: row.seen_block, blockHash: row.seen_block_hash, hash: row.seen_hash },
      });
      return;
    }
    if (row.nonce !== null && Number(row.nonce) < latestNonce) {
      // Mined nonce and none of our hashes: check at a deep block before calling it taken.
      const deepCount = await this.chain.publicClient.getTransactionCount({
        address: this.address,
        blockNumber: deepBlock,
      });
      if (deepCount > Number(row.nonce)) {
        const error = `nonce ${row.nonce} of ${this.address} was used by a transaction this executor did not sign`;
        this.log.error({ txId: row.id, nonce: row.nonce }, error);
        this.metrics.foreignNonce.inc({ sender: this.address });
        finals.push({ row, status: "failed", error });
      }
    }
  }

  private async finalizeSeen(
    row: RequestRow,
    blockHashes: Map<bigint, Promise<Hash | undefined>>,
    finals: Final[],
  ): Promise<void> {
    const hash = row.seen_hash as Hash;
    const receipt = await this.receipt(hash);
    if (!receipt) {
      await this.store.markSeen(row, undefined);
      return;
    }
    if ((await this.blockHash(receipt.blockNumber, blockHashes)) !== receipt.blockHash) return;
    finals.push(await this.finalOf(row, receipt));
  }

  /** The final state a deep enough receipt gives (a revert with its reason, replayed). */
  private async finalOf(row: RequestRow, receipt: TransactionReceipt): Promise<Final> {
    const ok = receipt.status === "success";
    return {
      row,
      status: ok ? "confirmed" : "failed",
      hash: receipt.transactionHash,
      gasUsed: receipt.gasUsed,
      effectiveGasPrice: receipt.effectiveGasPrice,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      revertReason: ok ? undefined : await this.failureReason(row, receipt),
    };
  }

  /** Why a mined transaction reverted: replayed on the parent block with the same sender and gas. */
  private async failureReason(row: RequestRow, receipt: TransactionReceipt): Promise<string> {
    if (row.gas_limit !== null && receipt.gasUsed === BigInt(row.gas_limit))
      return `out of gas (used all ${row.gas_limit})`;
    try {
      await this.chain.publicClient.call({
        account: this.address,
        to: row.to_address as Address,
        data: row.data as Hex,
        value: BigInt(row.value),
        gas: row.gas_limit === null ? undefined : BigInt(row.gas_limit),
        blockNumber: receipt.blockNumber - 1n,
      });
    } catch (err) {
      const reason = revertReasonOf(err, this.o.errorAbi);
      if (reason) return reason;
    }
    return "reverted (an earlier transaction in the same block changed the state; the replay succeeded)";
  }

  private async replace(row: RequestRow, fees: Fees): Promise<void> {
    const signed = await this.sign(row, Number(row.nonce), fees);
    const reason = `not mined ${Math.round((Date.now() - (row.last_signed_at?.getTime() ?? 0)) / 1000)} s after signing`;
    const updated = await this.store.addReplacement(row, signed, reason);
    if (!updated) return;
    this.metrics.replacements.inc({ sender: this.address });
    this.log.warn(
      { txId: row.id, nonce: row.nonce, hash: signed.hash, maxFeePerGas: fees.maxFeePerGas.toString() },
      "stuck transaction replaced with higher fees",
    );
    await this.broadcast(updated);
  }

  /* ----------------------------------------- chain ----------------------------------------- */

  /** The fees a new transaction would get now; shared by dispatch and monitor for up to a second. */
  private market(): Promise<{ fees: Fees; baseFeePerGas: bigint | null }> {
    const now = Date.now();
    if (this.marketCache && now - this.marketCache.at < 1_000) return this.marketCache.value;
    const value = this.readMarket();
    this.marketCache = { at: now, value };
    value.catch(() => {
      if (this.marketCache?.value === value) this.marketCache = undefined;
    });
    return value;
  }

  private async readMarket(): Promise<{ fees: Fees; baseFeePerGas: bigint | null }> {
    const client = this.chain.publicClient;
    const block = await client.getBlock({ blockTag: "latest" });
    const base = block.baseFeePerGas ?? null;
    if (base === null) {
      const gasPrice = await client.getGasPrice();
      return { fees: initialFees(null, 0n, gasPrice), baseFeePerGas: null };
    }
    const tip = await client.estimateMaxPriorityFeePerGas();
    return { fees: initialFees(base, tip, 0n), baseFeePerGas: base };
  }

  private async deepBlock(): Promise<bigint> {
    const client = this.chain.publicClient;
    if (this.o.confirmations === "finalized") return (await client.getBlock({ blockTag: "finalized" })).number;
    const head = await client.getBlockNumber({ cacheTime: 0 });
    return head - BigInt(Math.max(1, this.o.confirmations)) + 1n;
  }

  private blockHash(n: bigint, cache: Map<bigint, Promise<Hash | undefined>>): Promise<Hash | undefined> {
    let p = cache.get(n);
    if (!p) {
      p = this.chain.publicClient.getBlock({ blockNumber: n }).then(
        (b) => b.hash ?? undefined,
        () => undefined,
      );
      cache.set(n, p);
    }
    return p;
  }

  private async receipt(hash: Hash): Promise<TransactionReceipt | undefined> {
    try {
      return await this.chain.publicClient.getTransactionReceipt({ hash });
    } catch (err) {
      if ((err as { name?: string }).name === "TransactionReceiptNotFoundError") return undefined;
      throw RpcError.from(err, "cannot read a transaction receipt");
    }
  }
}

function toOpenTx(r: RequestRow): OpenTx {
  const maxFee = BigInt(r.max_fee_per_gas ?? "0");
  const tip = r.max_priority_fee_per_gas === null ? maxFee : BigInt(r.max_priority_fee_per_gas);
  return {
    id: r.id,
    nonce: Number(r.nonce),
    status: r.status === "submitted" ? "submitted" : "queued",
    hash: r.hash as Hash,
    attempts: r.attempts,
    fees: {
      type: r.max_priority_fee_per_gas === null ? "legacy" : "eip1559",
      maxFeePerGas: maxFee,
      maxPriorityFeePerGas: tip,
    },
    lastSignedAt: r.last_signed_at?.getTime() ?? 0,
    lastSentAt: r.last_sent_at?.getTime(),
    seenBlock: r.seen_block === null ? undefined : BigInt(r.seen_block),
    stuckReported: r.stuck_reported,
  };
}

async function runLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let firstError: unknown;
  const worker = async () => {
    while (i < items.length) {
      const item = items[i++]!;
      try {
        await fn(item);
      } catch (err) {
        firstError ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (firstError !== undefined) throw firstError;
}
