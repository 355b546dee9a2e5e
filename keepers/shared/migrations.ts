import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "./errors";
import type { Logger } from "./logger";
import { ident, type Store, sharedSchema } from "./store";

/*
 * Each keeper owns one schema and an ordered list of migrations (keepers/<keeper>/migrations/
 * NNN_name.sql). They are applied in one transaction that first takes an advisory lock on the
 * schema, so several instances starting together on PostgreSQL apply each migration exactly once
 * (PGlite has one connection per process, where the lock is a no-op). Every applied migration is
 * recorded with its checksum in <schema>.schema_migrations; editing an applied file, or running a
 * build older than the database, stops the keeper instead of silently diverging.
 */

export type Migration = { version: number; name: string; sql: string };

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/** Reads `NNN_name.sql` files from `dir`, in version order; versions must run 1, 2, 3, … without gaps. */
export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE.exec(file);
    if (!m) {
      throw new StoreError(`migration file ${file} is not named NNN_name.sql`, {
        code: "MIGRATION_NAME",
        retryable: false,
      });
    }
    migrations.push({ version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), "utf8") });
  }
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((mig, i) => {
    if (mig.version !== i + 1) {
      throw new StoreError(
        `migrations in ${dir} must be numbered 1..n without gaps or duplicates (found ${mig.version} at position ${i + 1})`,
        {
          code: "MIGRATION_ORDER",
          retryable: false,
        },
      );
    }
  });
  return migrations;
}

/** The migrations of keepers/shared's own tables. */
export function sharedMigrations(): Migration[] {
  return loadMigrations(join(__dirname, "migrations"));
}

export function checksum(sql: string): string {
  return createHash("sha256").update(sql).digest("hex");
}

export type MigrateResult = { schema: string; applied: number[]; current: number };

/** Brings `schema` up to the last of `migrations`. Safe to call from several processes at once. */
export async function migrate(
  store: Store,
  schema: string,
  migrations: readonly Migration[],
  logger?: Logger,
): Promise<MigrateResult> {
  const q = ident(schema);
  return store.transaction(async (tx) => {
    // hashtext() is PostgreSQL's own string hash: the same key on every instance.
    await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`covenant.migrate.${schema}`]);
    await tx.exec(
      `CREATE SCHEMA IF NOT EXISTS ${q};
       CREATE TABLE IF NOT EXISTS ${q}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       );`,
    );
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
      `SELECT version, name, checksum FROM ${q}.schema_migrations ORDER BY version`,
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const m = known.get(row.version);
      if (!m) {
        throw new StoreError(
          `schema ${schema} has migration ${row.version} (${row.name}) that this build does not know; run a newer build`,
          { code: "MIGRATION_UNKNOWN", retryable: false },
        );
      }
      if (m.name !== row.name || checksum(m.sql) !== row.checksum) {
        throw new StoreError(
          `migration ${row.version} (${row.name}) of schema ${schema} was changed after it was applied`,
          {
            code: "MIGRATION_CHANGED",
            retryable: false,
          },
        );
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(`SET LOCAL search_path TO ${q}`);
      await tx.exec(m.sql);
      await tx.query(`INSERT INTO ${q}.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)`, [
        m.version,
        m.name,
        checksum(m.sql),
      ]);
      applied.push(m.version);
      logger?.info({ schema, version: m.version, migration: m.name }, "migration applied");
    }
    const current = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
    return { schema, applied, current };
  });
}

/** Creates or updates keepers/shared's tables for `keeper`; returns the schema name. */
export async function migrateShared(store: Store, keeper: string, logger?: Logger): Promise<string> {
  const schema = sharedSchema(keeper);
  await migrate(store, schema, sharedMigrations(), logger);
  return schema;
}
