import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import type { DestinationStream } from "pino";
import { type Address, getAddress } from "viem";
import {
  BaseService,
  ConfigError,
  DirectSubmitter,
  type Env,
  HttpError,
  keeperSubmitter,
  Leases,
  type Logger,
  LogScanner,
  loadMigrations,
  loadSigner,
  type Metrics,
  type ScanResult,
  type Submitter,
  type TxRecord,
} from "../shared";
import { earningsErrorsAbi, routerAbi } from "./abi";
import { type Client, chainEpoch, type EpochParams, epochParams } from "./chain";
import { earningsConfigSchema } from "./config";
import { EarningsDb, type EpochRow, type PaidLog } from "./db";
import { claimIntent, decideEpoch, lastClosableEpoch, planClaimBatches, reconcile, root28 } from "./decide";
import { loadTreeFile, publishTree } from "./publish";
import { EarningsTree } from "./tree";

/*
 * The earnings keeper. Each tick, as the leader (one instance at a time holds the lease):
 *  1. reads the router's Paid events from its cursor (bounded chunks, CONFIRMATIONS deep, reorg-safe);
 *  2. closes every epoch that ended before the last block read: per-agent sums, the tree, reconciliation with the
 *     router's bucket (refused, logged and counted when they differ), the tree published by content address;
 *  3. posts each closed root through the Submitter, claims every leaf in block-sized batches once the challenge
 *     window is over, and sweeps expired epochs.
 * Every instance serves proofs over HTTP (GET /earnings/:epoch/:agentId) from the published trees, or, when a tree
 * file is not on its disk, from the tree rebuilt out of the shared database.
 */

export class EarningsKeeper extends BaseService<typeof earningsConfigSchema> {
  private db!: EarningsDb;
  private client!: Client;
  private submitter?: Submitter;
  private scanner!: LogScanner<typeof routerAbi>;
  private leases!: Leases;
  private params!: EpochParams;
  private router!: Address;
  private distributor!: Address;
  private treeDir!: string;
  private readonly instance = randomUUID();
  private readonly trees = new Map<string, EarningsTree>();
  private m!: ReturnType<typeof earningsMetrics>;

  /** `name` names the database schemas and metrics (default "earnings"); tests give each run its own. */
  constructor(options: { env?: Env; logDestination?: DestinationStream; name?: string } = {}) {
    const { name = "earnings", ...rest } = options;
    super({ name, configSchema: earningsConfigSchema, ...rest });
  }

  protected async init(): Promise<void> {
    const c = this.config;
    const { store, schema, sharedSchema } = await this.openStore(loadMigrations(path.join(__dirname, "migrations")));
    this.db = new EarningsDb(store, schema);
    this.leases = new Leases(store, sharedSchema);
    // Registered after the store, so it runs before the store closes: the next instance need not wait out the TTL.
    this.onStop("leader lease", async () => {
      await this.leases.releaseLease(`${this.name}:leader`, this.instance);
    });
    const chain = await this.connectChain();
    this.client = chain.publicClient;
    this.router = getAddress(c.ROUTER_ADDRESS);
    this.distributor = getAddress(c.DISTRIBUTOR_ADDRESS);
    this.treeDir = c.TREE_DIR ?? path.join(c.DATA_DIR, "trees");
    this.m = earningsMetrics(this.metrics);

    const bound = await this.client.readContract({ address: this.router, abi: routerAbi, functionName: "distributor" });
    if (getAddress(bound) !== this.distributor) {
      throw new ConfigError([
        { variable: "DISTRIBUTOR_ADDRESS", message: `is not the distributor the router is bound to (${bound})` },
      ]);
    }
    this.params = await epochParams(this.client, this.router);

    const account = await loadSigner(c);
    if (account || c.TX_EXECUTOR_URL) {
      // Through the tx-executor when TX_EXECUTOR_URL is set (it sends from the poster key it holds), else signed here.
      this.submitter = await keeperSubmitter(c, {
        store,
        schema: sharedSchema,
        publicClient: chain.publicClient,
        account,
        confirmations: c.CONFIRMATIONS,
        errorAbi: earningsErrorsAbi,
        logger: this.logger,
        metrics: this.metrics,
      });
    } else {
      this.logger.warn("no KEEPER_PRIVATE_KEY: closing epochs and serving proofs only, posting and claiming nothing");
    }

    this.scanner = new LogScanner({
      name: "revenue-router:Paid",
      store,
      schema: sharedSchema,
      client: chain.publicClient,
      address: this.router,
      abi: routerAbi,
      eventNames: ["Paid"],
      startBlock: c.START_BLOCK,
      chunkBlocks: c.LOG_CHUNK_BLOCKS,
      confirmations: c.CONFIRMATIONS,
      reorgDepth: c.REORG_DEPTH,
      logger: this.logger,
      metrics: this.metrics,
      handler: {
        onLogs: (batch, tx) => this.db.insertPayments(tx, batch.logs as PaidLog[]),
        onRollback: async (fromBlock, tx) => {
          const inDoubt = await this.db.rollback(tx, fromBlock);
          for (const e of inDoubt) {
            this.m.reorgedEpochs.inc();
            this.logger.error(
              { epoch: e.epoch.toString(), asset: e.token, status: e.status, fromBlock: fromBlock.toString() },
              "a reorg removed payments of an epoch whose root is already on chain; check it with `covenant earnings verify`",
            );
          }
        },
      },
    });

    this.http.route("GET", "/earnings/:epoch/:agentId", (req) => this.proofRoute(req.params, req.query));
    this.http.route("GET", "/earnings/:epoch", (req) => this.epochRoute(req.params));
  }

