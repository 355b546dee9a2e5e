import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { type Address, getAbiItem, getAddress, isAddress, type PublicClient, toEventSelector, zeroAddress } from "viem";
import { z } from "zod";
import {
  BaseService,
  type Env,
  HttpError,
  intVar,
  keeperConfigSchema,
  keeperSubmitter,
  Leases,
  LogScanner,
  loadMigrations,
  loadSigner,
  parseJson,
  type Queryable,
  type ScannedLog,
  type Secret,
  type Store,
  type Submitter,
  secretVar,
  submitterEnvShape,
  type TxRecord,
} from "../shared";
import { erc20Abi, safeEventsAbi, spendingModuleAbi } from "./abi";
import {
  ANOMALY_SIGNALS,
  type AnomalySignal,
  type ApprovedSpend,
  type Decision,
  decide,
  type OpenAnomaly,
  type SpendingIntent,
  type SweepCandidate,
} from "./decide";

/*
 * The spending keeper: sweeps Safes above their hot threshold, executes approved queued spends once
 * their delay has passed, keeps the large-spend queue on record for the CLI and dashboards, and
 * freezes an agent through the sentinel key when the tx-executor or the chain shows an anomaly.
 *
 * Each tick: recover the Submitter, scan the module's events (and, for WATCH_TOKENS, transfers out of
 * bound Safes), classify new outflows, read what the chain says now, decide (decide.ts, pure),
 * submit every intent through the Submitter under a key derived from what it acts on.
 */

const addressVar = z
  .string()
  .refine((a) => isAddress(a), "expected an address")
  .transform((a) => getAddress(a));

const addressListVar = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    const parts = (raw ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const bad = parts.findIndex((p) => !isAddress(p));
    if (bad >= 0) {
      ctx.addIssue({ code: "custom", message: `expected comma-separated addresses (entry ${bad + 1} is not one)` });
      return z.NEVER;
    }
    return parts.map((p) => getAddress(p));
  });

const signalListVar = z
  .string()
  .optional()
  .transform((raw, ctx) => {
    if (raw === undefined) return new Set<AnomalySignal>(ANOMALY_SIGNALS);
    const parts = raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const bad = parts.find((p) => !(ANOMALY_SIGNALS as readonly string[]).includes(p));
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: `expected signals among ${ANOMALY_SIGNALS.join(", ")} (got "${bad}")` });
      return z.NEVER;
    }
    return new Set(parts as AnomalySignal[]);
  });

export const spendingConfigSchema = keeperConfigSchema(
  { keeper: "spending", signer: "required", defaultHttpPort: 9483 },
  {
    /** The SpendingLimitModule. */
    SPENDING_MODULE_ADDRESS: addressVar,
    /** Send through the tx-executor (TX_EXECUTOR_URL + TX_EXECUTOR_TOKEN) instead of signing here. */
    ...submitterEnvShape,
    /** The module's deployment block: where the event cursor starts. */
    START_BLOCK: z.string().regex(/^\d+$/, "expected a block number").transform(BigInt),
    /** ERC-20s whose transfers out of bound Safes are checked (a transfer the module did not make is an anomaly). */
    WATCH_TOKENS: addressListVar,
    /** Bearer token the tx-executor presents to POST /anomalies; unset disables the route. */
    ANOMALY_TOKEN: secretVar,
    REFUSED_BURST_COUNT: intVar(1, 10_000, 5),
    REFUSED_BURST_WINDOW_S: intVar(1, 86_400 * 7, 600),
    /** Which signals freeze (default all); the rest are only recorded. */
    FREEZE_SIGNALS: signalListVar,
    SWEEP_MIN_EXCESS_WEI: z
      .string()
      .regex(/^\d+$/, "expected a wei amount")
      .optional()
      .transform((v) => BigInt(v ?? "0")),
    EXECUTE_QUEUED: z
      .enum(["true", "false"], { error: () => "expected true or false" })
      .optional()
      .transform((v) => v !== "false"),
    /** Retries of a sweep or an execution whose transaction was mined and reverted, before giving up. */
    MAX_ATTEMPTS: intVar(1, 20, 3),
  },
);

