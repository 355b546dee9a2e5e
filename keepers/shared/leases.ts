import { ident, type Queryable } from "./store";

/*
 * Leases are rows, and time is the database's clock (now()), never the caller's: instances on
 * different machines disagree about the time, they do not disagree about the database.
 */

export type Lease = { name: string; owner: string; token: string; expiresAt: Date };

type LeaseRow = { name: string; owner: string; token: string; expires_at: Date };

function toLease(r: LeaseRow): Lease {
  return { name: r.name, owner: r.owner, token: r.token, expiresAt: r.expires_at };
}

export class Leases {
  private readonly table: string;

  /** `schema` is the keeper's shared schema (see `migrateShared`). */
  constructor(
    private readonly db: Queryable,
    schema: string,
  ) {
    this.table = `${ident(schema)}.leases`;
  }

  /**
   * Takes `name` for `owner` for `ttlMs`, if it is free, expired or already `owner`'s (then it is
   * extended). Returns the lease, or undefined when someone else holds it. The token grows whenever
   * the lease changes hands.
   */
  async acquireLease(name: string, owner: string, ttlMs: number, db: Queryable = this.db): Promise<Lease | undefined> {
    const { rows } = await db.query<LeaseRow>(
      `INSERT INTO ${this.table} AS l (name, owner, token, expires_at)
       VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (name) DO UPDATE
         SET owner = excluded.owner,
             expires_at = excluded.expires_at,
             token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE l.token + 1 END,
             acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE now() END
         WHERE l.owner = excluded.owner OR l.expires_at <= now()
       RETURNING name, owner, token, expires_at`,
      [name, owner, ttlMs],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  /** Extends a lease `owner` still holds (not expired). Undefined when it was lost. */
  async renewLease(name: string, owner: string, ttlMs: number, db: Queryable = this.db): Promise<Lease | undefined> {
    const { rows } = await db.query<LeaseRow>(
      `UPDATE ${this.table}
          SET expires_at = now() + $3 * interval '1 millisecond'
        WHERE name = $1 AND owner = $2 AND expires_at > now()
        RETURNING name, owner, token, expires_at`,
      [name, owner, ttlMs],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }

  /** Gives a lease up so another instance can take it at once. True when `owner` held it. */
  async releaseLease(name: string, owner: string, db: Queryable = this.db): Promise<boolean> {
    const { rowCount } = await db.query(`DELETE FROM ${this.table} WHERE name = $1 AND owner = $2`, [name, owner]);
    return rowCount > 0;
  }

  /** The current, unexpired holder of `name`. */
  async getLease(name: string, db: Queryable = this.db): Promise<Lease | undefined> {
    const { rows } = await db.query<LeaseRow>(
      `SELECT name, owner, token, expires_at FROM ${this.table} WHERE name = $1 AND expires_at > now()`,
      [name],
    );
    return rows[0] ? toLease(rows[0]) : undefined;
  }
}
