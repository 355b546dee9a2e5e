/**
 * Earnings benchmark: one epoch of N agents, end to end over JSON-RPC.
 *
 *   npm run bench:earnings -- --agents 100000      (CI runs --agents 1000)
 *
 * 1. Starts a `hardhat node` (one child process, stopped by its PID) and deploys the real RevenueRouter,
 *    EarningsDistributor and Treasury, with MockBenchRegistry for the registry (agents 0..N-1 exist).
 * 2. Pays every agent once in epoch 0 through MockBatchPayer: real `pay` calls, real Paid events.
 * 3. Runs the earnings keeper (keepers/earnings/main.ts) as its own process: it reads the events over JSON-RPC, closes
 *    the epoch, publishes the tree and posts the root. Its time (from "service started" to the root's confirmation) and
 *    peak memory (VmHWM of its process) are the figures with targets: at most 60 s and 1 GiB at 100,000 agents. The
 *    keeper has run once before, while the payments were made (as a keeper does, epoch after epoch): its embedded
 *    database is initialised, which PGlite does once per data directory (about 20 s and 960 MiB here, reported too).
 * 4. Moves past the challenge window; the keeper claims every leaf in block-sized batches. Reports the post's gas, the
 *    claims' gas, the gas per agent, and checks the result on chain (nothing left, every wei in the Treasury).
 *
 * Writes the figures to .data/bench/earnings-<N>.json as well.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { type Address, type Hex, parseAbi } from "viem";
import { distributorAbi, routerAbi } from "../../keepers/earnings/abi";
import { deployEarningsChain, NODE_KEYS } from "../../test/fixtures/earningsChain";
import { startHardhatNode } from "../../test/helpers/hardhatNode";
import { makeTempDir } from "../../test/helpers/tmp";

const ETH = "0x0000000000000000000000000000000000000000" as Address;
const REPO = path.resolve(__dirname, "..", "..");

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** Peak resident set of a process (Linux /proc), in bytes. */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
  if (!kb) throw new Error(`no VmHWM for process ${pid}`);
  return Number(kb) * 1024;
}

type LogLine = Record<string, unknown> & { msg: string; time: string };

class KeeperProcess {
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  private waiters: { test: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  private stderr = "";

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "keepers/earnings/main.ts"], {
      cwd: REPO,
      env: { ...process.env, ...env, TS_NODE_PROJECT: path.join(REPO, "tsconfig.json") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    this.child.stdout!.on("data", (b: Buffer) => {
      buffer += b.toString();
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        if (!line.startsWith("{")) continue;
        const parsed = JSON.parse(line) as LogLine;
        this.lines.push(parsed);
        if (Number(parsed.level) >= 50)
          console.error(`keeper: ${parsed.msg} ${JSON.stringify(parsed.err ?? parsed.problem ?? "")}`);
        for (const w of [...this.waiters]) {
          if (w.test(parsed)) {
            this.waiters = this.waiters.filter((x) => x !== w);
            w.resolve(parsed);
          }
        }
      }
    });
    this.child.stderr!.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-4_000);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The first log line (past or future) matching `test`. */
  waitFor(test: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`keeper: no "${what}" within ${timeoutMs} ms\n${this.stderr}`)),
        timeoutMs,
      );
      const exit = () => reject(new Error(`keeper exited (${this.child.exitCode}) before "${what}"\n${this.stderr}`));
      this.child.once("exit", exit);
      this.waiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          this.child.off("exit", exit);
          resolve(l);
        },
      });
    });
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((r) => this.child.once("exit", (code) => r(code)));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }
}