export type SpendingConfig = z.output<typeof spendingConfigSchema>;

const KEEPER = "spending";
/** The lease that makes one instance the acting one when several share a database. */
const LEADER_LEASE = "spending:leader";
const MIGRATIONS = join(__dirname, "migrations");
/** The topic of the Safe's ExecutionSuccess: a Safe transaction of its owners. */
const EXECUTION_SUCCESS = toEventSelector(getAbiItem({ abi: safeEventsAbi, name: "ExecutionSuccess" }));
const QUEUE_STATUS = ["None", "Pending", "Approved", "Executed", "Vetoed", "Cancelled"] as const;

/** The anomaly a tx-executor reports. */
export const anomalyReportSchema = z
  .object({
    agentId: z.union([z.string().regex(/^\d{1,78}$/), z.number().int().nonnegative()]).transform((v) => BigInt(v)),
    signal: z.enum(ANOMALY_SIGNALS),
    detail: z.record(z.string(), z.unknown()).optional(),
    /** The reporter's own id for this observation: a repeated report with the same key is recorded once. */
    key: z.string().min(1).max(200).optional(),
  })
  .strict();

type ModuleLog = ScannedLog<typeof spendingModuleAbi>;

export class SpendingKeeper extends BaseService<typeof spendingConfigSchema> {
  private store!: Store;
  private schema!: string;
  private client!: PublicClient;
  private submitter!: Submitter & { recover?: () => Promise<unknown> };
  private sentinel!: Address;
  private leases!: Leases;
  private readonly instance = randomUUID();
  private moduleScanner!: LogScanner<typeof spendingModuleAbi>;
  private tokenScanner?: LogScanner<typeof erc20Abi>;
  private counters!: {
    decisions: ReturnType<BaseService["metrics"]["counter"]>;
    anomalies: ReturnType<BaseService["metrics"]["counter"]>;
    deferred: ReturnType<BaseService["metrics"]["gauge"]>;
    queue: ReturnType<BaseService["metrics"]["gauge"]>;
    leader: ReturnType<BaseService["metrics"]["gauge"]>;
  };

  constructor(env?: Env, options: { name?: string; submitter?: Submitter } = {}) {
    super({ name: options.name ?? KEEPER, configSchema: spendingConfigSchema, env });
    if (options.submitter) this.submitter = options.submitter;
  }

