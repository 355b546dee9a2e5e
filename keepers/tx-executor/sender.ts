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
import type { ExecutorStore, RequestRow, Signed } from "./requests";

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
  private dispatchAgain = false;
  private firstTick = true;
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
    while (this.dispatching) await this.dispatching.catch(() => undefined);
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
    const { signed, unaffordable } = await this.store.assignNonces(
      this.chainId,
      this.address,
      chainPending,
      this.o.maxInFlight,
      balance,
      (row, nonce) => this.sign(row, nonce, fees),
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
    await this.broadcastAll(signed);
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

  private async broadcastAll(rows: RequestRow[]): Promise<void> {
    let i = 0;
    const worker = async () => {
      while (i < rows.length) {
        const row = rows[i++]!;
        await this.broadcast(row);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.broadcastConcurrency, rows.length) }, worker));
  }

  /** Sends the latest stored attempt of `row`; never signs anything. */
  private async broadcast(row: RequestRow): Promise<void> {
    const attempt = await this.store.latestAttempt(row.id);
    if (!attempt) return;
    try {
      await this.chain.publicClient.sendRawTransaction({ serializedTransaction: attempt.raw_tx as Hex });
      await this.store.markBroadcast(row, attempt.hash, true);
    } catch (err) {
      const text = `${(err as Error).message ?? ""} ${shortMessageOf(err)}`;
      if (
        /already known|known transaction|already imported|already in the mempool|transaction already exists/i.test(text)
      ) {
        await this.store.markBroadcast(row, attempt.hash, true);
        return;
      }
      if (/nonce too low|nonce has already been used|nonce is too low|oldnonce/i.test(text)) {
        // Mined already (this attempt or an earlier one), or taken: the next lookup tells which.
        return;
      }
      const c = classifyError(err);
      this.metrics.broadcastErrors.inc({ kind: c.kind });
      const message = `broadcast failed: ${shortMessageOf(err)}`;
      if (c.retryable) this.log.warn({ err, txId: row.id, hash: attempt.hash }, "broadcast failed; will retry");
      else
        this.log.error({ err, txId: row.id, nonce: row.nonce }, "broadcast refused; the nonce stays with this request");
      await this.store.markBroadcast(row, attempt.hash, false, message);
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
    await runLimited(actions, 8, (a) => this.act(a, byId.get(a.id)!, latestNonce, deepBlock, blockHashes));

    const stored = await this.store.storedNextNonce(this.chainId, this.address);
    const gaps = stored === undefined ? 0 : await this.store.nonceGaps(this.chainId, this.address, latestNonce, stored);
    this.metrics.nonceGaps.set({ sender: this.address }, gaps);
    if (gaps > 0)
      this.log.error({ gaps, latestNonce, stored }, "nonce gap: nonces handed out with no stored transaction");
    this.metrics.pending.set({ sender: this.address }, rows.length);
  }

  private async act(
    a: Action,
    row: RequestRow,
    latestNonce: number,
    deepBlock: bigint,
    blockHashes: Map<bigint, Promise<Hash | undefined>>,
  ): Promise<void> {
    switch (a.kind) {
      case "broadcast":
        return this.broadcast(row);
      case "lookup":
        return this.lookup(row, latestNonce, deepBlock, blockHashes);
      case "finalize":
        return this.finalizeSeen(row, blockHashes);
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
  ): Promise<void> {
    const attempts = await this.store.attempts(row.id);
    for (const attempt of attempts) {
      const receipt = await this.receipt(attempt.hash as Hash);
      if (!receipt) continue;
      if (receipt.blockNumber <= deepBlock) {
        if ((await this.blockHash(receipt.blockNumber, blockHashes)) !== receipt.blockHash) return; // reorg in progress
        await this.finalize(row, receipt);
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
        const done = await this.store.finish(row, { status: "failed", error });
        if (done) this.onFinished({ row: done });
      }
    }
  }

  private async finalizeSeen(row: RequestRow, blockHashes: Map<bigint, Promise<Hash | undefined>>): Promise<void> {
    const hash = row.seen_hash as Hash;
    const receipt = await this.receipt(hash);
    if (!receipt) {
      await this.store.markSeen(row, undefined);
      return;
    }
    if ((await this.blockHash(receipt.blockNumber, blockHashes)) !== receipt.blockHash) return;
    await this.finalize(row, receipt);
  }

  private async finalize(row: RequestRow, receipt: TransactionReceipt): Promise<void> {
    const ok = receipt.status === "success";
    const revertReason = ok ? undefined : await this.failureReason(row, receipt);
    const done = await this.store.finish(row, {
      status: ok ? "confirmed" : "failed",
      hash: receipt.transactionHash,
      gasUsed: receipt.gasUsed,
      effectiveGasPrice: receipt.effectiveGasPrice,
      blockNumber: receipt.blockNumber,
      blockHash: receipt.blockHash,
      revertReason,
    });
    if (!done) return;
    const log = withContext(this.log, { txId: row.id, agentId: row.agent_id ?? undefined });
    if (ok) log.info({ hash: receipt.transactionHash, block: receipt.blockNumber.toString() }, "transaction confirmed");
    else log.error({ hash: receipt.transactionHash, revertReason }, "transaction reverted on chain");
    const latencyMs = done.first_sent_at ? Date.now() - done.first_sent_at.getTime() : undefined;
    this.onFinished({ row: done, latencyMs });
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

  private async market(): Promise<{ fees: Fees; baseFeePerGas: bigint | null }> {
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
