import type { Address, Hex } from "viem";
import { ident, type Queryable, type Store } from "../shared";
import type { SignedBackupRecord } from "./record";

/*
 * The backup keeper's SQL (keepers/backup/migrations), the same on PGlite and PostgreSQL. Numbers come back as
 * decimal strings.
 */

export type RequestRow = {
  id: string;
  agentId: bigint;
  status: string;
  attempts: number;
  backupId?: string;
  error?: string;
};

export type BackupRow = SignedBackupRecord & {
  id: string;
  status: "signed" | "anchoring" | "anchored" | "failed";
  mode: "direct" | "batch";
  txKey?: string;
  anchorId?: string;
  anchorIndex?: bigint;
  proof?: Hex[];
  txHash?: Hex;
  chargeStatus: "none" | "pending" | "charged" | "unpaid";
  plaintextBytes: number;
  envelopeBytes: number;
  error?: string;
  requestedAt: Date;
  createdAt: Date;
  anchoredAt?: Date;
};

type RawBackup = {
  id: string;
  agent_id: string;
  sequence: string;
  status: BackupRow["status"];
  mode: BackupRow["mode"];
  ciphertext_hash: Hex;
  cid: string;
  deadline: string;
  signature: Hex;
  signer: Address;
  plaintext_bytes: string;
  envelope_bytes: string;
  tx_key: string | null;
  anchor_id: string | null;
  anchor_index: string | null;
  proof: Hex[] | null;
  tx_hash: Hex | null;
  charge_status: BackupRow["chargeStatus"];
  error: string | null;
  requested_at: Date;
  created_at: Date;
  anchored_at: Date | null;
};

function toBackup(r: RawBackup): BackupRow {
  return {
    id: r.id,
    agentId: BigInt(r.agent_id),
    sequence: Number(r.sequence),
    status: r.status,
    mode: r.mode,
    ciphertextHash: r.ciphertext_hash,
    cid: r.cid,
    deadline: BigInt(r.deadline),
    signature: r.signature,
    signer: r.signer,
    plaintextBytes: Number(r.plaintext_bytes),
    envelopeBytes: Number(r.envelope_bytes),
    ...(r.tx_key && { txKey: r.tx_key }),
    ...(r.anchor_id && { anchorId: r.anchor_id }),
    ...(r.anchor_index !== null && { anchorIndex: BigInt(r.anchor_index) }),
    ...(r.proof && { proof: r.proof }),
    ...(r.tx_hash && { txHash: r.tx_hash }),
    chargeStatus: r.charge_status,
    ...(r.error && { error: r.error }),
    requestedAt: r.requested_at,
    createdAt: r.created_at,
    ...(r.anchored_at && { anchoredAt: r.anchored_at }),
  };
}

const BACKUP_COLUMNS = `b.*, a.anchor_index`;

export class BackupDb {
  private readonly s: string;
  constructor(
    readonly store: Store,
    schema: string,
  ) {
    this.s = ident(schema);
  }

  /** Asks for a backup of `agentId`; merged into the agent's pending request when there is one. */
  async request(agentId: bigint, source: string): Promise<{ id: string; merged: boolean }> {
    const inserted = await this.store.query<{ id: string }>(
      `INSERT INTO ${this.s}.requests (agent_id, status, source) VALUES ($1, 'pending', $2)
       ON CONFLICT (agent_id) WHERE status = 'pending' DO NOTHING RETURNING id`,
      [agentId.toString(), source],
    );
    if (inserted.rows[0]) return { id: inserted.rows[0].id, merged: false };
    const { rows } = await this.store.query<{ id: string }>(
      `SELECT id FROM ${this.s}.requests WHERE agent_id = $1 AND status = 'pending'`,
      [agentId.toString()],
    );
    return { id: rows[0]!.id, merged: true };
  }

  async getRequest(id: string): Promise<(RequestRow & { backup?: BackupRow }) | undefined> {
    const { rows } = await this.store.query<{
      id: string;
      agent_id: string;
      status: string;
      attempts: number;
      backup_id: string | null;
      error: string | null;
    }>(`SELECT * FROM ${this.s}.requests WHERE id = $1`, [id]);
    const r = rows[0];
    if (!r) return undefined;
    const backup = r.backup_id ? await this.backup(r.backup_id) : undefined;
    return {
      id: r.id,
      agentId: BigInt(r.agent_id),
      status: r.status,
      attempts: r.attempts,
      ...(r.backup_id && { backupId: r.backup_id }),
      ...(r.error && { error: r.error }),
      ...(backup && { backup }),
    };
  }

