import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { Pool, type PoolClient } from "pg";
import { StoreError } from "./errors";
import type { Logger } from "./logger";
import { redactUrl } from "./redact";

/*
 * One SQL interface over two engines: PGlite (PostgreSQL compiled to WASM, a folder on disk, the
 * default for a single keeper) and PostgreSQL through a `pg` pool (DATABASE_URL, for several
 * instances). Keepers write plain PostgreSQL with $1 parameters and it runs unchanged on both.
 *
 * Values come back the same way on both engines: int8 and numeric as decimal strings (never a lossy
 * JS number: wei amounts and block numbers live there), timestamptz as Date, json/jsonb parsed,
 * bytea as Uint8Array (a Buffer on pg). bigint parameters are sent as decimal strings.
 */

export type QueryResult<T> = { rows: T[]; rowCount: number };

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Store extends Queryable {
  readonly engine: "pglite" | "postgres";
  /**
   * Runs `fn` in one transaction: committed when `fn` resolves, rolled back when it throws. Inside
   * `fn` use only `tx`: the store itself throws there, because on PGlite (one connection) a query
   * outside the transaction would wait for the transaction forever.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** A cheap round trip for health checks; throws a StoreError when the database is unreachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreOptions = {
  /** postgres:// URL; when absent the store is PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** PGlite folder (created if missing). */
  dataDir?: string | undefined;
  logger?: Logger | undefined;
  /** pg pool size (default 10). */
  poolSize?: number | undefined;
  /** pg connect timeout (default 5 s): a database that is down must fail fast, not hang a tick. */
  connectTimeoutMs?: number | undefined;
  /** pg application_name, shown in pg_stat_activity (default "covenant-keeper"). */
  applicationName?: string | undefined;
};

export async function openStore(options: StoreOptions): Promise<Store> {
  if (options.databaseUrl) return new PostgresStore(options.databaseUrl, options);
  if (!options.dataDir)
    throw new StoreError("openStore needs databaseUrl or dataDir", { code: "STORE_CONFIG", retryable: false });
  return PgliteStore.open(options.dataDir, options.logger);
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Quotes a schema or table name after checking it is a plain lower-case identifier. */
export function ident(name: string): string {
  if (!IDENT.test(name)) {
    throw new StoreError(`not a valid SQL identifier: ${JSON.stringify(name)}`, {
      code: "STORE_IDENT",
      retryable: false,
    });
  }
  return `"${name}"`;
}

/** The schema of a keeper's own tables: `tx-executor` → `tx_executor`. */
export function keeperSchema(keeper: string): string {
  const name = keeper.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  ident(name);
  return name;
}

/** The schema of keepers/shared's tables for one keeper (cursors, txs, nonces, leases, jobs). */
export function sharedSchema(keeper: string): string {
  return `${keeperSchema(keeper)}_shared`.slice(0, 63);
}

function toParams(params: readonly unknown[] | undefined): unknown[] {
  return (params ?? []).map((p) => (typeof p === "bigint" ? p.toString() : p));
}

function firstLine(sql: string): string {
  return sql.trim().split("\n")[0]!.slice(0, 80);
}

// Set while a transaction callback runs, to catch the store being used instead of `tx`.
const inTransaction = new AsyncLocalStorage<object>();

function guardNotInTransaction(store: object): void {
  if (inTransaction.getStore() === store) {
    throw new StoreError("the store was used inside its own transaction callback; use the `tx` argument", {
      code: "STORE_NESTED",
      retryable: false,
    });
  }
}

/* -------------------------------------------------------------------------------------------- */
/*                                            PGlite                                            */
/* -------------------------------------------------------------------------------------------- */

type PgliteEntry = { db: Promise<PGlite>; refs: number };

// PGlite may be opened once per folder per process; every Store on a folder shares the instance.
const pgliteInstances = new Map<string, PgliteEntry>();

const PGLITE_PARSERS = { 20: (v: string) => v }; // int8 as a decimal string, like pg

class PgliteStore implements Store {
  readonly engine = "pglite" as const;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly db: PGlite,
  ) {}

  static async open(dataDir: string, logger?: Logger): Promise<PgliteStore> {
    const dir = dataDir.startsWith("memory://") ? dataDir : resolve(dataDir);
    let entry = pgliteInstances.get(dir);
    if (!entry) {
      if (!dir.startsWith("memory://")) mkdirSync(dir, { recursive: true });
      const db = PGlite.create({ dataDir: dir, parsers: PGLITE_PARSERS });
      entry = { db, refs: 0 };
      pgliteInstances.set(dir, entry);
      db.catch(() => pgliteInstances.delete(dir));
    }
    entry.refs++;
    try {
      const db = await entry.db;
      logger?.debug({ dataDir: dir }, "PGlite store open");
      return new PgliteStore(dir, db);
    } catch (err) {
      entry.refs--;
      throw StoreError.from(err, `cannot open PGlite in ${dir}`);
    }
  }

  async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    guardNotInTransaction(this.db);
    this.assertOpen();
    return runPglite<T>(this.db, sql, params);
  }

  async exec(sql: string): Promise<void> {
    guardNotInTransaction(this.db);
    this.assertOpen();
    try {
      await this.db.exec(sql);
    } catch (err) {
      throw StoreError.from(err, `exec failed (${firstLine(sql)})`);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    guardNotInTransaction(this.db);
    this.assertOpen();
    let fnError: unknown;
    try {
      return await this.db.transaction(async (t) => {
        let done = false;
        const tx: Queryable = {
          query: <R>(sql: string, params?: readonly unknown[]) => {
            if (done) return Promise.reject(finishedTx());
            return runPglite<R>(t, sql, params);
          },
          exec: async (sql: string) => {
            if (done) throw finishedTx();
            try {
              await t.exec(sql);
            } catch (err) {
              throw StoreError.from(err, `exec failed (${firstLine(sql)})`);
            }
          },
        };
        try {
          return await inTransaction.run(this.db, () => fn(tx));
        } catch (err) {
          fnError = err;
          throw err;
        } finally {
          done = true;
        }
      });
    } catch (err) {
      if (err === fnError) throw err;
      throw StoreError.from(err, "transaction failed");
    }
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const entry = pgliteInstances.get(this.dir);
    if (!entry) return;
    entry.refs--;
    if (entry.refs <= 0) {
      pgliteInstances.delete(this.dir);
      await this.db.close();
    }
  }

  private assertOpen(): void {
    if (this.closed || this.db.closed) {
      throw new StoreError("the store is closed", { code: "STORE_CLOSED", retryable: false });
    }
  }
}

