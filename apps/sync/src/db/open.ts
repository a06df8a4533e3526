import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzleNodePg } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePg } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import type { DatabaseTarget } from "../config.ts";
import type { Logger } from "../log.ts";
import { errorFields } from "../log.ts";
import { CASING, MIGRATIONS } from "./casing.ts";
import type { Db } from "./client.ts";
import { acquirePgliteLock } from "./pglite-lock.ts";
import * as schema from "./schema.ts";

/**
 * The generated migrations (`apps/sync/drizzle`): two levels above this module in src/db/ (tests,
 * tsx), one above the bundle in dist/ (the built daemon, its deploy folder, the container image).
 */
export const MIGRATIONS_FOLDER =
  ["../../drizzle", "../drizzle"]
    .map((path) => fileURLToPath(new URL(path, import.meta.url)))
    .find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ??
  fileURLToPath(new URL("../../drizzle", import.meta.url));

// Two daemons starting at once must not both run the migrations.
const MIGRATION_LOCK_KEY = 0x6f70746f; // "opto"

export interface Database {
  db: Db;
  kind: DatabaseTarget["kind"];
  close(): Promise<void>;
}

export interface OpenOptions {
  log?: Logger;
  /** Apply pending migrations before returning (the daemon always does). */
  migrate?: boolean;
  /** Pool size for PostgreSQL. The apply loop needs one connection; status and tests a few. */
  maxConnections?: number;
}

/** How much longer than statement_timeout the client waits before calling the connection hung. */
export function clientTimeoutMargin(statementTimeoutMs: number): number {
  return Math.min(5_000, Math.max(1_000, Math.round(statementTimeoutMs / 10)));
}

/**
 * node-postgres's query_timeout fails the query but leaves it running on the connection, which
 * would go back to the pool still waiting for an answer that may never come: every later query
 * on it would time out too. Close the connection instead, so the pool replaces it.
 */
function closeOnReadTimeout(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const close = (e: unknown) => {
    if ((e as { message?: unknown })?.message === "Query read timeout") {
      (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    }
  };
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const last = args.at(-1);
    if (typeof last === "function") {
      args[args.length - 1] = (e: unknown, ...rest: unknown[]) => {
        if (e) close(e);
        return (last as (...a: unknown[]) => unknown)(e, ...rest);
      };
      return query(...args);
    }
    const result = query(...args);
    if (result instanceof Promise) {
      return result.catch((e: unknown) => {
        close(e);
        throw e;
      });
    }
    // A submittable (the ledger's COPY stream) reports the timeout as an "error" event.
    (result as { on?: (event: string, listener: (e: unknown) => void) => void } | undefined)?.on?.(
      "error",
      close,
    );
    return result;
  };
}

/**
 * Opens the database the config names and brings its schema up to date. PGlite keeps its files
 * in `dataDir`; "memory://" gives a throwaway in-memory database (tests).
 */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  const { log, migrate = true } = options;
  if (target.kind === "pglite") {
    const inMemory = target.dataDir.startsWith("memory://");
    const release = inMemory ? () => {} : acquirePgliteLock(target.dataDir);
    let client: PGlite | undefined;
    try {
      client = new PGlite(target.dataDir);
      await client.waitReady;
      const db = drizzlePglite({ client, schema, casing: CASING }) as unknown as Db;
      if (migrate) {
        await migratePglite(db as never, { migrationsFolder: MIGRATIONS_FOLDER, ...MIGRATIONS });
      }
      const opened = client;
      return {
        db,
        kind: "pglite",
        close: async () => {
          try {
            await opened.close();
          } finally {
            release();
          }
        },
      };
    } catch (e) {
      await client?.close().catch(() => {});
      release();
      throw e;
    }
  }

  const timeoutMs = target.statementTimeoutMs ?? 0;
  const pool = new pg.Pool({
    connectionString: target.url,
    max: options.maxConnections ?? 4,
    // A new connection that the network swallows fails after 10 s (retried like a refusal).
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: "optout-sync",
    // A statement running longer is cancelled by the server (SQLSTATE 57014): its transaction
    // rolls back, cursor included, and the batch is retried. A connection that hangs mid-query
    // (no answer at all, not even the cancellation) is given up on by the client a little later.
    ...(timeoutMs > 0
      ? { statement_timeout: timeoutMs, query_timeout: timeoutMs + clientTimeoutMargin(timeoutMs) }
      : {}),
  });
  // A connection lost on a server restart emits "error": on the pool while idle, on the client
  // while checked out (after its query has already failed). Unheard, either would crash the
  // process. The failed query is retried by the caller; dead clients leave the pool.
  pool.on("error", (e) => log?.warn(errorFields(e), "idle database connection lost"));
  pool.on("connect", (client) => {
    client.on("error", (e) => log?.warn(errorFields(e), "database connection lost"));
    if (timeoutMs > 0) closeOnReadTimeout(client);
  });
  const db = drizzleNodePg({ client: pool, schema, casing: CASING }) as unknown as Db;
  try {
    if (migrate) {
      const client = await pool.connect();
      try {
        await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
        try {
          await migrateNodePg(drizzleNodePg({ client, casing: CASING }), {
            migrationsFolder: MIGRATIONS_FOLDER,
            ...MIGRATIONS,
          });
        } finally {
          await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
        }
      } finally {
        client.release();
      }
    }
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  return { db, kind: "postgres", close: () => pool.end() };
}
