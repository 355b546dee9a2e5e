import {
  type Abi,
  type AbiEvent,
  type Address,
  type Chain,
  type DecodeEventLogReturnType,
  decodeEventLog,
  type Hash,
  type Hex,
  type PublicClient,
  type Transport,
  toEventSelector,
  toHex,
} from "viem";
import type { Confirmations } from "./config";
import { isLogRangeError, ScanError } from "./errors";
import type { Logger } from "./logger";
import type { Metrics } from "./metrics";
import { throwIfAborted } from "./retry";
import { ident, type Queryable, type Store } from "./store";

/*
 * The LogScanner reads a contract's events from a persisted cursor, in chunks, and hands each chunk
 * to the keeper inside one database transaction together with the cursor update. Either both the
 * keeper's writes and the new cursor are committed or neither is, so a crash at any point resumes at
 * the first unprocessed block: nothing skipped, nothing processed twice.
 *
 * Only blocks at least CONFIRMATIONS deep (or at/below the `finalized` tag) are read. Reorgs deeper
 * than that are still detected: the hash of each chunk's last block is kept as a checkpoint, and
 * before each chunk the scanner checks that the chain still has the block it last processed. If not,
 * it finds the newest checkpoint the chain still agrees with, calls `onRollback(fromBlock)` so the
 * keeper deletes what it derived from the abandoned blocks, and scans again from there.
 */

export type ScannedLog<A extends Abi = Abi> = DecodeEventLogReturnType<A> & {
  address: Address;
  blockNumber: bigint;
  blockHash: Hash;
  transactionHash: Hash;
  transactionIndex: number;
  logIndex: number;
};

export type LogBatch<A extends Abi = Abi> = {
  /** First and last block of the chunk (inclusive); every block in between was scanned. */
  fromBlock: bigint;
  toBlock: bigint;
  /** Decoded logs in chain order (block, then log index); may be empty. */
  logs: ScannedLog<A>[];
};

export interface LogHandler<A extends Abi = Abi> {
  /** Processes one chunk. Write only through `tx`: it commits together with the cursor. */
  onLogs(batch: LogBatch<A>, tx: Queryable): Promise<void>;
  /**
   * Blocks from `fromBlock` on were replaced by a reorg: delete or undo everything derived from
   * them, through `tx`. Those blocks are delivered again (from the new chain) by later `onLogs` calls.
   */
  onRollback(fromBlock: bigint, tx: Queryable): Promise<void>;
}

export type LogScannerOptions<A extends Abi> = {
  /** Names the cursor; unique per scan within the keeper (e.g. "revenue-router:Paid"). */
  name: string;
  store: Store;
  /** The keeper's shared schema (from `migrateShared`). */
  schema: string;
  client: PublicClient<Transport, Chain | undefined>;
  address: Address | readonly Address[];
  abi: A;
  /** Restrict to these events (default: every non-anonymous event of `abi`). */
  eventNames?: readonly string[];
  /** Where a new cursor starts (the contract's deployment block). */
  startBlock: bigint;
  /** LOG_CHUNK_BLOCKS: the widest eth_getLogs range; halved while a provider refuses it. */
  chunkBlocks: number;
  confirmations: Confirmations;
  /** REORG_DEPTH: the deepest reorg undone automatically; a deeper one stops the keeper. */
  reorgDepth: number;
  handler: LogHandler<A>;
  logger?: Logger;
  metrics?: Metrics;
};

export type ScanOptions = {
  /** Stop after this many chunks (keeps one tick bounded); default unlimited. */
  maxChunks?: number;
  signal?: AbortSignal;
};

export type ScanResult = {
  /** Highest block the scan may read now (head − confirmations, or finalized). */
  target: bigint;
  /** The cursor after the scan: the next block to read. */
  nextBlock: bigint;
  chunks: number;
  logs: number;
  /** Set when a reorg was undone: the first block handed to onRollback. */
  rolledBackFrom?: bigint;
  caughtUp: boolean;
};

type Checkpoint = { block_number: string; block_hash: string };

