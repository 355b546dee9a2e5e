import { ident, type Queryable } from "./store";

/*
 * A durable work queue shared by every instance of a keeper. Workers claim rows with
 * `FOR UPDATE SKIP LOCKED`: concurrent claimers skip each other's rows instead of waiting, so N
 * instances split the work without coordination. A claim is itself a lease (locked_until): a worker
 * that dies leaves its jobs to be claimed again once the lease runs out.
 */

export type Job<P = unknown> = {
  id: string;
  queue: string;
  key: string;
  payload: P;
  attempts: number;
  lockedUntil: Date;
};

type JobRow = { id: string; queue: string; key: string; payload: unknown; attempts: number; locked_until: Date };

export type ClaimOptions = { worker: string; limit: number; leaseMs: number };

export class WorkQueue<P = unknown> {
  private readonly table: string;

  constructor(
    private readonly db: Queryable,
    schema: string,
    readonly queue: string,
  ) {
    this.table = `${ident(schema)}.jobs`;
  }

  /** Adds a job unless one with the same key exists in this queue. True when it was added. */
  async enqueue(key: string, payload: P, options: { delayMs?: number; db?: Queryable } = {}): Promise<boolean> {
    const { rowCount } = await (options.db ?? this.db).query(
      `INSERT INTO ${this.table} (queue, key, payload, run_after)
       VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
       ON CONFLICT (queue, key) DO NOTHING`,
      [this.queue, key, JSON.stringify(payload), options.delayMs ?? 0],
    );
    return rowCount > 0;
  }

  /**
   * Claims up to `limit` due jobs (pending, or running with an expired claim) for `worker`, oldest
   * first. Pass a transaction as `db` to hold the row locks until it ends.
   */
  async claimBatch(options: ClaimOptions, db: Queryable = this.db): Promise<Job<P>[]> {
    const { rows } = await db.query<JobRow>(
      `WITH claimable AS (
         SELECT id FROM ${this.table}
          WHERE queue = $1
            AND ((status = 'pending' AND run_after <= now()) OR (status = 'running' AND locked_until <= now()))
          ORDER BY id
          LIMIT $3
          FOR UPDATE SKIP LOCKED)
       UPDATE ${this.table} AS j
          SET status = 'running',
              locked_by = $2,
              locked_until = now() + $4 * interval '1 millisecond',
              attempts = j.attempts + 1,
              updated_at = now()
         FROM claimable
        WHERE j.id = claimable.id
        RETURNING j.id, j.queue, j.key, j.payload, j.attempts, j.locked_until`,
      [this.queue, options.worker, options.limit, options.leaseMs],
    );
    return rows
      .map((r) => ({
        id: r.id,
        queue: r.queue,
        key: r.key,
        payload: r.payload as P,
        attempts: r.attempts,
        lockedUntil: r.locked_until,
      }))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** Marks a job done. False when the claim was lost (the lease ran out and another worker took it). */
  async complete(id: string, worker: string, db: Queryable = this.db): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE ${this.table} SET status = 'done', locked_by = NULL, locked_until = NULL, updated_at = now()
        WHERE id = $1 AND status = 'running' AND locked_by = $2`,
      [id, worker],
    );
    return rowCount > 0;
  }

  /**
   * Gives a failed job back: retried after `retryInMs`, or parked as 'dead' once it has been tried
   * `maxAttempts` times. False when the claim was lost.
   */
  async fail(
    id: string,
    worker: string,
    error: string,
    options: { retryInMs: number; maxAttempts: number },
    db: Queryable = this.db,
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE ${this.table}
          SET status = CASE WHEN attempts >= $4 THEN 'dead' ELSE 'pending' END,
              run_after = now() + $5 * interval '1 millisecond',
              last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = now()
        WHERE id = $1 AND status = 'running' AND locked_by = $2`,
      [id, worker, error.slice(0, 2_000), options.maxAttempts, options.retryInMs],
    );
    return rowCount > 0;
  }

  /** Job counts by status, for metrics. */
  async counts(db: Queryable = this.db): Promise<Record<"pending" | "running" | "done" | "dead", number>> {
    const { rows } = await db.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.table} WHERE queue = $1 GROUP BY status`,
      [this.queue],
    );
    const out = { pending: 0, running: 0, done: 0, dead: 0 };
    for (const r of rows) out[r.status as keyof typeof out] = Number(r.n);
    return out;
  }
}
