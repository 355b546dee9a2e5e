import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { StoreError } from "../../../keepers/shared/errors";
import { Leases } from "../../../keepers/shared/leases";
import { checksum, loadMigrations, type Migration, migrate, migrateShared } from "../../../keepers/shared/migrations";
import type { Store } from "../../../keepers/shared/store";
import { WorkQueue } from "../../../keepers/shared/workQueue";
import { makeTempDir, uniqueName } from "../../helpers/tmp";

/*
 * What every Store must do, run against PGlite always and against PostgreSQL when DATABASE_URL is
 * set (store.test.ts). Each run uses schemas of its own and drops them afterwards.
 */

async function storeError(p: Promise<unknown>): Promise<StoreError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "expected a StoreError").to.be.instanceOf(StoreError);
  return err as StoreError;
}

export function shouldBehaveLikeAStore(getStore: () => Store): void {
  const schemas: string[] = [];
  const newSchema = (prefix: string) => {
    const s = uniqueName(prefix).toLowerCase();
    schemas.push(s);
    return s;
  };

  after(async () => {
    for (const s of schemas) await getStore().query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  });

  describe("queries", () => {
    it("returns the same JS types on every engine", async () => {
      const { rows } = await getStore().query<Record<string, unknown>>(
        `SELECT 9007199254740993::int8 AS big, 42::int4 AS small, 1.50::numeric(10,2) AS num,
                $1::numeric AS wei, $2::jsonb AS doc, '2024-01-02T03:04:05Z'::timestamptz AS at,
                '\\x0102'::bytea AS bytes, NULL::text AS nothing, true AS yes`,
        [10n ** 30n, JSON.stringify({ a: [1, "x"] })],
      );
      const r = rows[0]!;
      expect(r.big).to.equal("9007199254740993");
      expect(r.small).to.equal(42);
      expect(r.num).to.equal("1.50");
      expect(r.wei).to.equal("1000000000000000000000000000000");
      expect(r.doc).to.deep.equal({ a: [1, "x"] });
      expect((r.at as Date).toISOString()).to.equal("2024-01-02T03:04:05.000Z");
      expect([...(r.bytes as Uint8Array)]).to.deep.equal([1, 2]);
      expect(r.nothing).to.equal(null);
      expect(r.yes).to.equal(true);
    });

    it("reports rowCount for SELECT and for writes", async () => {
      const s = newSchema("q");
      const store = getStore();
      await store.exec(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".t (id int PRIMARY KEY, v text);`);
      expect((await store.query(`INSERT INTO "${s}".t VALUES (1,'a'),(2,'b'),(3,'c')`)).rowCount).to.equal(3);
      expect((await store.query(`UPDATE "${s}".t SET v = 'z' WHERE id > $1`, [1])).rowCount).to.equal(2);
      expect((await store.query(`SELECT * FROM "${s}".t`)).rowCount).to.equal(3);
      expect((await store.query(`DELETE FROM "${s}".t WHERE id = 99`)).rowCount).to.equal(0);
    });

    it("wraps errors in StoreError: a constraint violation is fatal with its SQLSTATE", async () => {
      const s = newSchema("err");
      const store = getStore();
      await store.exec(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".t (id int PRIMARY KEY);`);
      await store.query(`INSERT INTO "${s}".t VALUES (1)`);
      const dup = await storeError(store.query(`INSERT INTO "${s}".t VALUES (1)`));
      expect(dup.sqlState).to.equal("23505");
      expect(dup.retryable).to.equal(false);
      expect(dup.shortMessage).to.match(
        /^query failed \(INSERT INTO .*\): duplicate key value violates unique constraint/,
      );
      const syntax = await storeError(store.query("SELEC 1"));
      expect(syntax.sqlState).to.equal("42601");
      expect(syntax.retryable).to.equal(false);
    });
  });

  describe("transactions", () => {
    it("commits on success and rolls back everything on error", async () => {
      const s = newSchema("tx");
      const store = getStore();
      await store.exec(`CREATE SCHEMA "${s}"; CREATE TABLE "${s}".t (id int PRIMARY KEY);`);
      const out = await store.transaction(async (tx) => {
        await tx.query(`INSERT INTO "${s}".t VALUES (1)`);
        await tx.query(`INSERT INTO "${s}".t VALUES (2)`);
        return "ok";
      });
      expect(out).to.equal("ok");
      const boom = new Error("handler failed");
      const err = await store
        .transaction(async (tx) => {
          await tx.query(`INSERT INTO "${s}".t VALUES (3)`);
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(err).to.equal(boom);
      const dup = await storeError(
        store.transaction(async (tx) => {
          await tx.query(`INSERT INTO "${s}".t VALUES (4)`);
          await tx.query(`INSERT INTO "${s}".t VALUES (1)`);
        }),
      );
      expect(dup.sqlState).to.equal("23505");
      const { rows } = await store.query<{ id: number }>(`SELECT id FROM "${s}".t ORDER BY id`);
      expect(rows.map((r) => r.id)).to.deep.equal([1, 2]);
    });

    it("refuses the store inside its own transaction callback, and a finished transaction", async () => {
      const store = getStore();
      let leaked: { query: (sql: string) => Promise<unknown> } | undefined;
      const nested = await storeError(
        store.transaction(async (tx) => {
          leaked = tx;
          await store.query("SELECT 1");
        }),
      );
      expect(nested.code).to.equal("STORE_NESTED");
      const finished = await storeError(leaked!.query("SELECT 1"));
      expect(finished.code).to.equal("STORE_TX_FINISHED");
      // The store is usable again afterwards.
      expect((await store.query<{ one: number }>("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
    });
  });

  describe("migrations", () => {
    const m1: Migration = {
      version: 1,
      name: "create_items",
      sql: "CREATE TABLE items (id int PRIMARY KEY, name text);",
    };
    const m2: Migration = {
      version: 2,
      name: "seed_items",
      sql: "INSERT INTO items VALUES (1, 'first'); CREATE INDEX items_name ON items (name);",
    };

    it("applies each migration once, in order, recording it with its checksum", async () => {
      const s = newSchema("mig");
      const store = getStore();
      expect(await migrate(store, s, [m1])).to.deep.equal({ schema: s, applied: [1], current: 1 });
      expect(await migrate(store, s, [m1, m2])).to.deep.equal({ schema: s, applied: [2], current: 2 });
      expect(await migrate(store, s, [m1, m2])).to.deep.equal({ schema: s, applied: [], current: 2 });
      const { rows } = await store.query<{ version: number; name: string; checksum: string }>(
        `SELECT version, name, checksum FROM "${s}".schema_migrations ORDER BY version`,
      );
      expect(rows).to.deep.equal([
        { version: 1, name: "create_items", checksum: checksum(m1.sql) },
        { version: 2, name: "seed_items", checksum: checksum(m2.sql) },
      ]);
      expect((await store.query(`SELECT * FROM "${s}".items`)).rows).to.deep.equal([{ id: 1, name: "first" }]);
    });

    it("rolls a failing migration back completely", async () => {
      const s = newSchema("migfail");
      const store = getStore();
      const bad: Migration = {
        version: 2,
        name: "broken",
        sql: "CREATE TABLE other (id int); SELECT nope FROM nowhere;",
      };
      const err = await storeError(migrate(store, s, [m1, bad]));
      expect(err.sqlState).to.equal("42P01");
      const { rows } = await store.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = $1`, [s]);
      expect(rows.length).to.equal(0);
    });

    it("stops when an applied migration was edited or the database is newer than the build", async () => {
      const s = newSchema("migedit");
      const store = getStore();
      await migrate(store, s, [m1, m2]);
      const edited = await storeError(migrate(store, s, [m1, { ...m2, sql: `${m2.sql} -- tweak` }]));
      expect(edited.code).to.equal("MIGRATION_CHANGED");
      expect(edited.retryable).to.equal(false);
      const older = await storeError(migrate(store, s, [m1]));
      expect(older.code).to.equal("MIGRATION_UNKNOWN");
    });

    it("creates keepers/shared's tables in <keeper>_shared", async () => {
      const keeper = newSchema("k");
      schemas.push(`${keeper}_shared`);
      const store = getStore();
      expect(await migrateShared(store, keeper)).to.equal(`${keeper}_shared`);
      const { rows } = await store.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name",
        [`${keeper}_shared`],
      );
      expect(rows.map((r) => r.table_name)).to.deep.equal([
        "cursor_checkpoints",
        "cursors",
        "jobs",
        "leases",
        "nonces",
        "schema_migrations",
        "txs",
      ]);
    });
  });

  describe("leases", () => {
    let leases: Leases;
    before(async () => {
      const keeper = newSchema("lease");
      schemas.push(`${keeper}_shared`);
      leases = new Leases(getStore(), await migrateShared(getStore(), keeper));
    });

    it("gives a free lease to one owner only", async () => {
      const a = await leases.acquireLease("agent:1", "instance-a", 10_000);
      expect(a).to.include({ name: "agent:1", owner: "instance-a", token: "1" });
      expect(a!.expiresAt.getTime()).to.be.greaterThan(Date.now() + 8_000);
      expect(await leases.acquireLease("agent:1", "instance-b", 10_000)).to.equal(undefined);
      expect((await leases.getLease("agent:1"))?.owner).to.equal("instance-a");
    });

    it("extends for the holder, keeping the fencing token", async () => {
      const again = await leases.acquireLease("agent:1", "instance-a", 20_000);
      expect(again).to.include({ owner: "instance-a", token: "1" });
      const renewed = await leases.renewLease("agent:1", "instance-a", 30_000);
      expect(renewed!.expiresAt.getTime()).to.be.greaterThan(Date.now() + 25_000);
      expect(await leases.renewLease("agent:1", "instance-b", 30_000)).to.equal(undefined);
    });

    it("passes an expired lease to the next owner with a new token; the old holder cannot renew", async () => {
      await leases.acquireLease("agent:2", "instance-a", 30);
      await new Promise((r) => setTimeout(r, 60));
      expect(await leases.getLease("agent:2")).to.equal(undefined);
      expect(await leases.renewLease("agent:2", "instance-a", 10_000)).to.equal(undefined);
      const b = await leases.acquireLease("agent:2", "instance-b", 10_000);
      expect(b).to.include({ owner: "instance-b", token: "2" });
    });

    it("releases only for the holder", async () => {
      expect(await leases.releaseLease("agent:1", "instance-b")).to.equal(false);
      expect(await leases.releaseLease("agent:1", "instance-a")).to.equal(true);
      expect(await leases.getLease("agent:1")).to.equal(undefined);
      expect(await leases.acquireLease("agent:1", "instance-b", 10_000)).to.include({
        owner: "instance-b",
        token: "1",
      });
    });
  });

  describe("work queue", () => {
    let schema: string;
    before(async () => {
      const keeper = newSchema("queue");
      schemas.push(`${keeper}_shared`);
      schema = await migrateShared(getStore(), keeper);
    });

    it("enqueues once per key and claims due jobs oldest first, up to the limit", async () => {
      const q = new WorkQueue<{ agentId: number }>(getStore(), schema, "claims");
      expect(await q.enqueue("agent-1", { agentId: 1 })).to.equal(true);
      expect(await q.enqueue("agent-1", { agentId: 999 })).to.equal(false);
      await q.enqueue("agent-2", { agentId: 2 });
      await q.enqueue("agent-3", { agentId: 3 });
      await q.enqueue("later", { agentId: 4 }, { delayMs: 60_000 });
      await new WorkQueue(getStore(), schema, "other").enqueue("agent-1", { agentId: 1 });
      const first = await q.claimBatch({ worker: "w1", limit: 2, leaseMs: 60_000 });
      expect(first.map((j) => [j.key, j.payload, j.attempts])).to.deep.equal([
        ["agent-1", { agentId: 1 }, 1],
        ["agent-2", { agentId: 2 }, 1],
      ]);
      const rest = await q.claimBatch({ worker: "w2", limit: 10, leaseMs: 60_000 });
      expect(rest.map((j) => j.key)).to.deep.equal(["agent-3"]);
      expect(await q.claimBatch({ worker: "w3", limit: 10, leaseMs: 60_000 })).to.deep.equal([]);
      expect(await q.complete(first[0]!.id, "w2")).to.equal(false);
      expect(await q.complete(first[0]!.id, "w1")).to.equal(true);
      expect(await q.counts()).to.deep.equal({ pending: 1, running: 2, done: 1, dead: 0 });
    });

    it("retries failed jobs, parks them after maxAttempts, and reclaims expired claims", async () => {
      const q = new WorkQueue<string>(getStore(), schema, "retry");
      await q.enqueue("j", "payload");
      let [job] = await q.claimBatch({ worker: "w1", limit: 1, leaseMs: 60_000 });
      expect(await q.fail(job!.id, "w1", "rpc down", { retryInMs: 0, maxAttempts: 2 })).to.equal(true);
      [job] = await q.claimBatch({ worker: "w1", limit: 1, leaseMs: 60_000 });
      expect(job!.attempts).to.equal(2);
      expect(await q.fail(job!.id, "w1", "rpc down again", { retryInMs: 0, maxAttempts: 2 })).to.equal(true);
      expect(await q.claimBatch({ worker: "w1", limit: 1, leaseMs: 60_000 })).to.deep.equal([]);
      expect((await q.counts()).dead).to.equal(1);

      await q.enqueue("crash", "payload");
      const [claimed] = await q.claimBatch({ worker: "dies", limit: 1, leaseMs: 30 });
      await new Promise((r) => setTimeout(r, 60));
      const [reclaimed] = await q.claimBatch({ worker: "w2", limit: 1, leaseMs: 60_000 });
      expect(reclaimed!.id).to.equal(claimed!.id);
      expect(reclaimed!.attempts).to.equal(2);
      expect(await q.complete(claimed!.id, "dies")).to.equal(false);
      expect(await q.complete(claimed!.id, "w2")).to.equal(true);
    });
  });
}

/** Writes migration files into a fresh folder. */
export function migrationDir(files: Record<string, string>): string {
  const dir = join(makeTempDir(), "migrations");
  mkdirSync(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

export { loadMigrations };