  async dueRequests(limit: number): Promise<RequestRow[]> {
    const { rows } = await this.store.query<{ id: string; agent_id: string; status: string; attempts: number }>(
      `SELECT id, agent_id, status, attempts FROM ${this.s}.requests
        WHERE status = 'pending' AND run_after <= now() ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({ id: r.id, agentId: BigInt(r.agent_id), status: r.status, attempts: r.attempts }));
  }

  async retryRequest(id: string, error: string, delayMs: number, maxAttempts: number): Promise<boolean> {
    const { rows } = await this.store.query<{ status: string }>(
      `UPDATE ${this.s}.requests
          SET attempts = attempts + 1, error = $2, updated_at = now(),
              run_after = now() + $3 * interval '1 millisecond',
              status = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE status END
        WHERE id = $1 RETURNING status`,
      [id, error.slice(0, 2_000), delayMs, maxAttempts],
    );
    return rows[0]?.status === "failed";
  }

  async failRequest(id: string, error: string, db: Queryable = this.store): Promise<void> {
    await db.query(`UPDATE ${this.s}.requests SET status = 'failed', error = $2, updated_at = now() WHERE id = $1`, [
      id,
      error.slice(0, 2_000),
    ]);
  }

  /** The highest sequence this keeper holds for the agent (0 when none). */
  async latestSequence(agentId: bigint): Promise<number> {
    const { rows } = await this.store.query<{ s: string | null }>(
      `SELECT max(sequence) AS s FROM ${this.s}.backups WHERE agent_id = $1`,
      [agentId.toString()],
    );
    return Number(rows[0]?.s ?? 0);
  }

  /** Stores a signed record and ties its request to it, in one transaction. */
  async saveSigned(
    requestId: string,
    r: SignedBackupRecord,
    mode: "direct" | "batch",
    sizes: { plaintextBytes: number; envelopeBytes: number },
  ): Promise<string> {
    return this.store.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO ${this.s}.backups (agent_id, sequence, status, mode, ciphertext_hash, cid, deadline, signature,
            signer, plaintext_bytes, envelope_bytes, requested_at)
         SELECT $1, $2, 'signed', $3, $4, $5, $6, $7, $8, $9, $10, created_at FROM ${this.s}.requests WHERE id = $11
         RETURNING id`,
        [
          r.agentId.toString(),
          r.sequence,
          mode,
          r.ciphertextHash,
          r.cid,
          r.deadline.toString(),
          r.signature,
          r.signer,
          sizes.plaintextBytes,
          sizes.envelopeBytes,
          requestId,
        ],
      );
      const id = rows[0]!.id;
      await tx.query(
        `UPDATE ${this.s}.requests SET status = 'signed', backup_id = $2, updated_at = now() WHERE id = $1`,
        [requestId, id],
      );
      return id;
    });
  }

  async backup(id: string): Promise<BackupRow | undefined> {
    const { rows } = await this.store.query<RawBackup>(
      `SELECT ${BACKUP_COLUMNS} FROM ${this.s}.backups b LEFT JOIN ${this.s}.anchors a ON a.id = b.anchor_id
        WHERE b.id = $1`,
      [id],
    );
    return rows[0] ? toBackup(rows[0]) : undefined;
  }

  async backupsByStatus(status: BackupRow["status"], limit = 100_000): Promise<BackupRow[]> {
    const { rows } = await this.store.query<RawBackup>(
      `SELECT ${BACKUP_COLUMNS} FROM ${this.s}.backups b LEFT JOIN ${this.s}.anchors a ON a.id = b.anchor_id
        WHERE b.status = $1 ORDER BY b.id LIMIT $2`,
      [status, limit],
    );
    return rows.map(toBackup);
  }

  async agentBackups(agentId: bigint): Promise<BackupRow[]> {
    const { rows } = await this.store.query<RawBackup>(
      `SELECT ${BACKUP_COLUMNS} FROM ${this.s}.backups b LEFT JOIN ${this.s}.anchors a ON a.id = b.anchor_id
        WHERE b.agent_id = $1 ORDER BY b.sequence`,
      [agentId.toString()],
    );
    return rows.map(toBackup);
  }

  async markDirectSent(id: string, txKey: string): Promise<void> {
    await this.store.query(`UPDATE ${this.s}.backups SET status = 'anchoring', tx_key = $2 WHERE id = $1`, [id, txKey]);
  }

  /** Anchored: the backup and its request are done (and, with a price, the charge is due). */
  async markAnchored(ids: string[], txHash: Hex, charge: boolean, db?: Queryable): Promise<void> {
    const run = async (tx: Queryable) => {
      await tx.query(
        `UPDATE ${this.s}.backups SET status = 'anchored', tx_hash = $2, anchored_at = now(),
            charge_status = $3 WHERE id = ANY($1::bigint[])`,
        [ids, txHash, charge ? "pending" : "none"],
      );
      await tx.query(
        `UPDATE ${this.s}.requests SET status = 'done', updated_at = now() WHERE backup_id = ANY($1::bigint[])`,
        [ids],
      );
    };
    if (db) await run(db);
    else await this.store.transaction(run);
  }

  async markFailed(ids: string[], error: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.query(`UPDATE ${this.s}.backups SET status = 'failed', error = $2 WHERE id = ANY($1::bigint[])`, [
        ids,
        error.slice(0, 2_000),
      ]);
      await tx.query(
        `UPDATE ${this.s}.requests SET status = 'failed', error = $2, updated_at = now() WHERE backup_id = ANY($1::bigint[])`,
        [ids, error.slice(0, 2_000)],
      );
    });
  }

  /** Fixes a batch's membership and proofs before its transaction is sent. */
  async planAnchor(txKey: string, root: Hex, uri: string, members: { id: string; proof: Hex[] }[]): Promise<string> {
    return this.store.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO ${this.s}.anchors (tx_key, root, count, uri, status) VALUES ($1, $2, $3, $4, 'planned')
         ON CONFLICT (tx_key) DO UPDATE SET tx_key = EXCLUDED.tx_key RETURNING id`,
        [txKey, root, members.length, uri],
      );
      const anchorId = rows[0]!.id;
      for (const m of members) {
        await tx.query(
          `UPDATE ${this.s}.backups SET status = 'anchoring', anchor_id = $2, tx_key = $3, proof = $4 WHERE id = $1`,
          [m.id, anchorId, txKey, JSON.stringify(m.proof)],
        );
      }
      return anchorId;
    });
  }

  async plannedAnchors(): Promise<{ id: string; txKey: string; root: Hex; count: number; uri: string }[]> {
    const { rows } = await this.store.query<{ id: string; tx_key: string; root: Hex; count: number; uri: string }>(
      `SELECT id, tx_key, root, count, uri FROM ${this.s}.anchors WHERE status = 'planned' ORDER BY id`,
    );
    return rows.map((r) => ({ id: r.id, txKey: r.tx_key, root: r.root, count: r.count, uri: r.uri }));
  }

  async anchorMembers(anchorId: string): Promise<string[]> {
    const { rows } = await this.store.query<{ id: string }>(
      `SELECT id FROM ${this.s}.backups WHERE anchor_id = $1 ORDER BY id`,
      [anchorId],
    );
    return rows.map((r) => r.id);
  }

  async markAnchorDone(anchorId: string, index: bigint, txHash: Hex, charge: boolean): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.query(
        `UPDATE ${this.s}.anchors SET status = 'anchored', anchor_index = $2, tx_hash = $3, anchored_at = now()
          WHERE id = $1`,
        [anchorId, index.toString(), txHash],
      );
      const { rows } = await tx.query<{ id: string }>(`SELECT id FROM ${this.s}.backups WHERE anchor_id = $1`, [
        anchorId,
      ]);
      await this.markAnchored(
        rows.map((r) => r.id),
        txHash,
        charge,
        tx,
      );
    });
  }

  async markAnchorFailed(anchorId: string, error: string): Promise<void> {
    await this.store.query(`UPDATE ${this.s}.anchors SET status = 'failed', error = $2 WHERE id = $1`, [
      anchorId,
      error.slice(0, 2_000),
    ]);
    await this.markFailed(await this.anchorMembers(anchorId), error);
  }

  async chargesDue(limit: number): Promise<BackupRow[]> {
    const { rows } = await this.store.query<RawBackup>(
      `SELECT ${BACKUP_COLUMNS} FROM ${this.s}.backups b LEFT JOIN ${this.s}.anchors a ON a.id = b.anchor_id
        WHERE b.charge_status = 'pending' ORDER BY b.id LIMIT $1`,
      [limit],
    );
    return rows.map(toBackup);
  }

  async setCharge(ids: string[], status: "charged" | "unpaid"): Promise<void> {
    await this.store.query(`UPDATE ${this.s}.backups SET charge_status = $2 WHERE id = ANY($1::bigint[])`, [
      ids,
      status,
    ]);
  }

  async startRestore(agentId: bigint, target: string, sequence?: number): Promise<string> {
    const { rows } = await this.store.query<{ id: string }>(
      `INSERT INTO ${this.s}.restores (agent_id, sequence, target, status) VALUES ($1, $2, $3, 'running') RETURNING id`,
      [agentId.toString(), sequence ?? null, target],
    );
    return rows[0]!.id;
  }

  async finishRestore(
    id: string,
    outcome: { status: "done"; sequence: number; txHash?: Hex } | { status: "refused"; code: string; error: string },
  ): Promise<void> {
    await this.store.query(
      `UPDATE ${this.s}.restores SET status = $2, sequence = COALESCE($3, sequence), tx_hash = $4, error_code = $5,
          error = $6, finished_at = now() WHERE id = $1`,
      [
        id,
        outcome.status,
        outcome.status === "done" ? outcome.sequence : null,
        outcome.status === "done" ? (outcome.txHash ?? null) : null,
        outcome.status === "refused" ? outcome.code : null,
        outcome.status === "refused" ? outcome.error.slice(0, 2_000) : null,
      ],
    );
  }

  async counts(): Promise<Record<string, number>> {
    const { rows } = await this.store.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.s}.requests GROUP BY status`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
