import path from "node:path";
import type { DestinationStream } from "pino";
import {
  type Address,
  decodeEventLog,
  encodeFunctionData,
  getAddress,
  type Hex,
  keccak256,
  parseAbi,
  toBytes,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { z } from "zod";
import { type AgentSigner, buildAction, fromViemAccount, randomNonce, signAction } from "../../sdk";
import {
  BaseService,
  classifyError,
  DirectSubmitter,
  type Env,
  HttpError,
  keeperSubmitter,
  loadMigrations,
  loadSigner,
  parseJson,
  type Submitter,
  type TxRecord,
} from "../shared";
import { directRecords, type LocatedRecord, type RegistryRef, registryBackupAbi } from "./chain";
import { backupConfigSchema } from "./config";
import { type ContentStore, cidToBytes, IpfsHttpStore, LocalContentStore } from "./contentStore";
import { BackupDb, type BackupRow } from "./db";
import { nextSequence, planAnchors } from "./decide";
import { BackupError } from "./errors";
import { agentFolder } from "./folder";
import { type AgentSecrets, readKeystore } from "./keystore";
import { backupMetrics } from "./metrics";
import { type Binding, createBackup, restoreAgent } from "./pipeline";
import { type BackupRecord, buildManifest, leafOf, recordHash } from "./record";

/*
 * The backup keeper. Backups are asked for by POST /agents/:id/wake-end (the end of an agent's wake), the CLI, or a
 * folder watch; each tick:
 *  1. seals every due request: archive the agent's folder, encrypt under its backup key, store by CID, have the agent
 *     sign the record (its key comes from its own keystore) and persist the signed record;
 *  2. anchors signed records: one relayed recordBackupBySig each (direct) or anchorBackups over a Merkle root of many
 *     agents' records (batch), whose membership, proofs and manifest are fixed in the database before sending;
 *  3. marks backups done only once their transaction is confirmed, then charges the agents' infrastructure budgets.
 * A crash at any point resumes from the database: a request is sealed again under the same sequence, a planned anchor
 * is resubmitted under the same idempotency key (the Submitter never sends one key twice).
 */

/** Treasury.BACKUP_SERVICE; read from the treasury at start when charging is configured. */
const BACKUP_SERVICE = keccak256(toBytes("covenant.service.backup"));
const treasuryAbi = parseAbi([
  "function BACKUP_SERVICE() view returns (bytes32)",
  "function budgetOf(uint256 agentId, address token) view returns (uint256)",
  "function serviceAllowance(uint256 agentId, bytes32 service, address token) view returns ((uint256 cap, bool agentLimitSet, uint256 agentLimit, uint256 spentThisPeriod, uint256 available))",
  "function isCharged(uint256 agentId, bytes32 service, bytes32 ref) view returns (bool)",
  "function chargeServices(address token, bytes32 service, (uint256 agentId, uint256 amount, bytes32 ref)[] charges) returns (uint256 total)",
  "error TreasuryInsufficientBudget(uint256 agentId, address token, uint256 amount, uint256 available)",
  "error TreasuryOverServiceLimit(uint256 agentId, bytes32 service, address token, uint256 amount, uint256 available)",
  "error TreasuryAlreadyCharged(uint256 agentId, bytes32 service, bytes32 ref)",
  "error TreasuryServiceNotEnabled(bytes32 service, address token)",
]);

const restoreBody = z.object({
  to: z.string().min(1).optional(),
  sequence: z
    .number()
    .int()
    .min(1)
    .max(2 ** 32 - 1)
    .optional(),
});

function agentIdParam(raw: string | undefined): bigint {
  if (!raw || !/^\d{1,78}$/.test(raw))
    throw new HttpError(400, "invalid_agent_id", "agent id must be a decimal integer");
  return BigInt(raw);
}

export class BackupKeeper extends BaseService<typeof backupConfigSchema> {
  protected db!: BackupDb;
  protected ref!: RegistryRef;
  protected binding!: Binding;
  protected store!: ContentStore;
  protected submitter!: Submitter;
  private registry!: Address;
  private m!: ReturnType<typeof backupMetrics>;
  private backupService: Hex = BACKUP_SERVICE;
  private readonly secretsCache = new Map<string, AgentSecrets>();

  constructor(options: { env?: Env; logDestination?: DestinationStream; name?: string; store?: ContentStore } = {}) {
    const { name = "backup", store, ...rest } = options;
    super({ name, configSchema: backupConfigSchema, ...rest });
    if (store) this.store = store;
  }

  protected async init(): Promise<void> {
    const c = this.config;
    const { store, schema, sharedSchema } = await this.openStore(loadMigrations(path.join(__dirname, "migrations")));
    this.db = new BackupDb(store, schema);
    const chain = await this.connectChain();
    this.registry = getAddress(c.REGISTRY_ADDRESS);
    this.ref = {
      client: chain.publicClient,
      registry: this.registry,
      fromBlock: c.START_BLOCK,
      chunkBlocks: BigInt(c.LOG_CHUNK_BLOCKS),
    };
    this.binding = { chainId: c.CHAIN_ID, registry: this.registry };
    this.store ??= c.IPFS_API_URL
      ? new IpfsHttpStore(c.IPFS_API_URL)
      : new LocalContentStore(c.STORE_DIR ?? path.join(c.DATA_DIR, "blobs"));
    this.m = backupMetrics(this.metrics);
    const account = await loadSigner(c);
    // Through the tx-executor when TX_EXECUTOR_URL is set (it sends from the relayer key it holds), else signed here.
    this.submitter = await keeperSubmitter(c, {
      store,
      schema: sharedSchema,
      publicClient: chain.publicClient,
      account,
      confirmations: c.CONFIRMATIONS,
      errorAbi: [...registryBackupAbi, ...treasuryAbi],
      logger: this.logger,
      metrics: this.metrics,
    });
    if (c.TREASURY_ADDRESS && c.BACKUP_PRICE > 0n) {
      this.backupService = await chain.publicClient.readContract({
        address: getAddress(c.TREASURY_ADDRESS),
        abi: treasuryAbi,
        functionName: "BACKUP_SERVICE",
      });
    }

    this.http.route("POST", "/agents/:id/wake-end", async (req) => {
      const agentId = agentIdParam(req.params.id);
      const r = await this.requestBackup(agentId, "wake-end");
      return { status: 202, body: { requestId: r.id, merged: r.merged } };
    });
    this.http.route("GET", "/requests/:id", async (req) => {
      if (!/^\d+$/.test(req.params.id ?? "")) throw new HttpError(400, "invalid_request_id", "request id is a number");
      const r = await this.db.getRequest(req.params.id!);
      if (!r) throw new HttpError(404, "request_not_found", `no backup request ${req.params.id}`);
      return { body: requestJson(r) };
    });
    this.http.route("GET", "/agents/:id/backups", async (req) => ({
      body: { backups: (await this.db.agentBackups(agentIdParam(req.params.id))).map(backupJson) },
    }));
    this.http.route("POST", "/agents/:id/restore", async (req) => {
      const agentId = agentIdParam(req.params.id);
      const body = parseJson(restoreBody, req.body ?? {});
      try {
        const out = await this.restore(agentId, body);
        return { body: out };
      } catch (err) {
        if (err instanceof BackupError && !err.retryable) {
          throw new HttpError(err.code === "NO_CONSENT" ? 403 : 422, err.code.toLowerCase(), err.shortMessage);
        }
        throw err;
      }
    });
  }

  /** Queues a backup of `agentId` (merged into its pending one). Public for the CLI harness and tests. */
  async requestBackup(agentId: bigint, source: string): Promise<{ id: string; merged: boolean }> {
    const r = await this.db.request(agentId, source);
    this.logger.info({ agentId: agentId.toString(), requestId: r.id, merged: r.merged, source }, "backup requested");
    return r;
  }

  protected async tick(signal: AbortSignal): Promise<void> {
    if (this.submitter instanceof DirectSubmitter) await this.submitter.recover();
    await this.sealRequests(signal);
    if (this.config.ANCHOR_MODE === "direct") await this.anchorDirect(signal);
    else await this.anchorBatches(signal);
    await this.anchorPlanned(signal);
    await this.chargeBudgets(signal);
    const counts = await this.db.counts();
    for (const s of ["pending", "signed", "done", "failed"]) this.m.queue.set({ status: s }, counts[s] ?? 0);
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                        sealing                                             */
  /* ------------------------------------------------------------------------------------------ */

  private async secretsOf(agentId: bigint): Promise<AgentSecrets> {
    const k = agentId.toString();
    const cached = this.secretsCache.get(k);
    if (cached) return cached;
    const file = path.join(this.config.KEYSTORE_DIR, `${k}.keystore.json`);
    const secrets = await readKeystore(file, this.config.AGENT_KEYSTORE_PASSWORD.reveal(), agentId);
    this.secretsCache.set(k, secrets);
    return secrets;
  }

  private signerOf(secrets: AgentSecrets): AgentSigner {
    if (!secrets.signerKey) {
      throw new BackupError(`agent ${secrets.agentId}'s keystore holds no signer key: it cannot sign its records`, {
        code: "KEYSTORE_INVALID",
      });
    }
    return fromViemAccount(privateKeyToAccount(secrets.signerKey));
  }

  /** The chain's clock: deadlines are checked against block time, which need not follow ours. */
  private async chainNow(): Promise<bigint> {
    return (await this.ref.client.getBlock({ blockTag: "latest" })).timestamp;
  }

  private async chainLatest(agentId: bigint): Promise<number> {
    const [sequence] = await this.ref.client.readContract({
      address: this.registry,
      abi: registryBackupAbi,
      functionName: "latestBackup",
      args: [agentId],
    });
    return Number(sequence);
  }

  private async sealRequests(signal: AbortSignal): Promise<void> {
    const c = this.config;
    for (const req of await this.db.dueRequests(100)) {
      if (signal.aborted) return;
      const log = this.logger.child({ agentId: req.agentId.toString(), requestId: req.id });
      const end = this.m.duration.startTimer({ stage: "seal" });
      try {
        const secrets = await this.secretsOf(req.agentId);
        const sequence = nextSequence(await this.db.latestSequence(req.agentId), await this.chainLatest(req.agentId));
        const made = await createBackup({
          folder: agentFolder(c.MEMORY_DIR, req.agentId),
          binding: this.binding,
          store: this.store,
          agentId: req.agentId,
          sequence,
          secrets,
          signer: this.signerOf(secrets),
          deadline: (await this.chainNow()) + BigInt(c.RECORD_DEADLINE_SECONDS),
        });
        await this.db.saveSigned(req.id, made.record, c.ANCHOR_MODE, made);
        this.m.bytes.inc({ kind: "plaintext" }, made.plaintextBytes);
        this.m.bytes.inc({ kind: "envelope" }, made.envelopeBytes);
        log.info({ sequence, cid: made.record.cid, bytes: made.envelopeBytes }, "backup sealed, stored and signed");
      } catch (err) {
        const retryable = classifyError(err).retryable || (err instanceof BackupError && err.retryable);
        const message = (err as Error).message.split("\n")[0] ?? String(err);
        if (retryable) {
          const delay = Math.min(60_000, 1_000 * 2 ** req.attempts);
          const gaveUp = await this.db.retryRequest(req.id, message, delay, c.BACKUP_MAX_ATTEMPTS);
          log.warn({ err, attempts: req.attempts + 1, gaveUp }, "backup attempt failed");
          if (gaveUp) this.m.backups.inc({ outcome: "failed" });
        } else {
          await this.db.failRequest(req.id, message);
          this.m.backups.inc({ outcome: err instanceof BackupError ? `refused_${err.code.toLowerCase()}` : "failed" });
          log.error({ err }, "backup refused");
        }
      } finally {
        end();
      }
    }
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                        anchoring                                           */
  /* ------------------------------------------------------------------------------------------ */

  private async anchorDirect(signal: AbortSignal): Promise<void> {
    const signed = (await this.db.backupsByStatus("signed")).filter((b) => b.mode === "direct");
    const plans = planAnchors(
      signed.map((b) => ({ id: b.id, agentId: b.agentId, sequence: b.sequence, waitingMs: 0 })),
      "direct",
      { maxLeaves: 1, minLeaves: 1, maxWaitMs: 0 },
    );
    const byId = new Map(signed.map((b) => [b.id, b]));
    for (const plan of plans) {
      if (signal.aborted || plan.kind !== "direct") return;
      const b = byId.get(plan.record.id)!;
      await this.submitter.submit({
        key: plan.key,
        to: this.registry,
        data: encodeFunctionData({
          abi: registryBackupAbi,
          functionName: "recordBackupBySig",
          args: [b.agentId, b.sequence, b.ciphertextHash, toHex(cidToBytes(b.cid)), b.deadline, b.signature],
        }),
        label: `backup agent ${b.agentId} sequence ${b.sequence}`,
        agentId: b.agentId.toString(),
      });
      await this.db.markDirectSent(b.id, plan.key);
    }
    for (const b of (await this.db.backupsByStatus("anchoring")).filter((x) => x.mode === "direct")) {
      if (signal.aborted) return;
      const rec = await this.waitTx(b.txKey!, signal);
      if (!rec) continue;
      if (rec.status === "confirmed") {
        await this.db.markAnchored([b.id], rec.hash!, this.charging());
        this.anchored([b]);
      } else {
        const why = rec.revertReason ?? rec.error ?? rec.status;
        await this.db.markFailed([b.id], `recordBackupBySig ${rec.status}: ${why}`);
        this.m.backups.inc({ outcome: "anchor_failed" });
        this.logger.error({ agentId: b.agentId.toString(), sequence: b.sequence, why }, "backup record not anchored");
      }
    }
  }

  private async anchorBatches(signal: AbortSignal): Promise<void> {
    const c = this.config;
    const signed = (await this.db.backupsByStatus("signed")).filter((b) => b.mode === "batch");
    const now = Date.now();
    const plans = planAnchors(
      signed.map((b) => ({
        id: b.id,
        agentId: b.agentId,
        sequence: b.sequence,
        waitingMs: now - b.createdAt.getTime(),
      })),
      "batch",
      { maxLeaves: c.BATCH_MAX_LEAVES, minLeaves: c.BATCH_MIN_LEAVES, maxWaitMs: c.BATCH_MAX_WAIT_MS },
    );
    const byId = new Map(signed.map((b) => [b.id, b]));
    for (const plan of plans) {
      if (signal.aborted || plan.kind !== "batch") return;
      const rows = plan.records.map((r) => byId.get(r.id)!);
      const { tree, bytes } = buildManifest(this.binding.chainId, this.registry, rows);
      const cid = await this.store.put(bytes);
      const index = new Map<string, number>();
      for (const [i, leaf] of tree.entries()) index.set(`${leaf[0]}:${leaf[1]}:${leaf[2]}`, i);
      const members = rows.map((r) => {
        const [a, h, s] = leafOf(r);
        return { id: r.id, proof: tree.getProof(index.get(`${a}:${h}:${s}`)!) as Hex[] };
      });
      await this.db.planAnchor(plan.key, tree.root as Hex, `ipfs://${cid}`, members);
      this.logger.info({ key: plan.key, leaves: rows.length, root: tree.root, manifest: cid }, "anchor planned");
    }
  }

  /** Sends every planned anchor (again, after a crash: same key, same transaction) and settles the confirmed ones. */
  private async anchorPlanned(signal: AbortSignal): Promise<void> {
    for (const a of await this.db.plannedAnchors()) {
      if (signal.aborted) return;
      await this.submitter.submit({
        key: a.txKey,
        to: this.registry,
        data: encodeFunctionData({
          abi: registryBackupAbi,
          functionName: "anchorBackups",
          args: [a.root, a.count, a.uri],
        }),
        label: `anchor ${a.count} backup records`,
      });
      const rec = await this.waitTx(a.txKey, signal);
      if (!rec) continue;
      if (rec.status !== "confirmed") {
        const why = rec.revertReason ?? rec.error ?? rec.status;
        await this.db.markAnchorFailed(a.id, `anchorBackups ${rec.status}: ${why}`);
        this.m.backups.inc({ outcome: "anchor_failed" }, a.count);
        this.logger.error({ key: a.txKey, why }, "anchor not accepted");
        continue;
      }
      const receipt = await this.ref.client.getTransactionReceipt({ hash: rec.hash! });
      let index: bigint | undefined;
      for (const log of receipt.logs) {
        if (getAddress(log.address) !== this.registry) continue;
        try {
          const ev = decodeEventLog({ abi: registryBackupAbi, data: log.data, topics: log.topics });
          if (ev.eventName === "BackupsAnchored") index = ev.args.index;
        } catch {
          // another event of the registry
        }
      }
      if (index === undefined)
        throw new BackupError("the anchor's receipt has no BackupsAnchored event", { code: "RECORD_INVALID" });
      await this.db.markAnchorDone(a.id, index, rec.hash!, this.charging());
      const members = await Promise.all((await this.db.anchorMembers(a.id)).map((id) => this.db.backup(id)));
      this.anchored(members.filter((b): b is BackupRow => b !== undefined));
      this.logger.info({ key: a.txKey, index: index.toString(), leaves: a.count }, "backups anchored");
    }
  }

  /** Waits for a transaction within TX_WAIT_MS; undefined when it is still pending (the next tick looks again). */
  private async waitTx(key: string, signal: AbortSignal): Promise<TxRecord | undefined> {
    const rec = await this.submitter.get(key);
    if (!rec) return undefined;
    try {
      return await this.submitter.wait(rec.id, { timeoutMs: this.config.TX_WAIT_MS, pollIntervalMs: 100, signal });
    } catch (err) {
      if ((err as { code?: string }).code === "WAIT_TIMEOUT") return undefined;
      throw err;
    }
  }

  private anchored(rows: BackupRow[]): void {
    for (const b of rows) {
      this.m.backups.inc({ outcome: "anchored" });
      this.m.lag.observe((Date.now() - b.requestedAt.getTime()) / 1000);
    }
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                 the infrastructure budget                                  */
  /* ------------------------------------------------------------------------------------------ */

  private charging(): boolean {
    return this.config.TREASURY_ADDRESS !== undefined && this.config.BACKUP_PRICE > 0n;
  }

  /**
   * Charges each anchored backup to its agent's infrastructure budget (ref = the record's struct hash, so a backup is
   * charged once). Agents whose budget or limit cannot pay are left unpaid (logged, counted) rather than failing the
   * batch; their backups are anchored all the same.
   */
  private async chargeBudgets(signal: AbortSignal): Promise<void> {
    if (!this.charging()) return;
    const c = this.config;
    const treasury = getAddress(c.TREASURY_ADDRESS!);
    const token = getAddress(c.BACKUP_PRICE_TOKEN ?? "0x0000000000000000000000000000000000000000");
    const due = await this.db.chargesDue(200);
    if (due.length === 0 || signal.aborted) return;
    const payable: BackupRow[] = [];
    const unpaid: BackupRow[] = [];
    const left = new Map<bigint, bigint>();
    for (const b of due) {
      if (!left.has(b.agentId)) {
        const [budget, allowance] = await Promise.all([
          this.ref.client.readContract({
            address: treasury,
            abi: treasuryAbi,
            functionName: "budgetOf",
            args: [b.agentId, token],
          }),
          this.ref.client.readContract({
            address: treasury,
            abi: treasuryAbi,
            functionName: "serviceAllowance",
            args: [b.agentId, this.backupService, token],
          }),
        ]);
        left.set(b.agentId, allowance.available - (allowance.available > budget ? allowance.available - budget : 0n));
      }
      const ref = recordHash(b);
      const already = await this.ref.client.readContract({
        address: treasury,
        abi: treasuryAbi,
        functionName: "isCharged",
        args: [b.agentId, this.backupService, ref],
      });
      if (already) {
        payable.push(b);
        continue;
      }
      const can = left.get(b.agentId)!;
      if (can >= c.BACKUP_PRICE) {
        left.set(b.agentId, can - c.BACKUP_PRICE);
        payable.push(b);
      } else {
        unpaid.push(b);
      }
    }
    if (unpaid.length > 0) {
      await this.db.setCharge(
        unpaid.map((b) => b.id),
        "unpaid",
      );
      this.m.charges.inc({ outcome: "unpaid" }, unpaid.length);
      this.logger.warn(
        { agents: [...new Set(unpaid.map((b) => b.agentId.toString()))] },
        "budget cannot pay for backups",
      );
    }
    const charges: { agentId: bigint; amount: bigint; ref: Hex }[] = [];
    for (const b of payable) {
      const ref = recordHash(b);
      const done = await this.ref.client.readContract({
        address: treasury,
        abi: treasuryAbi,
        functionName: "isCharged",
        args: [b.agentId, this.backupService, ref],
      });
      if (!done) charges.push({ agentId: b.agentId, amount: c.BACKUP_PRICE, ref });
    }
    if (charges.length > 0) {
      const key = `backup:charge:first-${payable[0]!.id}:n-${charges.length}`;
      await this.submitter.submit({
        key,
        to: treasury,
        data: encodeFunctionData({
          abi: treasuryAbi,
          functionName: "chargeServices",
          args: [token, this.backupService, charges],
        }),
        label: `charge ${charges.length} backups`,
      });
      const rec = await this.waitTx(key, signal);
      if (!rec) return;
      if (rec.status !== "confirmed") {
        this.logger.error({ key, why: rec.revertReason ?? rec.error }, "backup charges refused");
        await this.db.setCharge(
          payable.map((b) => b.id),
          "unpaid",
        );
        this.m.charges.inc({ outcome: "refused" }, charges.length);
        return;
      }
      this.m.charges.inc({ outcome: "charged" }, charges.length);
    }
    await this.db.setCharge(
      payable.map((b) => b.id),
      "charged",
    );
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                         restore                                            */
  /* ------------------------------------------------------------------------------------------ */

  /** The records this keeper knows for the agent (anchored leaves with proofs) and the chain's direct records. */
  private async locate(agentId: bigint): Promise<LocatedRecord[]> {
    const out: LocatedRecord[] = await directRecords(this.ref, agentId);
    for (const b of await this.db.agentBackups(agentId)) {
      if (b.status !== "anchored" || b.mode !== "batch" || b.anchorIndex === undefined) continue;
      const record: BackupRecord = {
        agentId: b.agentId,
        sequence: b.sequence,
        ciphertextHash: b.ciphertextHash,
        cid: b.cid,
        deadline: b.deadline,
      };
      out.push({
        record,
        source: {
          kind: "anchor",
          index: b.anchorIndex,
          root: "0x",
          proof: b.proof ?? [],
          signature: b.signature,
          signer: b.signer,
        },
      });
    }
    return out;
  }

  /** The restore job: see restoreAgent. The restoration is recorded on chain with the agent's signature, relayed. */
  async restore(agentId: bigint, opts: { to?: string; sequence?: number }) {
    const c = this.config;
    const root = path.resolve(c.RESTORE_ROOT ?? c.MEMORY_DIR);
    const target = path.resolve(opts.to ?? agentFolder(c.MEMORY_DIR, agentId));
    if (!target.startsWith(root + path.sep)) {
      throw new BackupError(`a restore writes under ${root} only`, { code: "TARGET_NOT_EMPTY" });
    }
    const id = await this.db.startRestore(agentId, target, opts.sequence);
    const log = this.logger.child({ agentId: agentId.toString(), restoreId: id });
    const end = this.m.duration.startTimer({ stage: "restore" });
    try {
      const secrets = await this.secretsOf(agentId);
      const signer = this.signerOf(secrets);
      const out = await restoreAgent({
        ref: this.ref,
        binding: this.binding,
        store: this.store,
        agentId,
        secrets,
        target,
        located: await this.locate(agentId),
        ...(opts.sequence !== undefined && { sequence: opts.sequence }),
        recordRestoration: async (record) => {
          const nonce = randomNonce();
          const action = await signAction(
            signer,
            buildAction("RecordRestoration", this.binding, {
              agentId,
              sequence: record.sequence,
              ciphertextHash: record.ciphertextHash,
              nonce,
              deadline: (await this.chainNow()) + 3_600n,
            }),
          );
          const key = `backup:restore:agent-${agentId}:seq-${record.sequence}:nonce-${nonce}`;
          await this.submitter.submit({
            key,
            to: this.registry,
            data: encodeFunctionData({
              abi: registryBackupAbi,
              functionName: "recordRestorationBySig",
              args: [
                agentId,
                record.sequence,
                record.ciphertextHash,
                nonce,
                action.message.deadline as bigint,
                action.signature,
              ],
            }),
            label: `restoration of agent ${agentId}`,
            agentId: agentId.toString(),
          });
          const rec = await this.submitter.wait((await this.submitter.get(key))!.id, {
            timeoutMs: c.TX_WAIT_MS,
            pollIntervalMs: 100,
          });
          if (rec.status !== "confirmed") {
            const why = rec.revertReason ?? rec.error ?? rec.status;
            throw new BackupError(`the registry refused the restoration: ${why}`, {
              code: /NoResurrectionConsent/.test(why) ? "NO_CONSENT" : "RECORD_INVALID",
            });
          }
          return rec.hash;
        },
      });
      await this.db.finishRestore(id, { status: "done", sequence: out.record.sequence, txHash: out.restorationTx });
      this.m.restores.inc({ outcome: "restored" });
      log.info({ sequence: out.record.sequence, files: out.files, tx: out.restorationTx }, "agent restored");
      return {
        agentId: agentId.toString(),
        sequence: out.record.sequence,
        target,
        files: out.files,
        bytes: out.bytes,
        source: out.source.kind,
        restorationTx: out.restorationTx,
      };
    } catch (err) {
      const codeOf = err instanceof BackupError ? err.code : "ERROR";
      await this.db.finishRestore(id, { status: "refused", code: codeOf, error: (err as Error).message });
      this.m.restores.inc({ outcome: codeOf.toLowerCase() });
      log.warn({ err, code: codeOf }, "restore refused");
      throw err;
    } finally {
      end();
    }
  }
}

function backupJson(b: BackupRow) {
  return {
    id: b.id,
    agentId: b.agentId.toString(),
    sequence: b.sequence,
    status: b.status,
    mode: b.mode,
    cid: b.cid,
    ciphertextHash: b.ciphertextHash,
    deadline: b.deadline.toString(),
    signature: b.signature,
    ...(b.anchorIndex !== undefined && { anchorIndex: b.anchorIndex.toString() }),
    ...(b.proof && { proof: b.proof }),
    ...(b.txHash && { txHash: b.txHash }),
    charge: b.chargeStatus,
    ...(b.error && { error: b.error }),
  };
}

function requestJson(r: Awaited<ReturnType<BackupDb["getRequest"]>> & object) {
  return {
    id: r.id,
    agentId: r.agentId.toString(),
    status: r.status,
    attempts: r.attempts,
    ...(r.error && { error: r.error }),
    ...(r.backup && { backup: backupJson(r.backup) }),
  };
}