  protected async init(): Promise<void> {
    const { store, schema, sharedSchema } = await this.openStore(loadMigrations(MIGRATIONS));
    this.store = store;
    this.schema = schema;
    const chain = await this.connectChain();
    this.client = chain.publicClient as PublicClient;
    const account = await loadSigner(this.config);
    if (!account) throw new Error("the spending keeper needs its sentinel key (KEEPER_PRIVATE_KEY)");
    this.sentinel = account.address;
    this.submitter ??= await keeperSubmitter(this.config, {
      ...{ store, schema: sharedSchema, publicClient: chain.publicClient, account },
      ...{ confirmations: this.config.CONFIRMATIONS, errorAbi: spendingModuleAbi },
      ...{ logger: this.logger, metrics: this.metrics },
    });
    const m = this.metrics;
    this.counters = {
      decisions: m.counter("intents_total", "Intents decided, by kind and outcome", ["kind", "outcome"]),
      anomalies: m.counter("anomalies_total", "Anomaly signals recorded, by signal and source", ["signal", "source"]),
      deferred: m.gauge("freezes_deferred", "Agents waiting for the sentinel's rate limit to allow a freeze"),
      queue: m.gauge("queue_spends", "Queued spends by status", ["status"]),
      leader: m.gauge("leader", "1 while this instance holds the lease and acts; 0 while it stands by"),
    };
    // Several instances may share one PostgreSQL: one acts (it holds the lease), the others stand by.
    this.leases = new Leases(store, sharedSchema);
    this.onStop("lease", async () => {
      await this.leases.releaseLease(LEADER_LEASE, this.instance);
    });
    const c = this.config;
    const scan = { chunkBlocks: c.LOG_CHUNK_BLOCKS, confirmations: c.CONFIRMATIONS, reorgDepth: c.REORG_DEPTH };
    this.moduleScanner = new LogScanner({
      ...{ name: "spending-module", store, schema: sharedSchema, client: chain.publicClient, logger: this.logger },
      ...{ metrics: m, address: c.SPENDING_MODULE_ADDRESS, abi: spendingModuleAbi, startBlock: c.START_BLOCK },
      ...scan,
      handler: {
        onLogs: async (batch, tx) => {
          for (const log of batch.logs) await this.recordModuleEvent(log as ModuleLog, tx);
        },
        onRollback: async (fromBlock, tx) => {
          await tx.query(`DELETE FROM ${this.t("module_events")} WHERE block_number >= $1`, [fromBlock]);
        },
      },
    });
    if (c.WATCH_TOKENS.length > 0) {
      this.tokenScanner = new LogScanner({
        // No metrics: keepers/shared's LogScanner registers its metrics per instance, and the module scanner has them.
        ...{ name: "spending-outflows", store, schema: sharedSchema, client: chain.publicClient, logger: this.logger },
        ...{ address: c.WATCH_TOKENS, abi: erc20Abi, eventNames: ["Transfer"], startBlock: c.START_BLOCK },
        ...scan,
        handler: {
          onLogs: async (batch, tx) => {
            for (const log of batch.logs) await this.recordOutflow(log, tx);
          },
          onRollback: async (fromBlock, tx) => {
            await tx.query(`DELETE FROM ${this.t("outflows")} WHERE block_number >= $1`, [fromBlock]);
            await tx.query(
              `DELETE FROM ${this.t("anomalies")} WHERE source = 'chain' AND handled_by IS NULL AND block_number >= $1`,
              [fromBlock],
            );
          },
        },
      });
    }
    this.routes();
  }

