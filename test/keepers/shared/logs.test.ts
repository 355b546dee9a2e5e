import { expect } from "chai";
import { createPublicClient, custom, http } from "viem";
import { ScanError } from "../../../keepers/shared/errors";
import { type LogBatch, type LogHandler, LogScanner, type LogScannerOptions } from "../../../keepers/shared/logs";
import { createMetrics } from "../../../keepers/shared/metrics";
import type { Queryable } from "../../../keepers/shared/store";
import { rpc, useHardhatNode } from "../../helpers/hardhatNode";
import { uniqueName } from "../../helpers/tmp";
import { type ChainFixture, chainFixture, closeFixture, mine, ping } from "./fixtures/chainSetup";

type Row = { block: string; log_index: number; id: string; note: string };

/** Records Ping logs into a table (primary key per log, so a repeat would fail) and rolls back on request. */
class RecordingHandler implements LogHandler {
  batches: { from: bigint; to: bigint; ids: bigint[] }[] = [];
  rollbacks: bigint[] = [];
  failOnBatch?: number;

  constructor(private readonly table: string) {}

  async onLogs(batch: LogBatch, tx: Queryable): Promise<void> {
    for (const log of batch.logs) {
      if (log.eventName !== "Ping") continue;
      const args = log.args as unknown as { id: bigint; note: string };
      await tx.query(`INSERT INTO ${this.table} (block, log_index, id, note) VALUES ($1, $2, $3, $4)`, [
        log.blockNumber,
        log.logIndex,
        args.id,
        args.note,
      ]);
    }
    this.batches.push({
      from: batch.fromBlock,
      to: batch.toBlock,
      ids: batch.logs.map((l) => (l.args as unknown as { id: bigint }).id),
    });
    // Written first, then thrown: a crash in the middle of a handler must leave nothing behind.
    if (this.failOnBatch !== undefined && this.batches.length === this.failOnBatch) throw new Error("crash in handler");
  }

  async onRollback(fromBlock: bigint, tx: Queryable): Promise<void> {
    this.rollbacks.push(fromBlock);
    await tx.query(`DELETE FROM ${this.table} WHERE block >= $1`, [fromBlock]);
  }
}