async function main() {
  const agents = arg("agents", 1_000);
  const perTx = arg("payments-per-tx", 1_000);
  const started = Date.now();
  console.log(`earnings benchmark: ${agents} agents, one epoch, over JSON-RPC`);
  const node = await startHardhatNode({ startTimeoutMs: 60_000 });
  let keeper: KeeperProcess | undefined;
  try {
    const chain = await deployEarningsChain(node.url, { agents, epochLength: 3_600, challengeWindow: 600 });
    console.log(`  hardhat node pid ${node.pid} at ${node.url}; contracts deployed`);
    const dataDir = makeTempDir("covenant-bench-earnings-");
    const env = {
      RPC_URLS: chain.url,
      CHAIN_ID: String(chain.chainId),
      HTTP_PORT: "0",
      POLL_INTERVAL_MS: "1000",
      CONFIRMATIONS: "0",
      LOG_LEVEL: "info",
      LOG_CHUNK_BLOCKS: "5",
      SCAN_MAX_CHUNKS: "100000",
      KEEPER_PRIVATE_KEY: NODE_KEYS.poster,
      ROUTER_ADDRESS: chain.addresses.router,
      DISTRIBUTOR_ADDRESS: chain.addresses.distributor,
      START_BLOCK: chain.startBlock.toString(),
      DATA_DIR: dataDir,
      CLAIM_IN_FLIGHT: "8",
      TX_WAIT_MS: "600000",
      // Always the embedded database in a fresh folder: its state belongs to this throw-away chain.
      DATABASE_URL: "",
    };

    // The keeper's first run: creates its database, finds nothing to do, stops.
    let t = Date.now();
    keeper = new KeeperProcess(env);
    const firstReady = await keeper.waitFor((l) => l.msg === "service started", 180_000, "service started");
    const firstStartSeconds = (Date.parse(firstReady.time) - t) / 1000;
    const firstRunPeak = peakRss(keeper.pid);
    await keeper.stop();
    keeper = undefined;
    console.log(
      `  keeper's first start (database created): ${firstStartSeconds.toFixed(1)} s, peak RSS ${(firstRunPeak / 2 ** 20).toFixed(0)} MiB`,
    );

    // 2. Payments: every agent once, amounts all different.
    t = Date.now();
    const payments = Array.from({ length: agents }, (_, i) => ({
      agentId: BigInt(i),
      amount: 10n ** 15n + BigInt(i) * 1_000_003n,
    }));
    await chain.payEth(payments, perTx);
    await chain.startEpoch(1n);
    const bucket = await chain.client.readContract({
      address: chain.addresses.router,
      abi: routerAbi,
      functionName: "bucketOf",
      args: [0n, ETH],
    });
    const paySeconds = (Date.now() - t) / 1000;
    console.log(`  ${agents} payments in ${paySeconds.toFixed(1)} s (setup, not measured); bucket ${bucket} wei`);

    // 3. The keeper's epoch: started again, on its existing database.
    t = Date.now();
    keeper = new KeeperProcess(env);
    const ready = await keeper.waitFor((l) => l.msg === "service started", 120_000, "service started");
    const startupSeconds = (Date.parse(ready.time) - t) / 1000;
    const read = await keeper.waitFor((l) => l.msg === "Paid events read", 600_000, "Paid events read");
    const closed = await keeper.waitFor((l) => l.msg === "epoch closed and published", 600_000, "epoch closed");
    const posted = await keeper.waitFor((l) => l.msg === "root posted", 600_000, "root posted");
    const epochSeconds = (Date.parse(posted.time) - Date.parse(ready.time)) / 1000;
    const epochPeak = peakRss(keeper.pid);
    const [rootLog] = await chain.client.getContractEvents({
      address: chain.addresses.distributor,
      abi: distributorAbi,
      eventName: "RootPosted",
      args: { epoch: 0n },
      fromBlock: chain.startBlock,
    });
    if (!rootLog) throw new Error("no RootPosted on chain");
    const postGas = (await chain.client.getTransactionReceipt({ hash: rootLog.transactionHash })).gasUsed;
    if (rootLog.args.total !== bucket) throw new Error("posted total is not the bucket");
    const treeFile = path.join(dataDir, "trees", `${rootLog.args.uri!.replace("ipfs://", "")}.json`);
    console.log(
      `  keeper: started in ${startupSeconds.toFixed(1)} s; epoch in ${epochSeconds.toFixed(1)} s ` +
        `(events read ${Number(read.seconds).toFixed(1)} s, tree and publication ${Number(closed.seconds).toFixed(1)} s), ` +
        `peak RSS ${(epochPeak / 2 ** 20).toFixed(0)} MiB; root ${rootLog.args.root}, post gas ${postGas}`,
    );

    // 4. Claims after the window.
    await chain.increaseTime(601);
    t = Date.now();
    const claimed = await keeper.waitFor((l) => l.msg === "every leaf claimed", 4 * 3600_000, "every leaf claimed");
    const claimSeconds = (Date.now() - t) / 1000;
    const overallPeak = peakRss(keeper.pid);
    const claimHashes = keeper.lines
      .filter((l) => l.msg === "transaction signed and stored" && String(l.txKey).startsWith("earnings:claim:"))
      .map((l) => l.hash as Hex);
    let claimGas = 0n;
    let maxBatchGas = 0n;
    for (const hash of claimHashes) {
      const receipt = await chain.client.getTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`claim batch ${hash} reverted`);
      claimGas += receipt.gasUsed;
      if (receipt.gasUsed > maxBatchGas) maxBatchGas = receipt.gasUsed;
    }
    const block = await chain.client.getBlock();
    const info = await chain.client.readContract({
      address: chain.addresses.distributor,
      abi: distributorAbi,
      functionName: "epochInfo",
      args: [0n, ETH],
    });
    const treasuryBalance = await chain.client.getBalance({ address: chain.addresses.treasury });
    if (info.remaining !== 0n) throw new Error(`${info.remaining} wei left unclaimed`);
    if (treasuryBalance !== bucket) throw new Error(`the Treasury holds ${treasuryBalance}, the bucket was ${bucket}`);
    const sample = BigInt(agents - 1);
    const earnings = await chain.client.readContract({
      address: chain.addresses.treasury,
      abi: parseAbi(["function earningsOf(uint256 agentId, address token) view returns (uint256)"]),
      functionName: "earningsOf",
      args: [sample, ETH],
    });
    const leaf = (payments[agents - 1]!.amount * 1_000n) / 10_000n;
    if (earnings !== (leaf * 5_000n) / 10_000n)
      throw new Error(`agent ${sample} holds ${earnings}, expected half of ${leaf}`);
    console.log(
      `  claims: ${claimHashes.length} batches (${claimed.batches} planned) in ${claimSeconds.toFixed(1)} s, ${claimGas} gas ` +
        `(largest batch ${maxBatchGas} of a ${block.gasLimit} block)`,
    );
    const exitCode = await keeper.stop();
    keeper = undefined;

    const figures = {
      agents,
      keeper: {
        firstStartSeconds,
        firstRunPeakRssBytes: firstRunPeak,
        database: "pglite",
        startupSeconds,
        epochSeconds,
        eventsReadSeconds: Number(read.seconds),
        treeAndPublicationSeconds: Number(closed.seconds),
        peakRssBytesAtRoot: epochPeak,
        peakRssBytesWithClaims: overallPeak,
        exitCode,
        targetSeconds: 60,
        targetBytes: 2 ** 30,
      },
      tree: { root: rootLog.args.root, uri: rootLog.args.uri, bytes: statSync(treeFile).size },
      gas: {
        postRoot: Number(postGas),
        claims: Number(claimGas),
        claimBatches: claimHashes.length,
        largestBatch: Number(maxBatchGas),
        blockGasLimit: Number(block.gasLimit),
        claimPerAgent: Math.round(Number(claimGas) / agents),
        onChainPerAgent: Math.round(Number(claimGas + postGas) / agents),
      },
      claimSeconds,
      setup: { paymentSeconds: paySeconds },
      totalSeconds: (Date.now() - started) / 1000,
    };
    const out = path.join(REPO, ".data", "bench", `earnings-${agents}.json`);
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);

    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const rows: [string, string, string][] = [
      ["keeper epoch (events → root posted)", `${epochSeconds.toFixed(1)} s`, agents >= 100_000 ? "≤ 60 s" : ""],
      ["keeper peak memory (VmHWM) at root", mib(epochPeak), agents >= 100_000 ? "≤ 1024 MiB" : ""],
      ["keeper peak memory incl. claims", mib(overallPeak), ""],
      ["keeper start-up (store, chain)", `${startupSeconds.toFixed(1)} s`, ""],
      ["keeper first start ever (database created)", `${firstStartSeconds.toFixed(1)} s`, ""],
      ["keeper peak memory, first start ever", mib(firstRunPeak), ""],
      ["root post gas", String(postGas), "≤ 60,000"],
      ["claim gas, all batches", String(claimGas), ""],
      ["claim gas per agent", String(figures.gas.claimPerAgent), ""],
      ["on-chain gas per agent (post + claims)", String(figures.gas.onChainPerAgent), ""],
      ["claim phase time", `${claimSeconds.toFixed(1)} s`, ""],
    ];
    console.log(`\n${"figure".padEnd(42)} ${"value".padStart(14)}  target`);
    for (const [name, value, target] of rows) console.log(`${name.padEnd(42)} ${value.padStart(14)}  ${target}`);
    console.log(`\nwrote ${path.relative(REPO, out)}; ${figures.totalSeconds.toFixed(0)} s in all`);
    const over =
      agents >= 100_000 && (epochSeconds > 60 || epochPeak > 2 ** 30)
        ? "the keeper's epoch is over its target at this size"
        : undefined;
    if (over) console.log(`NOTE: ${over}`);
  } finally {
    if (keeper) await keeper.stop();
    await node.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