  protected async tick(signal: AbortSignal): Promise<void> {
    const ttl = Math.max(30_000, 3 * this.config.POLL_INTERVAL_MS);
    const lease = await this.leases.acquireLease(LEADER_LEASE, this.instance, ttl);
    this.counters.leader.set(lease ? 1 : 0);
    if (!lease) return;
    await this.submitter.recover?.();
    const scanned = await this.moduleScanner.scan({ maxChunks: 50, signal });
    // Outflows are judged against module events of the same blocks: scan tokens only up to the module cursor.
    if (this.tokenScanner && scanned.caughtUp) await this.tokenScanner.scan({ maxChunks: 50, signal });
    await this.classifyOutflows();
    const decision = await this.decideNow();
    await this.act(decision);
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                        state in                                            */
  /* ------------------------------------------------------------------------------------------ */

  /** Reads the state decide() needs: open anomalies, what the chain says now, sweeps, approved spends. */
  async readState() {
    const c = this.config;
    const [block, sentinel] = await Promise.all([
      this.client.getBlock({ blockTag: "latest" }),
      this.client.readContract({
        address: c.SPENDING_MODULE_ADDRESS,
        abi: spendingModuleAbi,
        functionName: "sentinelState",
        args: [this.sentinel],
      }),
    ]);
    const anomalies = (
      await this.store.query<{ id: string; agent_id: string; signal: AnomalySignal; observed_at: Date }>(
        `SELECT id, agent_id, signal, observed_at FROM ${this.t("anomalies")} WHERE handled_by IS NULL ORDER BY id`,
      )
    ).rows.map(
      (r): OpenAnomaly => ({
        id: String(r.id),
        agentId: BigInt(r.agent_id),
        signal: r.signal,
        observedAt: Math.floor(r.observed_at.getTime() / 1000),
      }),
    );
    const frozen = new Set<string>();
    for (const agentId of new Set(anomalies.map((a) => a.agentId))) {
      const state = await this.agentStateOnChain(agentId);
      if (state.frozen) frozen.add(agentId.toString());
    }
    return {
      module: c.SPENDING_MODULE_ADDRESS,
      now: Math.floor(Date.now() / 1000),
      chainTime: Number(block.timestamp),
      anomalies,
      frozen,
      sentinel: {
        maxFreezes: Number(sentinel.maxFreezes),
        window: Number(sentinel.window),
        windowStart: Number(sentinel.windowStart),
        used: Number(sentinel.used),
      },
      sweeps: await this.sweepCandidates(),
      approved: await this.approvedSpends(),
      policy: {
        refusedBurstCount: c.REFUSED_BURST_COUNT,
        refusedBurstWindowS: c.REFUSED_BURST_WINDOW_S,
        freezeSignals: c.FREEZE_SIGNALS,
        sweepMinExcess: c.SWEEP_MIN_EXCESS_WEI,
        executeQueued: c.EXECUTE_QUEUED,
      },
    };
  }

  private async decideNow(): Promise<Decision> {
    const decision = decide(await this.readState());
    this.counters.deferred.set(decision.deferred.length);
    if (decision.deferred.length > 0) {
      this.logger.warn({ agents: decision.deferred }, "freezes deferred: the sentinel's rate limit allows no more now");
    }
    return decision;
  }

  private async agentStateOnChain(agentId: bigint) {
    return this.client.readContract({
      address: this.config.SPENDING_MODULE_ADDRESS,
      abi: spendingModuleAbi,
      functionName: "agentState",
      args: [agentId],
    });
  }

  /** Every (agent, token) with a sweep set up for the agent's current Safe, with the balance now. */
  private async sweepCandidates(): Promise<SweepCandidate[]> {
    const { rows } = await this.store.query<{ agent_id: string; token: string; swept: string }>(
      `WITH thresholds AS (
         SELECT DISTINCT ON (agent_id, args->>'safe', args->>'token') agent_id, args->>'safe' AS safe,
                args->>'token' AS token, (args->>'enabled')::boolean AS enabled
           FROM ${this.t("module_events")} WHERE name = 'HotThresholdSet'
          ORDER BY agent_id, args->>'safe', args->>'token', block_number DESC, log_index DESC),
       bindings AS (
         SELECT DISTINCT ON (agent_id) agent_id, name, args->>'safe' AS safe
           FROM ${this.t("module_events")} WHERE name IN ('SafeBound', 'SafeUnbound')
          ORDER BY agent_id, block_number DESC, log_index DESC)
       SELECT t.agent_id, t.token,
              (SELECT count(*) FROM ${this.t("module_events")} s
                WHERE s.name = 'Swept' AND s.agent_id = t.agent_id AND s.args->>'token' = t.token) AS swept
         FROM thresholds t JOIN bindings b ON b.agent_id = t.agent_id AND b.name = 'SafeBound' AND b.safe = t.safe
        WHERE t.enabled
        ORDER BY t.agent_id, t.token`,
    );
    const out: SweepCandidate[] = [];
    for (const r of rows) {
      const agentId = BigInt(r.agent_id);
      const token = getAddress(r.token);
      // The chain has the last word on the policy and the binding (the events above may lag by CONFIRMATIONS).
      const [state, policy] = await Promise.all([
        this.agentStateOnChain(agentId),
        this.client.readContract({
          address: this.config.SPENDING_MODULE_ADDRESS,
          abi: spendingModuleAbi,
          functionName: "tokenPolicy",
          args: [agentId, token],
        }),
      ]);
      if (state.safe === zeroAddress || state.cold === zeroAddress || !policy.sweepEnabled) continue;
      const balance =
        token === zeroAddress
          ? await this.client.getBalance({ address: state.safe })
          : await this.client.readContract({
              address: token,
              abi: erc20Abi,
              functionName: "balanceOf",
              args: [state.safe],
            });
      out.push({ agentId, token, balance, threshold: policy.hotThreshold, sweptCount: Number(r.swept) });
    }
    return out;
  }

  /** Queued spends approved on record, checked against the chain now. */
  private async approvedSpends(): Promise<ApprovedSpend[]> {
    const rows = await this.queueRows();
    this.counters.queue.reset();
    for (const r of rows) this.counters.queue.inc({ status: r.status });
    const out: ApprovedSpend[] = [];
    for (const r of rows.filter((x) => x.status === "Approved")) {
      const q = await this.client.readContract({
        address: this.config.SPENDING_MODULE_ADDRESS,
        abi: spendingModuleAbi,
        functionName: "queuedSpend",
        args: [BigInt(r.queueId)],
      });
      if (QUEUE_STATUS[q.status] !== "Approved") continue;
      const agent = await this.agentStateOnChain(q.agentId);
      out.push({
        queueId: BigInt(r.queueId),
        agentId: q.agentId,
        executableAt: Number(q.executableAt),
        expiresAt: Number(q.executableAt) + 7 * 86_400,
        blocked: agent.frozen || getAddress(agent.safe) !== getAddress(q.safe),
      });
    }
    return out;
  }

  /** The large-spend queue as the keeper has it on record (events at CONFIRMATIONS depth). */
  async queueRows() {
    const { rows } = await this.store.query<{ queue_id: string; name: string; args: Record<string, string> }>(
      `SELECT DISTINCT ON (queue_id) queue_id, name, args FROM ${this.t("module_events")}
        WHERE queue_id IS NOT NULL ORDER BY queue_id, block_number DESC, log_index DESC`,
    );
    const queued = await this.store.query<{ queue_id: string; args: Record<string, string> }>(
      `SELECT queue_id, args FROM ${this.t("module_events")} WHERE name = 'SpendQueued' ORDER BY queue_id`,
    );
    const latest = new Map(rows.map((r) => [r.queue_id, r]));
    const statusOf: Record<string, string> = {
      SpendQueued: "Pending",
      QueuedSpendApproved: "Approved",
      QueuedSpendExecuted: "Executed",
      QueuedSpendVetoed: "Vetoed",
      QueuedSpendCancelled: "Cancelled",
    };
    return queued.rows.map((q) => {
      const last = latest.get(q.queue_id);
      return {
        queueId: q.queue_id,
        agentId: q.args.agentId!,
        safe: q.args.safe!,
        token: q.args.token!,
        to: q.args.to!,
        amount: q.args.amount!,
        status: statusOf[last?.name ?? "SpendQueued"] ?? "Pending",
        executableAt: last?.name === "QueuedSpendApproved" ? last.args.executableAt : undefined,
      };
    });
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                     intents out                                            */
  /* ------------------------------------------------------------------------------------------ */

  private async act(decision: Decision): Promise<void> {
    for (const c of decision.closed) {
      await this.store.query(`UPDATE ${this.t("anomalies")} SET handled_by = $2 WHERE id = $1 AND handled_by IS NULL`, [
        c.id,
        c.reason,
      ]);
    }
    for (const intent of decision.intents) {
      const key = await this.attemptKey(intent);
      if (!key) {
        this.counters.decisions.inc({ kind: intent.kind, outcome: "given_up" });
        this.logger.error({ key: intent.key, agentId: intent.agentId }, "giving up: every attempt reverted on-chain");
        continue;
      }
      const { kind: _kind, anomalyIds, ...txIntent } = intent;
      const record = await this.submitter.submit({ ...txIntent, key });
      this.counters.decisions.inc({ kind: intent.kind, outcome: record.status });
      const log = this.logger.child({ key, agentId: intent.agentId, status: record.status, hash: record.hash });
      if (record.status === "rejected")
        log.warn({ reason: record.revertReason ?? record.error }, `${intent.kind} rejected`);
      else log.info(`${intent.kind} ${record.status}`);
      if (intent.kind === "freeze" && anomalyIds && record.status === "confirmed") {
        await this.store.query(
          `UPDATE ${this.t("anomalies")} SET handled_by = $2 WHERE id = ANY($1::bigint[]) AND handled_by IS NULL`,
          [anomalyIds, key],
        );
      }
    }
  }

  /** The intent's key, or its next retry key when earlier ones were mined and reverted; undefined: give up. */
  private async attemptKey(intent: SpendingIntent): Promise<string | undefined> {
    if (intent.kind === "freeze") return intent.key; // a failed freeze means the agent is frozen already
    for (let attempt = 0; attempt < this.config.MAX_ATTEMPTS; attempt++) {
      const key = attempt === 0 ? intent.key : `${intent.key}:retry-${attempt}`;
      const record: TxRecord | undefined = await this.submitter.get(key);
      if (record?.status !== "failed") return key;
    }
    return undefined;
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                  events and outflows                                       */
  /* ------------------------------------------------------------------------------------------ */

  private async recordModuleEvent(log: ModuleLog, tx: Queryable): Promise<void> {
    const args: Record<string, string> = {};
    for (const [k, v] of Object.entries((log.args ?? {}) as Record<string, unknown>)) {
      args[k] = String(v); // addresses checksummed by viem, numbers in decimal, booleans "true"/"false"
    }
    await tx.query(
      `INSERT INTO ${this.t("module_events")} (block_number, log_index, tx_hash, name, agent_id, queue_id, args)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [
        log.blockNumber,
        log.logIndex,
        log.transactionHash,
        log.eventName,
        args.agentId ?? null,
        args.queueId ?? null,
        JSON.stringify(args),
      ],
    );
    if (log.eventName === "SpendQueued")
      this.logger.info({ queueId: args.queueId, agentId: args.agentId }, "spend queued");
  }

  /** Keeps transfers out of a Safe bound to some agent (per the module events on record). */
  private async recordOutflow(log: ScannedLog<typeof erc20Abi>, tx: Queryable): Promise<void> {
    const { from, to, value } = log.args as { from: Address; to: Address; value: bigint };
    const bound = await tx.query(
      `SELECT 1 FROM ${this.t("module_events")} WHERE name = 'SafeBound' AND args->>'safe' = $1 LIMIT 1`,
      [getAddress(from)],
    );
    if (bound.rowCount === 0) return;
    await tx.query(
      `INSERT INTO ${this.t("outflows")} (block_number, log_index, tx_hash, token, safe, recipient, amount)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [log.blockNumber, log.logIndex, log.transactionHash, getAddress(log.address), getAddress(from), to, value],
    );
  }

  /**
   * An outflow is explained when its transaction carries an event of the module (a spend, a sweep, an
   * executed queued spend, an allowed call) or the Safe's own ExecutionSuccess (a Safe transaction of
   * its owners). Anything else — a transferFrom on an allowance, a foreign module — is an anomaly for
   * every agent bound to that Safe.
   */
  private async classifyOutflows(): Promise<void> {
    const { rows } = await this.store.query<{
      block_number: string;
      log_index: number;
      tx_hash: string;
      token: string;
      safe: string;
      recipient: string;
      amount: string;
    }>(`SELECT * FROM ${this.t("outflows")} WHERE verdict = 'unclassified' ORDER BY block_number, log_index LIMIT 200`);
    for (const o of rows) {
      const receipt = await this.client.getTransactionReceipt({ hash: o.tx_hash as `0x${string}` });
      const module = this.config.SPENDING_MODULE_ADDRESS.toLowerCase();
      const byModule = receipt.logs.some((l) => l.address.toLowerCase() === module);
      const byOwners = receipt.logs.some(
        (l) => l.address.toLowerCase() === o.safe.toLowerCase() && l.topics[0] === EXECUTION_SUCCESS,
      );
      const verdict = byModule ? "module" : byOwners ? "owners" : "anomaly";
      await this.store.transaction(async (tx) => {
        await tx.query(`UPDATE ${this.t("outflows")} SET verdict = $3 WHERE block_number = $1 AND log_index = $2`, [
          o.block_number,
          o.log_index,
          verdict,
        ]);
        if (verdict !== "anomaly") return;
        const agents = await tx.query<{ agent_id: string }>(
          `SELECT agent_id FROM (
             SELECT DISTINCT ON (agent_id) agent_id, name, args->>'safe' AS safe FROM ${this.t("module_events")}
              WHERE name IN ('SafeBound', 'SafeUnbound') AND block_number <= $2
              ORDER BY agent_id, block_number DESC, log_index DESC) b
            WHERE b.name = 'SafeBound' AND b.safe = $1`,
          [o.safe, o.block_number],
        );
        for (const a of agents.rows) {
          await this.recordAnomaly(
            tx,
            BigInt(a.agent_id),
            "unexplained_outflow",
            "chain",
            { erc20: o.token, safe: o.safe, to: o.recipient, amount: o.amount, tx: o.tx_hash },
            `outflow:${o.block_number}:${o.log_index}:${a.agent_id}`,
            BigInt(o.block_number),
          );
        }
      });
      if (verdict === "anomaly") {
        // (Field names avoid "token", which the logger redacts as a secret.)
        const outflow = { erc20: o.token, safe: o.safe, to: o.recipient, amount: o.amount, tx: o.tx_hash };
        this.logger.warn({ outflow }, "transfer out of a Safe the module did not make");
      }
    }
  }

  /** Records an anomaly once per dedupe key; returns its id and whether it was new. */
  async recordAnomaly(
    db: Queryable,
    agentId: bigint,
    signal: AnomalySignal,
    source: "executor" | "chain",
    detail: Record<string, unknown>,
    dedupeKey?: string,
    blockNumber?: bigint,
  ): Promise<{ id: string; duplicate: boolean }> {
    const inserted = await db.query<{ id: string }>(
      `INSERT INTO ${this.t("anomalies")} (agent_id, signal, source, detail, dedupe_key, block_number)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      [agentId, signal, source, JSON.stringify(detail), dedupeKey ?? null, blockNumber ?? null],
    );
    if (inserted.rows[0]) {
      this.counters.anomalies.inc({ signal, source });
      return { id: String(inserted.rows[0].id), duplicate: false };
    }
    const existing = await db.query<{ id: string }>(`SELECT id FROM ${this.t("anomalies")} WHERE dedupe_key = $1`, [
      dedupeKey,
    ]);
    return { id: String(existing.rows[0]!.id), duplicate: true };
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                          HTTP                                              */
  /* ------------------------------------------------------------------------------------------ */

  private routes(): void {
    const token = this.config.ANOMALY_TOKEN as Secret | undefined;
    this.http.route("POST", "/anomalies", async (req) => {
      if (!token) throw new HttpError(404, "not_found", "anomaly reports are disabled (ANOMALY_TOKEN is not set)");
      if (req.headers.authorization !== `Bearer ${token.reveal()}`) {
        throw new HttpError(401, "unauthorized", "a valid bearer token is required");
      }
      const report = parseJson(anomalyReportSchema, req.body);
      const result = await this.recordAnomaly(
        this.store,
        report.agentId,
        report.signal,
        "executor",
        report.detail ?? {},
        report.key === undefined ? undefined : `executor:${report.key}`,
      );
      return { status: 202, body: { id: result.id, duplicate: result.duplicate } };
    });
    this.http.route("GET", "/queue", async () => ({ body: { queue: await this.queueRows() } }));
    this.http.route("GET", "/anomalies", async () => {
      const { rows } = await this.store.query(
        `SELECT id, agent_id, signal, source, detail, observed_at, handled_by FROM ${this.t("anomalies")}
          ORDER BY id DESC LIMIT 200`,
      );
      return { body: { anomalies: rows } };
    });
  }

  private t(table: string): string {
    return `"${this.schema}".${table}`;
  }
}

export { KEEPER as SPENDING_KEEPER };