describe("keepers/shared logs: LogScanner", function () {
  this.timeout(60_000);
  const node = useHardhatNode();
  let f: ChainFixture;
  let table: string;
  let startBlock: bigint;

  before(async () => {
    f = await chainFixture(node());
    startBlock = await f.client.getBlockNumber();
  });
  after(async () => closeFixture(f));

  beforeEach(async () => {
    table = `"${f.schema}"."${uniqueName("events").toLowerCase()}"`;
    await f.store.exec(
      `CREATE TABLE ${table} (block bigint, log_index int, id numeric, note text, PRIMARY KEY (block, log_index))`,
    );
  });

  function scanner(handler: LogHandler, options: Partial<LogScannerOptions<typeof f.abi>> = {}) {
    return new LogScanner({
      name: uniqueName("scan"),
      store: f.store,
      schema: f.schema,
      client: f.client,
      address: f.emitter,
      abi: f.abi,
      eventNames: ["Ping"],
      startBlock,
      chunkBlocks: 4,
      confirmations: 0,
      reorgDepth: 16,
      handler,
      ...options,
    });
  }

  async function storedIds(): Promise<string[]> {
    const { rows } = await f.store.query<Row>(`SELECT id FROM ${table} ORDER BY block, log_index`);
    return rows.map((r) => r.id);
  }

  it("delivers each log once, in order, in bounded chunks, only up to head − confirmations", async () => {
    const first = await f.client.getBlockNumber();
    const blocks: bigint[] = [];
    for (let i = 1n; i <= 10n; i++) blocks.push(await ping(f, 1000n + i, `n${i}`));
    const head = await f.client.getBlockNumber();
    const handler = new RecordingHandler(table);
    const s = scanner(handler, { name: uniqueName("bounded"), startBlock: first + 1n, confirmations: 3 });

    const r1 = await s.scan();
    expect(r1).to.deep.include({ target: head - 3n, nextBlock: head - 2n, caughtUp: true, logs: 7 });
    expect(await storedIds()).to.deep.equal(["1001", "1002", "1003", "1004", "1005", "1006", "1007"]);
    // Contiguous chunks of at most LOG_CHUNK_BLOCKS blocks, ending at the target.
    let expectedFrom = first + 1n;
    for (const b of handler.batches) {
      expect(b.from).to.equal(expectedFrom);
      expect(b.to - b.from + 1n <= 4n).to.equal(true);
      expectedFrom = b.to + 1n;
    }
    expect(expectedFrom - 1n).to.equal(head - 3n);

    expect((await s.scan()).chunks).to.equal(0);
    await mine(f, 3);
    const r2 = await s.scan();
    expect(r2.logs).to.equal(3);
    expect(await storedIds()).to.deep.equal([
      "1001",
      "1002",
      "1003",
      "1004",
      "1005",
      "1006",
      "1007",
      "1008",
      "1009",
      "1010",
    ]);
    expect(blocks.length).to.equal(10);
  });

  it("resumes after a crash in the middle of a scan without skipping or repeating a log", async () => {
    const from = (await f.client.getBlockNumber()) + 1n;
    for (let i = 1n; i <= 9n; i++) await ping(f, 2000n + i);
    const name = uniqueName("crash");
    const crashing = new RecordingHandler(table);
    crashing.failOnBatch = 2;
    const err = await scanner(crashing, { name, startBlock: from })
      .scan()
      .catch((e: unknown) => e);
    expect((err as Error).message).to.equal("crash in handler");
    // Chunk 1 committed with its cursor; chunk 2's rows were rolled back with it.
    expect(await storedIds()).to.deep.equal(["2001", "2002", "2003", "2004"]);

    // A new process: a new scanner on the same cursor and store.
    const resumed = new RecordingHandler(table);
    const r = await scanner(resumed, { name, startBlock: from }).scan();
    expect(resumed.batches[0]!.from).to.equal(from + 4n);
    expect(r.caughtUp).to.equal(true);
    expect(await storedIds()).to.deep.equal(["2001", "2002", "2003", "2004", "2005", "2006", "2007", "2008", "2009"]);
  });

  it("halves the range while the provider refuses it, and still delivers everything", async () => {
    const from = (await f.client.getBlockNumber()) + 1n;
    for (let i = 1n; i <= 8n; i++) await ping(f, 3000n + i);
    const ranges: [number, number, "refused" | "ok"][] = [];
    const upstream = http(node().url)({});
    // A provider that answers eth_getLogs only for ranges of at most 2 blocks.
    const picky = createPublicClient({
      chain: f.chain.chain,
      cacheTime: 0,
      transport: custom(
        {
          async request({ method, params }) {
            if (method === "eth_getLogs") {
              const p = (params as { fromBlock: string; toBlock: string }[])[0]!;
              const [a, b] = [Number(p.fromBlock), Number(p.toBlock)];
              if (b - a + 1 > 2) {
                ranges.push([a, b, "refused"]);
                throw Object.assign(new Error("query returned more than 10000 results"), { code: -32005 });
              }
              ranges.push([a, b, "ok"]);
            }
            return upstream.request({ method, params } as never);
          },
        },
        { retryCount: 0 },
      ),
    });
    const metrics = createMetrics("scan-test", { defaultMetrics: false });
    const handler = new RecordingHandler(table);
    const r = await scanner(handler, { startBlock: from, chunkBlocks: 8, client: picky, metrics }).scan();
    expect(r.logs).to.equal(8);
    expect(await storedIds()).to.deep.equal(["3001", "3002", "3003", "3004", "3005", "3006", "3007", "3008"]);
    const f0 = Number(from);
    expect(ranges.slice(0, 3)).to.deep.equal([
      [f0, f0 + 7, "refused"],
      [f0, f0 + 3, "refused"],
      [f0, f0 + 1, "ok"],
    ]);
    expect(ranges.filter(([, , s]) => s === "ok").every(([a, b]) => b - a + 1 <= 2)).to.equal(true);
    expect(await metrics.text()).to.match(
      /covenant_scan_test_scanner_range_narrowed_total\{scanner="[^"]+",keeper="scan-test"\} 2/,
    );
  });

  it("rolls back and rescans when a reorg replaces processed blocks", async () => {
    for (let i = 1n; i <= 2n; i++) await ping(f, 4000n + i);
    const name = uniqueName("reorg");
    const handler = new RecordingHandler(table);
    const from = (await f.client.getBlockNumber()) - 1n;
    const s = scanner(handler, { name, startBlock: from, chunkBlocks: 2 });
    await s.scan();
    const forkPoint = await f.client.getBlockNumber();
    expect(await storedIds()).to.deep.equal(["4001", "4002"]);

    const snapshot = await rpc<string>(node().url, "evm_snapshot");
    for (let i = 1n; i <= 4n; i++) await ping(f, 5000n + i, "abandoned");
    await s.scan();
    expect(await storedIds()).to.deep.equal(["4001", "4002", "5001", "5002", "5003", "5004"]);

    // The reorg: the four blocks after the fork point are replaced by five different ones.
    expect(await rpc<boolean>(node().url, "evm_revert", [snapshot])).to.equal(true);
    for (let i = 1n; i <= 5n; i++) await ping(f, 6000n + i, "canonical", 1);
    const r = await s.scan();
    expect(handler.rollbacks).to.deep.equal([forkPoint + 1n]);
    expect(r.rolledBackFrom).to.equal(forkPoint + 1n);
    expect(await storedIds()).to.deep.equal(["4001", "4002", "6001", "6002", "6003", "6004", "6005"]);
    const { rows } = await f.store.query<{ note: string }>(`SELECT DISTINCT note FROM ${table} WHERE block > $1`, [
      forkPoint,
    ]);
    expect(rows).to.deep.equal([{ note: "canonical" }]);
  });

  it("stops with a fatal ScanError when a reorg is deeper than REORG_DEPTH", async () => {
    const handler = new RecordingHandler(table);
    const from = (await f.client.getBlockNumber()) + 1n;
    await ping(f, 7000n);
    const s = scanner(handler, { startBlock: from, chunkBlocks: 1, reorgDepth: 3 });
    await s.scan();
    const snapshot = await rpc<string>(node().url, "evm_snapshot");
    for (let i = 1n; i <= 5n; i++) await ping(f, 7100n + i);
    await s.scan();
    await rpc(node().url, "evm_revert", [snapshot]);
    for (let i = 1n; i <= 6n; i++) await ping(f, 7200n + i, "", 1);
    const err = (await s.scan().catch((e: unknown) => e)) as ScanError;
    expect(err).to.be.instanceOf(ScanError);
    expect(err.code).to.equal("SCAN_REORG_TOO_DEEP");
    expect(err.retryable).to.equal(false);
    expect(handler.rollbacks).to.deep.equal([]);
  });

  it("reads up to the finalized block when CONFIRMATIONS=finalized", async () => {
    const handler = new RecordingHandler(table);
    const s = scanner(handler, { confirmations: "finalized" });
    const finalized = await f.client.getBlock({ blockTag: "finalized" });
    expect(await s.target()).to.equal(finalized.number);
  });
});