export class LogScanner<const A extends Abi> {
  private readonly opts: LogScannerOptions<A>;
  private readonly events: AbiEvent[];
  private readonly topics: Hex[];
  private readonly q: { cursors: string; checkpoints: string };
  private chunk: number;
  private successes = 0;
  private readonly m?: {
    blocks: ReturnType<Metrics["counter"]>;
    logs: ReturnType<Metrics["counter"]>;
    reorgs: ReturnType<Metrics["counter"]>;
    narrowed: ReturnType<Metrics["counter"]>;
    lag: ReturnType<Metrics["gauge"]>;
  };

  constructor(options: LogScannerOptions<A>) {
    if (options.chunkBlocks < 1)
      throw new ScanError("chunkBlocks must be at least 1", { code: "SCAN_CONFIG", retryable: false });
    this.opts = options;
    const all = (options.abi as readonly { type: string }[]).filter(
      (item): item is AbiEvent => item.type === "event" && !(item as AbiEvent).anonymous,
    );
    this.events = options.eventNames ? all.filter((e) => options.eventNames!.includes(e.name)) : all;
    if (this.events.length === 0)
      throw new ScanError(`scanner ${options.name} has no events to scan`, { code: "SCAN_CONFIG", retryable: false });
    this.topics = [...new Set(this.events.map((e) => toEventSelector(e)))];
    this.q = {
      cursors: `${ident(options.schema)}.cursors`,
      checkpoints: `${ident(options.schema)}.cursor_checkpoints`,
    };
    this.chunk = options.chunkBlocks;
    if (options.metrics) {
      const m = options.metrics;
      this.m = {
        blocks: m.counter("scanner_blocks_total", "Blocks scanned for logs", ["scanner"]),
        logs: m.counter("scanner_logs_total", "Logs delivered to handlers", ["scanner"]),
        reorgs: m.counter("scanner_reorgs_total", "Reorgs detected and rolled back", ["scanner"]),
        narrowed: m.counter("scanner_range_narrowed_total", "eth_getLogs ranges halved after a provider refused them", [
          "scanner",
        ]),
        lag: m.gauge("scanner_lag_blocks", "Blocks between the cursor and the scan target", ["scanner"]),
      };
    }
  }

  /** The next block this scanner will read (creating the cursor at startBlock if new). */
  async nextBlock(): Promise<bigint> {
    await this.ensureCursor();
    const { rows } = await this.opts.store.query<{ next_block: string }>(
      `SELECT next_block FROM ${this.q.cursors} WHERE name = $1`,
      [this.opts.name],
    );
    return BigInt(rows[0]!.next_block);
  }

  /** The highest block that may be read now. */
  async target(): Promise<bigint> {
    const c = this.opts.confirmations;
    if (c === "finalized") {
      const block = await this.opts.client.getBlock({ blockTag: "finalized" });
      return block.number;
    }
    const head = await this.opts.client.getBlockNumber();
    return head - BigInt(c);
  }

  /** Scans from the cursor up to the target (or `maxChunks` chunks). */
  async scan(options: ScanOptions = {}): Promise<ScanResult> {
    const { name } = this.opts;
    let next = await this.nextBlock();
    let rolledBackFrom: bigint | undefined;
    let chunks = 0;
    let logs = 0;
    let moves = 0;
    let target = await this.target();
    // The last processed block is checked before the first chunk and whenever a chunk saw the
    // chain move; in between, commitChunk checks each chunk's parent itself.
    let verify = true;
    for (;;) {
      throwIfAborted(options.signal);
      if (verify) {
        const rewound = await this.checkForReorg(next);
        verify = false;
        if (rewound !== undefined) {
          rolledBackFrom = rolledBackFrom === undefined || rewound < rolledBackFrom ? rewound : rolledBackFrom;
          next = rewound;
          target = await this.target();
        }
      }
      if (next > target || (options.maxChunks !== undefined && chunks >= options.maxChunks)) break;
      const to = minBig(next + BigInt(this.chunk) - 1n, target);
      const fetched = await this.fetchChunk(next, to);
      if (fetched === "narrowed") continue;
      if (fetched === "moved" || !(await this.commitChunk(next, to, fetched.logs, fetched.toHash))) {
        // The chain changed under the chunk; normally a reorg that checkForReorg now undoes.
        if (++moves > 5) {
          throw new ScanError(`scanner ${name}: the chain keeps changing under block ${to}`, {
            code: "SCAN_UNSTABLE",
            retryable: true,
          });
        }
        verify = true;
        continue;
      }
      chunks++;
      logs += fetched.logs.length;
      this.m?.blocks.inc({ scanner: name }, Number(to - next + 1n));
      this.m?.logs.inc({ scanner: name }, fetched.logs.length);
      next = to + 1n;
    }
    const caughtUp = next > target;
    this.m?.lag.set({ scanner: name }, caughtUp ? 0 : Number(target - next + 1n));
    return { target, nextBlock: next, chunks, logs, rolledBackFrom, caughtUp };
  }

