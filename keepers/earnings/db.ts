import { type Address, getAddress, type Hex } from "viem";
import { ident, type Queryable, type ScannedLog } from "../shared";
import type { routerAbi } from "./abi";
import type { EpochRecord } from "./decide";
import type { EarningsLeaf } from "./tree";

/*
 * The earnings keeper's SQL (keepers/earnings/migrations). Same statements on PGlite and PostgreSQL; numbers travel as
 * decimal strings both ways.
 */

export type PaidLog = ScannedLog<typeof routerAbi>;

export type EpochRow = EpochRecord & {
  leaves?: number;
  cid?: string;
  treeFile?: string;
  postTx?: string;
  problem?: string;
};

export type ClaimBatchRow = {
  batch: number;
  first: number;
  count: number;
  status: "pending" | "sent" | "confirmed" | "failed";
  txKey: string;
  txId?: string;
};

type RawEpoch = {
  epoch: string;
  token: string;
  status: EpochRecord["status"];
  root: string | null;
  total: string | null;
  leaves: number | null;
  cid: string | null;
  uri: string | null;
  tree_file: string | null;
  post_tx: string | null;
  claimable_at: string | null;
  expires_at: string | null;
  problem: string | null;
};

function toEpochRow(r: RawEpoch): EpochRow {
  return {
    epoch: BigInt(r.epoch),
    token: getAddress(r.token),
    status: r.status,
    ...(r.root && { root: r.root as Hex }),
    ...(r.total !== null && { total: BigInt(r.total) }),
    ...(r.leaves !== null && { leaves: Number(r.leaves) }),
    ...(r.cid && { cid: r.cid }),
    ...(r.uri && { uri: r.uri }),
    ...(r.tree_file && { treeFile: r.tree_file }),
    ...(r.post_tx && { postTx: r.post_tx }),
    ...(r.claimable_at !== null && { claimableAt: BigInt(r.claimable_at) }),
    ...(r.expires_at !== null && { expiresAt: BigInt(r.expires_at) }),
    ...(r.problem && { problem: r.problem }),
  };
}

const EPOCH_COLUMNS =
  "epoch, token, status, root, total, leaves, cid, uri, tree_file, post_tx, claimable_at, expires_at, problem";

export class EarningsDb {
  private readonly t: { payments: string; epochs: string; batches: string };