type PgliteQueryable = Pick<PGlite, "query">;

async function runPglite<T>(db: PgliteQueryable, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  try {
    const r = await db.query<T>(sql, toParams(params));
    return { rows: r.rows, rowCount: r.affectedRows || r.rows.length };
  } catch (err) {
    throw StoreError.from(err, `query failed (${firstLine(sql)})`);
  }
}

function finishedTx(): StoreError {
  return new StoreError("the transaction has already finished", { code: "STORE_TX_FINISHED", retryable: false });
}

/* -------------------------------------------------------------------------------------------- */
/*                                          PostgreSQL                                          */
/* -------------------------------------------------------------------------------------------- */

class PostgresStore implements Store {
  readonly engine = "postgres" as const;
  private readonly pool: Pool;
  private closing?: Promise<void>;

  constructor(url: string, options: StoreOptions) {
    this.pool = new Pool({
      connectionString: url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? "covenant-keeper",
    });
    // An idle connection killed by the server (restart, pg_terminate_backend, network) is reported
    // here; without a listener the process would crash. The pool drops it and reconnects on the
    // next use, so a log line is all that is needed.
    this.pool.on("error", (err) => {
      options.logger?.warn({ err, database: redactUrl(url) }, "idle PostgreSQL connection lost");
    });
  }

  async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    guardNotInTransaction(this);
    this.assertOpen();
    try {
      const r = await this.pool.query(sql, toParams(params));
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    } catch (err) {
      throw StoreError.from(err, `query failed (${firstLine(sql)})`);
    }
  }

  async exec(sql: string): Promise<void> {
    guardNotInTransaction(this);
    this.assertOpen();
    try {
      await this.pool.query(sql);
    } catch (err) {
      throw StoreError.from(err, `exec failed (${firstLine(sql)})`);
    }
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    guardNotInTransaction(this);
    this.assertOpen();
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw StoreError.from(err, "cannot connect to PostgreSQL");
    }
    let broken: unknown;
    let done = false;
    // A checked-out client has no pool error listener: a backend killed between two statements
    // would otherwise be an uncaught 'error' event. The next statement then fails and is reported.
    const onClientError = (err: Error) => {
      broken = err;
    };
    client.on("error", onClientError);
    const run = async (sql: string, params?: readonly unknown[]) => {
      if (done) throw finishedTx();
      try {
        return await client.query(sql, params === undefined ? undefined : toParams(params));
      } catch (err) {
        const e = StoreError.from(err, `query failed (${firstLine(sql)})`);
        if (e.retryable) broken = err;
        throw e;
      }
    };
    const tx: Queryable = {
      query: async <R>(sql: string, params?: readonly unknown[]) => {
        const r = await run(sql, params ?? []);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
      },
      exec: async (sql: string) => {
        await run(sql);
      },
    };
    try {
      await run("BEGIN");
      const result = await inTransaction.run(this, () => fn(tx));
      await run("COMMIT");
      return result;
    } catch (err) {
      if (!broken) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackErr) {
          broken = rollbackErr;
        }
      }
      throw err;
    } finally {
      done = true;
      client.off("error", onClientError);
      // A connection that failed mid-transaction is destroyed rather than returned to the pool.
      client.release(broken instanceof Error ? broken : broken ? new Error("connection broken") : undefined);
    }
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1");
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing) throw new StoreError("the store is closed", { code: "STORE_CLOSED", retryable: false });
  }
}