  private async ensureCursor(): Promise<void> {
    await this.opts.store.query(
      `INSERT INTO ${this.q.cursors} (name, next_block) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
      [this.opts.name, this.opts.startBlock],
    );
  }

  private async blockHash(blockNumber: bigint): Promise<Hash | undefined> {
    try {
      const block = await this.opts.client.getBlock({ blockNumber });
      return block.hash ?? undefined;
    } catch (err) {
      if ((err as { name?: string }).name === "BlockNotFoundError") return undefined;
      throw err;
    }
  }

  /**
   * Checks that the chain still holds the last processed block. On a mismatch, rolls back to just
   * after the newest checkpoint the chain agrees with and returns that block number.
   */
  private async checkForReorg(next: bigint): Promise<bigint | undefined> {
    const { store, name, startBlock, reorgDepth, logger } = this.opts;
    const { rows } = await store.query<Checkpoint>(
      `SELECT block_number, block_hash FROM ${this.q.checkpoints} WHERE name = $1 ORDER BY block_number DESC`,
      [name],
    );
    const latest = rows[0];
    if (!latest) return undefined;
    const last = BigInt(latest.block_number);
    if (last !== next - 1n) {
      throw new ScanError(`scanner ${name}: checkpoint ${last} does not end right before cursor ${next}`, {
        code: "SCAN_INCONSISTENT",
        retryable: false,
      });
    }
    if ((await this.blockHash(last)) === latest.block_hash) return undefined;

    let resumeAt: bigint | undefined;
    for (const cp of rows.slice(1)) {
      const n = BigInt(cp.block_number);
      if ((await this.blockHash(n)) === cp.block_hash) {
        resumeAt = n + 1n;
        break;
      }
    }
    // A young scanner may have no older checkpoint: everything since startBlock is then redone.
    resumeAt ??= last - startBlock < BigInt(reorgDepth) ? startBlock : undefined;
    if (resumeAt === undefined || last - resumeAt + 1n > BigInt(reorgDepth)) {
      throw new ScanError(
        `scanner ${name}: block ${last} was reorged and no checkpoint within REORG_DEPTH=${reorgDepth} blocks matches the chain`,
        { code: "SCAN_REORG_TOO_DEEP", retryable: false, meta: { lastBlock: last.toString() } },
      );
    }
    const from = resumeAt;
    await store.transaction(async (tx) => {
      await this.opts.handler.onRollback(from, tx);
      await tx.query(`DELETE FROM ${this.q.checkpoints} WHERE name = $1 AND block_number >= $2`, [name, from]);
      const r = await tx.query(
        `UPDATE ${this.q.cursors} SET next_block = $2, updated_at = now() WHERE name = $1 AND next_block = $3`,
        [name, from, next],
      );
      if (r.rowCount !== 1) throw movedCursor(name);
    });
    this.m?.reorgs.inc({ scanner: name });
    logger?.warn(
      { scanner: name, lastBlock: last.toString(), rollbackFrom: from.toString() },
      "reorg detected, rolled back",
    );
    return from;
  }

  /** eth_getLogs for [from, to], checking that block `to` did not change while the logs were read. */
  private async fetchChunk(
    from: bigint,
    to: bigint,
  ): Promise<{ logs: ScannedLog<A>[]; toHash: Hash } | "narrowed" | "moved"> {
    const before = await this.blockHash(to);
    let raw: RawLog[];
    try {
      raw = (await this.opts.client.request({
        method: "eth_getLogs",
        params: [
          {
            address: Array.isArray(this.opts.address) ? [...this.opts.address] : (this.opts.address as Address),
            topics: [this.topics],
            fromBlock: toHex(from),
            toBlock: toHex(to),
          },
        ],
      })) as RawLog[];
    } catch (err) {
      if (!isLogRangeError(err) || to === from) throw err;
      this.chunk = Math.max(1, Math.floor(Number(to - from + 1n) / 2));
      this.successes = 0;
      this.m?.narrowed.inc({ scanner: this.opts.name });
      this.opts.logger?.info({ scanner: this.opts.name, chunkBlocks: this.chunk }, "log range refused, narrowing");
      return "narrowed";
    }
    const after = await this.blockHash(to);
    if (before === undefined || before !== after) return "moved";
    const logs = raw
      .filter((l) => !l.removed)
      .map((l) => this.decode(l))
      .sort((a, b) =>
        a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
      );
    if (
      logs.some((l) => l.blockNumber < from || l.blockNumber > to || (l.blockNumber === to && l.blockHash !== before))
    ) {
      return "moved";
    }
    if (this.chunk < this.opts.chunkBlocks && ++this.successes >= 5) {
      this.chunk = Math.min(this.opts.chunkBlocks, this.chunk * 2);
      this.successes = 0;
    }
    return { logs, toHash: before };
  }

  private decode(l: RawLog): ScannedLog<A> {
    let decoded: DecodeEventLogReturnType<A>;
    try {
      decoded = decodeEventLog({
        abi: this.opts.abi,
        data: l.data,
        topics: l.topics as [Hex, ...Hex[]],
        strict: true,
      }) as DecodeEventLogReturnType<A>;
    } catch (err) {
      throw new ScanError(`scanner ${this.opts.name}: cannot decode log ${l.logIndex} of tx ${l.transactionHash}`, {
        code: "SCAN_DECODE",
        retryable: false,
        cause: err,
      });
    }
    return {
      ...decoded,
      address: l.address,
      blockNumber: BigInt(l.blockNumber),
      blockHash: l.blockHash,
      transactionHash: l.transactionHash,
      transactionIndex: Number(l.transactionIndex),
      logIndex: Number(l.logIndex),
    };
  }

  /**
   * Delivers a chunk and moves the cursor in one transaction. The parent of `from` is re-checked
   * last, so a reorg that happened while the chunk was read is caught before anything is committed.
   */
  private async commitChunk(from: bigint, to: bigint, logs: ScannedLog<A>[], toHash: Hash): Promise<boolean> {
    const { store, name, handler, schema } = this.opts;
    if (from > this.opts.startBlock) {
      const { rows } = await store.query<Checkpoint>(
        `SELECT block_number, block_hash FROM ${ident(schema)}.cursor_checkpoints WHERE name = $1 AND block_number = $2`,
        [name, from - 1n],
      );
      if (rows[0] && (await this.blockHash(from - 1n)) !== rows[0].block_hash) return false;
    }
    await store.transaction(async (tx) => {
      await handler.onLogs({ fromBlock: from, toBlock: to, logs }, tx);
      const r = await tx.query(
        `UPDATE ${this.q.cursors} SET next_block = $2, updated_at = now() WHERE name = $1 AND next_block = $3`,
        [name, to + 1n, from],
      );
      if (r.rowCount !== 1) throw movedCursor(name);
      await tx.query(`INSERT INTO ${this.q.checkpoints} (name, block_number, block_hash) VALUES ($1, $2, $3)`, [
        name,
        to,
        toHash,
      ]);
      // Keep the checkpoints that cover REORG_DEPTH, plus the newest one below it as a floor.
      await tx.query(
        `DELETE FROM ${this.q.checkpoints}
          WHERE name = $1 AND block_number < (
            SELECT max(block_number) FROM ${this.q.checkpoints} WHERE name = $1 AND block_number <= $2)`,
        [name, to - BigInt(this.opts.reorgDepth)],
      );
    });
    return true;
  }
}

type RawLog = {
  address: Address;
  blockHash: Hash;
  blockNumber: Hex;
  data: Hex;
  logIndex: Hex;
  removed?: boolean;
  topics: Hex[];
  transactionHash: Hash;
  transactionIndex: Hex;
};

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function movedCursor(name: string): ScanError {
  return new ScanError(`scanner ${name}: the cursor was moved by someone else (two scanners on one cursor?)`, {
    code: "SCAN_CURSOR_MOVED",
    retryable: false,
  });
}