  constructor(
    private readonly db: Queryable,
    schema: string,
  ) {
    const s = ident(schema);
    this.t = { payments: `${s}.payments`, epochs: `${s}.epochs`, batches: `${s}.claim_batches` };
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                          payments                                          */
  /* ------------------------------------------------------------------------------------------ */

  /** Stores a chunk's Paid events in one statement (inside the scanner's transaction). */
  async insertPayments(tx: Queryable, logs: readonly PaidLog[]): Promise<void> {
    if (logs.length === 0) return;
    const cols: string[][] = [[], [], [], [], [], [], [], [], []];
    for (const l of logs) {
      const a = l.args as { agentId: bigint; token: Address; epoch: bigint; gross: bigint; agentShare: bigint };
      cols[0]!.push(l.blockNumber.toString());
      cols[1]!.push(String(l.logIndex));
      cols[2]!.push(l.blockHash);
      cols[3]!.push(l.transactionHash);
      cols[4]!.push(a.epoch.toString());
      cols[5]!.push(a.token.toLowerCase());
      cols[6]!.push(a.agentId.toString());
      cols[7]!.push(a.gross.toString());
      cols[8]!.push(a.agentShare.toString());
    }
    await tx.query(
      `INSERT INTO ${this.t.payments}
         (block_number, log_index, block_hash, tx_hash, epoch, token, agent_id, gross, agent_share)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::bigint[], $6::text[],
                            $7::numeric[], $8::numeric[], $9::numeric[])`,
      cols,
    );
  }

  /**
   * Undoes blocks from `fromBlock` on: their payments, and the not-yet-posted epochs built from them (they will be
   * closed again from the new chain). Returns the epochs that were already on chain, which a reorg this deep puts in
   * doubt: the caller reports them.
   */
  async rollback(tx: Queryable, fromBlock: bigint): Promise<{ epoch: bigint; token: Address; status: string }[]> {
    const { rows } = await tx.query<{ epoch: string; token: string; status: string }>(
      `SELECT DISTINCT e.epoch, e.token, e.status FROM ${this.t.epochs} e
         JOIN ${this.t.payments} p ON p.epoch = e.epoch AND p.token = e.token
        WHERE p.block_number >= $1`,
      [fromBlock],
    );
    await tx.query(`DELETE FROM ${this.t.payments} WHERE block_number >= $1`, [fromBlock]);
    const reopened = rows.filter((r) => ["closed", "refused", "empty"].includes(r.status));
    for (const r of reopened) {
      await tx.query(`DELETE FROM ${this.t.epochs} WHERE epoch = $1 AND token = $2`, [r.epoch, r.token]);
    }
    return rows
      .filter((r) => !reopened.includes(r))
      .map((r) => ({ epoch: BigInt(r.epoch), token: getAddress(r.token), status: r.status }));
  }

  /** (epoch, token) pairs with payments, up to `maxEpoch`, not closed yet (or refused, to be tried again). */
  async epochsToClose(maxEpoch: bigint): Promise<{ epoch: bigint; token: Address; refused: boolean }[]> {
    const { rows } = await this.db.query<{ epoch: string; token: string; status: string | null }>(
      `SELECT p.epoch, p.token, e.status
         FROM (SELECT DISTINCT epoch, token FROM ${this.t.payments} WHERE epoch <= $1) p
         LEFT JOIN ${this.t.epochs} e ON e.epoch = p.epoch AND e.token = p.token
        WHERE e.status IS NULL OR e.status = 'refused'
        ORDER BY p.epoch, p.token`,
      [maxEpoch],
    );
    return rows.map((r) => ({ epoch: BigInt(r.epoch), token: getAddress(r.token), refused: r.status === "refused" }));
  }

  /** The epoch's leaves for a token: agent shares summed per agent, zero sums dropped, in agent-id order. */
  async leaves(epoch: bigint, token: Address, db: Queryable = this.db): Promise<EarningsLeaf[]> {
    const { rows } = await db.query<{ agent_id: string; amount: string }>(
      `SELECT agent_id, sum(agent_share) AS amount FROM ${this.t.payments}
        WHERE epoch = $1 AND token = $2
        GROUP BY agent_id HAVING sum(agent_share) > 0
        ORDER BY agent_id`,
      [epoch, token.toLowerCase()],
    );
    const checksummed = getAddress(token);
    return rows.map((r) => ({ agentId: BigInt(r.agent_id), token: checksummed, amount: BigInt(r.amount) }));
  }

  /** How many Paid events the keeper holds for an epoch and token. */
  async paymentCount(epoch: bigint, token: Address): Promise<number> {
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.t.payments} WHERE epoch = $1 AND token = $2`,
      [epoch, token.toLowerCase()],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                           epochs                                           */
  /* ------------------------------------------------------------------------------------------ */

  /** Creates or replaces the record of a closed (or refused, or empty) epoch. */
  async saveEpoch(row: EpochRow): Promise<void> {
    await this.db.query(
      `INSERT INTO ${this.t.epochs} (${EPOCH_COLUMNS}, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, now())
       ON CONFLICT (epoch, token) DO UPDATE SET
         status = excluded.status, root = excluded.root, total = excluded.total, leaves = excluded.leaves,
         cid = excluded.cid, uri = excluded.uri, tree_file = excluded.tree_file, post_tx = excluded.post_tx,
         claimable_at = excluded.claimable_at, expires_at = excluded.expires_at, problem = excluded.problem,
         updated_at = now()`,
      [
        row.epoch,
        row.token.toLowerCase(),
        row.status,
        row.root ?? null,
        row.total ?? null,
        row.leaves ?? null,
        row.cid ?? null,
        row.uri ?? null,
        row.treeFile ?? null,
        row.postTx ?? null,
        row.claimableAt ?? null,
        row.expiresAt ?? null,
        row.problem ?? null,
      ],
    );
  }

  async setStatus(
    epoch: bigint,
    token: Address,
    status: EpochRecord["status"],
    fields: { problem?: string; claimableAt?: bigint; expiresAt?: bigint; postTx?: string } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.epochs}
          SET status = $3, problem = coalesce($4, problem), claimable_at = coalesce($5, claimable_at),
              expires_at = coalesce($6, expires_at), post_tx = coalesce($7, post_tx), updated_at = now()
        WHERE epoch = $1 AND token = $2`,
      [
        epoch,
        token.toLowerCase(),
        status,
        fields.problem ?? null,
        fields.claimableAt ?? null,
        fields.expiresAt ?? null,
        fields.postTx ?? null,
      ],
    );
  }

  async epochsWithStatus(statuses: readonly EpochRecord["status"][]): Promise<EpochRow[]> {
    const { rows } = await this.db.query<RawEpoch>(
      `SELECT ${EPOCH_COLUMNS} FROM ${this.t.epochs} WHERE status = ANY($1::text[]) ORDER BY epoch, token`,
      [statuses],
    );
    return rows.map(toEpochRow);
  }

  /** Every token's record of one epoch. */
  async epochRows(epoch: bigint): Promise<EpochRow[]> {
    const { rows } = await this.db.query<RawEpoch>(
      `SELECT ${EPOCH_COLUMNS} FROM ${this.t.epochs} WHERE epoch = $1 ORDER BY token`,
      [epoch],
    );
    return rows.map(toEpochRow);
  }

  async epochRow(epoch: bigint, token: Address): Promise<EpochRow | undefined> {
    const { rows } = await this.db.query<RawEpoch>(
      `SELECT ${EPOCH_COLUMNS} FROM ${this.t.epochs} WHERE epoch = $1 AND token = $2`,
      [epoch, token.toLowerCase()],
    );
    return rows[0] ? toEpochRow(rows[0]) : undefined;
  }

  /* ------------------------------------------------------------------------------------------ */
  /*                                        claim batches                                       */
  /* ------------------------------------------------------------------------------------------ */

  /** Records the claim plan of an epoch once; a second call keeps the first plan. */
  async planBatches(
    epoch: bigint,
    token: Address,
    batches: readonly { index: number; first: number; count: number; key: string }[],
  ): Promise<void> {
    if (batches.length === 0) return;
    await this.db.query(
      `INSERT INTO ${this.t.batches} (epoch, token, batch, first_leaf, leaf_count, tx_key)
       SELECT $1::bigint, $2::text, * FROM unnest($3::int[], $4::int[], $5::int[], $6::text[])
       ON CONFLICT (epoch, token, batch) DO NOTHING`,
      [
        epoch,
        token.toLowerCase(),
        batches.map((b) => b.index),
        batches.map((b) => b.first),
        batches.map((b) => b.count),
        batches.map((b) => b.key),
      ],
    );
  }

  async batches(epoch: bigint, token: Address): Promise<ClaimBatchRow[]> {
    const { rows } = await this.db.query<{
      batch: number;
      first_leaf: number;
      leaf_count: number;
      status: ClaimBatchRow["status"];
      tx_key: string;
      tx_id: string | null;
    }>(
      `SELECT batch, first_leaf, leaf_count, status, tx_key, tx_id FROM ${this.t.batches}
        WHERE epoch = $1 AND token = $2 ORDER BY batch`,
      [epoch, token.toLowerCase()],
    );
    return rows.map((r) => ({
      batch: Number(r.batch),
      first: Number(r.first_leaf),
      count: Number(r.leaf_count),
      status: r.status,
      txKey: r.tx_key,
      ...(r.tx_id && { txId: r.tx_id }),
    }));
  }

  async setBatch(
    epoch: bigint,
    token: Address,
    batch: number,
    status: ClaimBatchRow["status"],
    fields: { txId?: string; problem?: string } = {},
  ): Promise<void> {
    await this.db.query(
      `UPDATE ${this.t.batches} SET status = $4, tx_id = coalesce($5, tx_id), problem = coalesce($6, problem),
              updated_at = now()
        WHERE epoch = $1 AND token = $2 AND batch = $3`,
      [epoch, token.toLowerCase(), batch, status, fields.txId ?? null, fields.problem ?? null],
    );
  }

  /** Leaves of posted epochs whose claim is not confirmed yet. */
  async claimBacklog(): Promise<number> {
    const { rows } = await this.db.query<{ n: string | null }>(
      `SELECT sum(e.leaves - coalesce((SELECT sum(b.leaf_count) FROM ${this.t.batches} b
                                        WHERE b.epoch = e.epoch AND b.token = e.token AND b.status = 'confirmed'), 0)) AS n
         FROM ${this.t.epochs} e WHERE e.status = 'posted'`,
    );
    return Number(rows[0]?.n ?? 0);
  }
}
