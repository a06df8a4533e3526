import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { DatabaseTarget } from "../../src/config.ts";
import { type Database, openDatabase } from "../../src/db/open.ts";

/**
 * Tests run against a real database: the PostgreSQL server in DATABASE_URL when set (CI), else
 * PGlite. Each test file gets its own fresh database — a new PostgreSQL database, or a new
 * PGlite directory — so files are isolated, can run in parallel and can be re-run.
 */
export const DB_KIND: DatabaseTarget["kind"] = process.env.DATABASE_URL ? "postgres" : "pglite";

export interface TestTarget {
  target: DatabaseTarget;
  /** Environment for a child `optout-sync` process using this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** A fresh, empty database. `memory` gives an in-process PGlite with no files (not shareable). */
export async function createTestTarget(options: { memory?: boolean } = {}): Promise<TestTarget> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    if (options.memory)
      return { target: { kind: "pglite", dataDir: "memory://" }, env: {}, drop: async () => {} };
    const dir = mkdtempSync(join(tmpdir(), "optout-sync-test-"));
    return {
      target: { kind: "pglite", dataDir: join(dir, "pglite") },
      env: { SYNC_DATA_DIR: dir, DATABASE_URL: "" },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const name = `optout_sync_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    target: { kind: "postgres", url: url.toString() },
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestDatabase extends Database {
  target: DatabaseTarget;
  /** Closes and deletes the database. */
  destroy(): Promise<void>;
}

/** A fresh database with the schema migrated, opened through the daemon's own code path. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const t = await createTestTarget({ memory: true });
  const database = await openDatabase(t.target, { maxConnections: 6 });
  return {
    ...database,
    target: t.target,
    destroy: async () => {
      await database.close();
      await t.drop();
    },
  };
}
