import { expect } from "chai";
import { Client } from "pg";
import { StoreError } from "../../../keepers/shared/errors";
import { type Migration, migrate, migrateShared } from "../../../keepers/shared/migrations";
import { openStore, type Store, sharedSchema } from "../../../keepers/shared/store";
import { WorkQueue } from "../../../keepers/shared/workQueue";
import { startTcpProxy } from "../../helpers/tcpProxy";
import { makeTempDir, uniqueName } from "../../helpers/tmp";
import { loadMigrations, migrationDir, shouldBehaveLikeAStore } from "./store.behavior";

const DATABASE_URL = process.env.DATABASE_URL;

describe("keepers/shared store on PGlite", function () {
  this.timeout(60_000);
  let store: Store;
  let dir: string;
  before(async () => {
    dir = makeTempDir("covenant-pglite-");
    store = await openStore({ dataDir: dir });
    expect(store.engine).to.equal("pglite");
  });
  after(async () => {
    await store?.close();
  });

  describe("behaves like a store", () => shouldBehaveLikeAStore(() => store));

  it("shares one PGlite instance per folder and closes it with the last store", async () => {
    const second = await openStore({ dataDir: dir });
    await second.query("CREATE TEMP TABLE shared_probe (x int)");
    // Same instance and connection: the temp table is visible through the first store too.
    expect((await store.query("SELECT count(*) AS n FROM shared_probe")).rows).to.deep.equal([{ n: "0" }]);
    await second.close();
    await second.close();
    expect((await store.query<{ one: number }>("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
    const closed = await second.query("SELECT 1").catch((e: unknown) => e);
    expect(closed).to.be.instanceOf(StoreError);
    expect((closed as StoreError).code).to.equal("STORE_CLOSED");
    await store.query("DROP TABLE shared_probe");
  });

  it("keeps data across a reopen of the folder", async () => {
    const keeper = uniqueName("reopen").toLowerCase();
    const schema = await migrateShared(store, keeper);
    await new WorkQueue(store, schema, "q").enqueue("k", { n: 1 });
    await store.close();
    store = await openStore({ dataDir: dir });
    expect(await new WorkQueue(store, schema, "q").counts()).to.deep.equal({
      pending: 1,
      running: 0,
      done: 0,
      dead: 0,
    });
  });
});

describe("keepers/shared migrations: loadMigrations", () => {
  it("loads NNN_name.sql files in version order", () => {
    const dir = migrationDir({ "002_second.sql": "SELECT 2;", "001_first.sql": "SELECT 1;", "README.md": "x" });
    expect(loadMigrations(dir)).to.deep.equal([
      { version: 1, name: "first", sql: "SELECT 1;" },
      { version: 2, name: "second", sql: "SELECT 2;" },
    ]);
  });

  it("refuses badly named files, gaps and duplicates", () => {
    expect(() => loadMigrations(migrationDir({ "1-first.sql": "" }))).to.throw("is not named NNN_name.sql");
    expect(() => loadMigrations(migrationDir({ "001_a.sql": "", "003_c.sql": "" }))).to.throw(
      "must be numbered 1..n without gaps or duplicates (found 3 at position 2)",
    );
    expect(() => loadMigrations(migrationDir({ "001_a.sql": "", "0001_b.sql": "" }))).to.throw("found 1 at position 2");
  });

  it("ships keepers/shared's own migrations", () => {
    const shared = loadMigrations(`${__dirname}/../../../keepers/shared/migrations`);
    expect(shared.map((m) => `${m.version}_${m.name}`)).to.deep.equal(["1_shared"]);
    expect(sharedSchema("tx-executor")).to.equal("tx_executor_shared");
  });
});

(DATABASE_URL ? describe : describe.skip)("keepers/shared store on PostgreSQL (DATABASE_URL)", function () {
  this.timeout(60_000);
  const url = DATABASE_URL ?? "";
  let store: Store;
  before(async () => {
    store = await openStore({ databaseUrl: url });
    expect(store.engine).to.equal("postgres");
  });
  after(async () => {
    await store?.close();
  });

  describe("behaves like a store", () => shouldBehaveLikeAStore(() => store));

  it("applies each migration exactly once when two instances migrate at the same time", async () => {
    const schema = uniqueName("race").toLowerCase();
    // Not idempotent on purpose: applied twice, the CREATE TABLE fails and the row count is 2.
    const migrations: Migration[] = [
      {
        version: 1,
        name: "t",
        sql: "CREATE TABLE t (id serial PRIMARY KEY, note text); INSERT INTO t (note) VALUES ('once');",
      },
      { version: 2, name: "pause", sql: "SELECT pg_sleep(0.3); INSERT INTO t (note) VALUES ('twice');" },
    ];
    const a = await openStore({ databaseUrl: url });
    const b = await openStore({ databaseUrl: url });
    try {
      const results = await Promise.all([migrate(a, schema, migrations), migrate(b, schema, migrations)]);
      expect(results.map((r) => r.applied).sort((x, y) => x.length - y.length)).to.deep.equal([[], [1, 2]]);
      expect((await store.query(`SELECT note FROM "${schema}".t ORDER BY id`)).rows).to.deep.equal([
        { note: "once" },
        { note: "twice" },
      ]);
    } finally {
      await store.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("lets two workers claim disjoint batches with SKIP LOCKED, without waiting for each other", async () => {
    const keeper = uniqueName("skip").toLowerCase();
    const schema = await migrateShared(store, keeper);
    const other = await openStore({ databaseUrl: url });
    try {
      const q = new WorkQueue<number>(store, schema, "claims");
      for (let i = 1; i <= 10; i++) await q.enqueue(`job-${i}`, i);
      const qOther = new WorkQueue<number>(other, schema, "claims");
      let bClaimed: number[] = [];
      await store.transaction(async (tx) => {
        // Worker A holds its row locks in an open transaction…
        const a = await q.claimBatch({ worker: "a", limit: 4, leaseMs: 60_000 }, tx);
        expect(a.map((j) => j.payload)).to.deep.equal([1, 2, 3, 4]);
        // …while worker B, on another connection, skips them instead of blocking.
        const started = Date.now();
        const b = await qOther.claimBatch({ worker: "b", limit: 4, leaseMs: 60_000 });
        expect(Date.now() - started).to.be.lessThan(2_000);
        bClaimed = b.map((j) => j.payload);
      });
      expect(bClaimed).to.deep.equal([5, 6, 7, 8]);
      const rest = await qOther.claimBatch({ worker: "b", limit: 10, leaseMs: 60_000 });
      expect(rest.map((j) => j.payload)).to.deep.equal([9, 10]);
    } finally {
      await store.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await other.close();
    }
  });

  it("turns a terminated backend into a retryable StoreError and recovers on the next use", async () => {
    const app = uniqueName("victim");
    const victim = await openStore({ databaseUrl: url, applicationName: app });
    const admin = new Client({ connectionString: url });
    await admin.connect();
    const terminate = () =>
      admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", [app]);
    try {
      // A query running when the backend is killed.
      const running = victim.query("SELECT pg_sleep(10)").catch((e: unknown) => e);
      await waitFor(
        async () =>
          (await admin.query("SELECT 1 FROM pg_stat_activity WHERE application_name = $1", [app])).rowCount === 1,
      );
      await terminate();
      const err = (await running) as StoreError;
      expect(err).to.be.instanceOf(StoreError);
      expect(err.retryable).to.equal(true);
      expect((await victim.query<{ one: number }>("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);

      // A transaction whose connection is killed half-way.
      const txErr = await victim
        .transaction(async (tx) => {
          await tx.query("SELECT 1");
          await terminate();
          await tx.query("SELECT 2");
        })
        .catch((e: unknown) => e);
      expect(txErr).to.be.instanceOf(StoreError);
      expect((txErr as StoreError).retryable).to.equal(true);
      expect(
        await victim.transaction(async (tx) => (await tx.query<{ n: number }>("SELECT 3 AS n")).rows[0]!.n),
      ).to.equal(3);

      // Idle pooled connections killed: the pool drops them (no crash) and reconnects.
      await terminate();
      await new Promise((r) => setTimeout(r, 100));
      expect((await victim.query<{ one: number }>("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
    } finally {
      await admin.end();
      await victim.close();
    }
  });

  it("fails fast with a retryable StoreError while the database is unreachable, then reconnects", async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const s = await openStore({ databaseUrl: viaProxy.toString(), connectTimeoutMs: 1_000 });
    try {
      await s.ping();
      proxy.drop();
      const err = await s.ping().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(StoreError);
      expect((err as StoreError).retryable).to.equal(true);
      const txErr = await s.transaction(async () => 1).catch((e: unknown) => e);
      expect((txErr as StoreError).retryable).to.equal(true);
      proxy.resume();
      await s.ping();
      expect((await s.query<{ one: number }>("SELECT 1 AS one")).rows).to.deep.equal([{ one: 1 }]);
    } finally {
      await s.close();
      await proxy.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