  /**
   * Takes or extends the leader lease. Only the leader scans, closes, posts and claims; the lease outlives a few
   * ticks, and is extended between the steps of a long tick, so that it never lapses while this instance works.
   */
  private async lead(): Promise<boolean> {
    const leaseMs = Math.max(3 * this.config.POLL_INTERVAL_MS, 600_000);
    return (await this.leases.acquireLease(`${this.name}:leader`, this.instance, leaseMs)) !== undefined;
  }

  protected async tick(signal: AbortSignal): Promise<void> {
    const c = this.config;
    if (!(await this.lead())) {
      this.logger.debug("another instance leads; serving proofs only");
      return;
    }
    // A direct signer picks up what it sent before a crash; the tx-executor does that on its side.
    if (this.submitter instanceof DirectSubmitter) await this.submitter.recover();
    const scanStarted = Date.now();
    const scan = await this.scanner.scan({ maxChunks: c.SCAN_MAX_CHUNKS, signal });
    if (scan.logs > 0) {
      this.logger.info(
        {
          logs: scan.logs,
          chunks: scan.chunks,
          toBlock: (scan.nextBlock - 1n).toString(),
          seconds: (Date.now() - scanStarted) / 1000,
        },
        "Paid events read",
      );
    }
    if (!(await this.lead())) return;
    await this.closeEpochs(scan);
    if (!(await this.lead())) return;
    if (this.submitter) await this.advanceEpochs(this.submitter, signal);
    this.m.backlog.set(await this.db.claimBacklog());
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                       closing epochs                                       */
  /* ------------------------------------------------------------------------------------------ */

  /** Closes every epoch that ended before the last block the scan has read. Public for tests and the bench. */
  async closeEpochs(scan: Pick<ScanResult, "nextBlock">): Promise<void> {
    const last = scan.nextBlock - 1n;
    if (last < this.config.START_BLOCK) return;
    const block = await this.client.getBlock({ blockNumber: last });
    const maxEpoch = lastClosableEpoch(block.timestamp, this.params.genesis, this.params.epochLength);
    if (maxEpoch === undefined) return;
    for (const { epoch, token, refused } of await this.db.epochsToClose(maxEpoch)) {
      await this.closeEpoch(epoch, token, last, refused);
    }
  }

  private async closeEpoch(epoch: bigint, token: Address, atBlock: bigint, wasRefused: boolean): Promise<void> {
    const started = Date.now();
    // "token" is a secret-looking key to the logger, hence "asset".
    const log = this.logger.child({ epoch: epoch.toString(), asset: token });
    const leaves = await this.db.leaves(epoch, token);
    if (leaves.length === 0) {
      await this.db.saveEpoch({ epoch, token, status: "empty" });
      log.info("epoch closed: no agent share to distribute");
      return;
    }
    const tree = EarningsTree.build(leaves);
    const bucket = await this.client.readContract({
      address: this.router,
      abi: routerAbi,
      functionName: "bucketOf",
      args: [epoch, token],
      blockNumber: atBlock,
    });
    let problem = reconcile(tree, bucket);
    if (problem) {
      // An epoch already opened has moved its bucket to the Treasury: then the root on chain must be ours.
      const onChain = await chainEpoch(this.client, this.distributor, epoch, token);
      if (onChain.opened && onChain.root28.toLowerCase() === root28(tree.root)) problem = undefined;
    }
    if (problem) {
      await this.db.saveEpoch({
        epoch,
        token,
        status: "refused",
        root: tree.root,
        total: tree.total,
        leaves: tree.length,
        problem,
      });
      if (!wasRefused) {
        this.m.reconciliationFailures.inc({ token });
        log.error(
          { root: tree.root, total: tree.total.toString(), bucket: bucket.toString(), problem },
          "reconciliation failed: not posting",
        );
      }
      return;
    }
    const published = await publishTree(tree, this.treeDir, { ipfsApiUrl: this.config.IPFS_API_URL, logger: log });
    await this.db.saveEpoch({
      epoch,
      token,
      status: "closed",
      root: tree.root,
      total: tree.total,
      leaves: tree.length,
      cid: published.cid,
      uri: published.uri,
      treeFile: published.file,
    });
    if (this.trees.size >= 2) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(tree.root, tree);
    const seconds = (Date.now() - started) / 1000;
    this.m.epochsClosed.inc({ token });
    this.m.leaves.inc({ token }, tree.length);
    this.m.amount.inc({ token }, Number(tree.total));
    this.m.closeSeconds.observe(seconds);
    log.info(
      {
        root: tree.root,
        total: tree.total.toString(),
        leaves: tree.length,
        uri: published.uri,
        pinned: published.pinned,
        seconds,
      },
      "epoch closed and published",
    );
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                posting, claiming, sweeping                                 */
  /* ------------------------------------------------------------------------------------------ */

  private async advanceEpochs(submitter: Submitter, signal: AbortSignal): Promise<void> {
    const rows = await this.db.epochsWithStatus(["closed", "posted", "claimed"]);
    if (rows.length === 0) return;
    const now = (await this.client.getBlock({ blockTag: "latest" })).timestamp;
    for (const row of rows) {
      if (signal.aborted || !(await this.lead())) return;
      const log = this.logger.child({ epoch: row.epoch.toString(), asset: row.token });
      const onChain = await chainEpoch(this.client, this.distributor, row.epoch, row.token);
      const action = decideEpoch(row, onChain, now, this.distributor, this.config.CLAIMS_ENABLED);
      switch (action.kind) {
        case "post": {
          // The chain holds no root. If this very post was confirmed before, the guardian cancelled it: the key
          // holds the root, so it is never sent twice.
          const before = await submitter.get(action.intent.key);
          if (before?.status === "confirmed") {
            await this.markCancelled(row, log);
            break;
          }
          const done = await this.settle(submitter, await submitter.submit(action.intent), log);
          if (done.status === "confirmed") {
            const after = await chainEpoch(this.client, this.distributor, row.epoch, row.token);
            await this.db.setStatus(row.epoch, row.token, "posted", {
              claimableAt: after.claimableAt,
              expiresAt: after.expiresAt,
              postTx: done.hash,
            });
            this.m.rootsPosted.inc({ token: row.token });
            log.info(
              { tx: done.hash, gasUsed: done.gasUsed?.toString(), claimableAt: after.claimableAt.toString() },
              "root posted",
            );
          } else if (done.status === "failed") {
            await this.db.setStatus(row.epoch, row.token, "failed", {
              problem: `post reverted: ${done.revertReason ?? "?"}`,
            });
            log.error({ tx: done.hash, reason: done.revertReason }, "root post reverted");
          } else if (done.status === "rejected") {
            log.warn(
              { reason: done.revertReason ?? done.error },
              "root post refused by simulation; retrying next tick",
            );
          }
          break;
        }
        case "status": {
          await this.db.setStatus(row.epoch, row.token, action.status, action);
          if (action.status === "cancelled") await this.markCancelled(row, log);
          else if (action.status === "conflict") {
            this.m.conflicts.inc();
            log.error({ problem: action.problem }, "another root is on chain for this epoch");
          } else log.info({ status: action.status }, "epoch status changed");
          break;
        }
        case "claim":
          await this.claimEpoch(submitter, row, log, signal);
          break;
        case "sweep": {
          const done = await this.settle(submitter, await submitter.submit(action.intent), log);
          if (done.status === "confirmed") {
            await this.db.setStatus(row.epoch, row.token, "swept");
            log.info({ tx: done.hash }, "expired epoch swept to the commons");
          }
          break;
        }
        case "wait":
          break;
      }
    }
  }

  private async markCancelled(row: EpochRow, log: Logger): Promise<void> {
    await this.db.setStatus(row.epoch, row.token, "cancelled", { problem: "the guardian cancelled the root" });
    this.m.rootsCancelled.inc({ token: row.token });
    log.error({ root: row.root }, "the guardian cancelled our root; it will not be posted again without an operator");
  }

  /** Waits for a record to be terminal, up to TX_WAIT_MS (then the next tick looks again). */
  private async settle(submitter: Submitter, record: TxRecord, log: Logger): Promise<TxRecord> {
    if (record.status === "confirmed" || record.status === "failed" || record.status === "rejected") return record;
    try {
      return await submitter.wait(record.id, { timeoutMs: this.config.TX_WAIT_MS });
    } catch (err) {
      log.warn({ err, tx: record.id }, "transaction not settled yet; looking again next tick");
      return record;
    }
  }

  private async claimEpoch(submitter: Submitter, row: EpochRow, log: Logger, signal: AbortSignal): Promise<void> {
    const tree = await this.treeOf(row);
    let batches = await this.db.batches(row.epoch, row.token);
    if (batches.length === 0) {
      const batchGas = this.config.CLAIM_BATCH_GAS || Number((await this.client.getBlock()).gasLimit / 2n);
      const proofLengths = tree.leaves.map((_, i) => tree.proofAt(i).length);
      const plan = planClaimBatches(proofLengths, batchGas).map((b) => ({
        ...b,
        key: claimIntentKey(this.distributor, row.epoch, tree, b.index),
      }));
      await this.db.planBatches(row.epoch, row.token, plan);
      batches = await this.db.batches(row.epoch, row.token);
      log.info({ batches: batches.length, leaves: tree.length, batchGas }, "claims planned");
    }
    const open = batches
      .filter((b) => b.status === "pending" || b.status === "sent")
      .slice(0, this.config.CLAIM_IN_FLIGHT);
    const sent: { batch: (typeof batches)[number]; record: TxRecord }[] = [];
    for (const batch of open) {
      if (signal.aborted) break;
      const intent = claimIntent(this.distributor, row.epoch, tree, {
        index: batch.batch,
        first: batch.first,
        count: batch.count,
      });
      const record = await submitter.submit(intent);
      if (record.status === "rejected") {
        log.warn(
          { batch: batch.batch, reason: record.revertReason ?? record.error },
          "claim batch refused by simulation; retrying next tick",
        );
        break;
      }
      if (batch.status === "pending")
        await this.db.setBatch(row.epoch, row.token, batch.batch, "sent", { txId: record.id });
      sent.push({ batch, record });
    }
    for (const { batch, record } of sent) {
      const done = await this.settle(submitter, record, log);
      if (done.status === "confirmed") {
        await this.db.setBatch(row.epoch, row.token, batch.batch, "confirmed");
        this.m.claims.inc({ token: row.token }, batch.count);
      } else if (done.status === "failed") {
        const problem = `claim batch ${batch.batch} reverted: ${done.revertReason ?? "?"}`;
        await this.db.setBatch(row.epoch, row.token, batch.batch, "failed", { problem });
        await this.db.setStatus(row.epoch, row.token, "failed", { problem });
        this.m.claimFailures.inc({ token: row.token });
        log.error({ tx: done.hash, reason: done.revertReason }, "claim batch reverted; claims of this epoch stop");
        return;
      }
    }
    const after = await this.db.batches(row.epoch, row.token);
    if (after.every((b) => b.status === "confirmed")) {
      await this.db.setStatus(row.epoch, row.token, "claimed");
      log.info({ leaves: tree.length, batches: after.length }, "every leaf claimed");
    }
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                           proofs                                           */
  /* ------------------------------------------------------------------------------------------ */

  /** The tree of a closed epoch: from its published file, else rebuilt from the database; checked against the root. */
  async treeOf(row: EpochRow): Promise<EarningsTree> {
    if (!row.root) throw new HttpError(404, "no_tree", `epoch ${row.epoch} has no tree for ${row.token}`);
    const cached = this.trees.get(row.root);
    if (cached) return cached;
    let tree: EarningsTree;
    if (row.treeFile && existsSync(row.treeFile)) tree = await loadTreeFile(row.treeFile, row.root, { own: true });
    else {
      tree = EarningsTree.build(await this.db.leaves(row.epoch, row.token));
      if (tree.root !== row.root) throw new Error(`epoch ${row.epoch}: the database no longer gives root ${row.root}`);
    }
    // A 100,000-leaf tree takes tens of MiB: keep the two most recent.
    if (this.trees.size >= 2) this.trees.delete(this.trees.keys().next().value!);
    this.trees.set(row.root, tree);
    return tree;
  }

  private async proofRoute(params: Record<string, string>, query: URLSearchParams) {
    const epoch = parseUint(params.epoch, "epoch");
    const agentId = parseUint(params.agentId, "agentId");
    const only = query.get("token");
    const rows = (await this.db.epochRows(epoch)).filter(
      (r) =>
        r.root && !["refused", "empty"].includes(r.status) && (!only || r.token.toLowerCase() === only.toLowerCase()),
    );
    const leaves = [];
    for (const row of rows) {
      const tree = await this.treeOf(row);
      const leaf = tree.leafOf(agentId);
      const proof = tree.proof(agentId);
      if (!leaf || !proof) continue;
      leaves.push({
        token: row.token,
        amount: leaf.amount.toString(),
        proof,
        root: row.root,
        uri: row.uri,
        status: row.status,
      });
    }
    if (leaves.length === 0) {
      throw new HttpError(404, "no_earnings", `agent ${agentId} has no leaf in the closed trees of epoch ${epoch}`);
    }
    return { body: { epoch: epoch.toString(), agentId: agentId.toString(), distributor: this.distributor, leaves } };
  }

  private async epochRoute(params: Record<string, string>) {
    const epoch = parseUint(params.epoch, "epoch");
    const rows = await this.db.epochRows(epoch);
    if (rows.length === 0) throw new HttpError(404, "unknown_epoch", `epoch ${epoch} is not closed`);
    return {
      body: {
        epoch: epoch.toString(),
        tokens: rows.map((r) => ({
          token: r.token,
          status: r.status,
          root: r.root ?? null,
          total: r.total?.toString() ?? null,
          leaves: r.leaves ?? null,
          uri: r.uri ?? null,
          problem: r.problem ?? null,
        })),
      },
    };
  }

  /** The scanner, for tests and the benchmark. */
  get paidScanner(): LogScanner<typeof routerAbi> {
    return this.scanner;
  }
}

function parseUint(value: string | undefined, name: string): bigint {
  if (!value || !/^\d{1,78}$/.test(value))
    throw new HttpError(400, "invalid_request", `${name} must be a decimal integer`);
  return BigInt(value);
}

/** The idempotency key of a claim batch (claimIntent's key, without encoding the batch). */
function claimIntentKey(distributor: Address, epoch: bigint, tree: EarningsTree, index: number): string {
  return `earnings:claim:${distributor.toLowerCase()}:${epoch}:${tree.token.toLowerCase()}:${tree.root}:${index}`;
}

function earningsMetrics(metrics: Metrics) {
  return {
    epochsClosed: metrics.counter("epochs_closed_total", "Epochs closed and published, by token", ["token"]),
    leaves: metrics.counter("leaves_total", "Leaves in the trees of closed epochs", ["token"]),
    amount: metrics.counter("amount_total", "Agent shares in closed epochs, in the token's smallest unit", ["token"]),
    reconciliationFailures: metrics.counter(
      "reconciliation_failures_total",
      "Epochs whose leaves did not sum to the router's bucket (not posted)",
      ["token"],
    ),
    closeSeconds: metrics.histogram(
      "epoch_close_seconds",
      "Time to close one epoch and token (sum, tree, publication)",
    ),
    rootsPosted: metrics.counter("roots_posted_total", "Roots posted and confirmed", ["token"]),
    rootsCancelled: metrics.counter("roots_cancelled_total", "Roots of ours the guardian cancelled", ["token"]),
    conflicts: metrics.counter("root_conflicts_total", "Epochs for which the distributor holds another root"),
    claims: metrics.counter("claims_total", "Leaves claimed in confirmed batches", ["token"]),
    claimFailures: metrics.counter("claim_failures_total", "Claim batches that reverted", ["token"]),
    backlog: metrics.gauge("claim_backlog", "Leaves of posted epochs not yet claimed"),
    reorgedEpochs: metrics.counter("reorged_epochs_total", "Posted epochs whose payments a reorg removed"),
  };
}
