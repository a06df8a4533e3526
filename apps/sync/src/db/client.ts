import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type * as schema from "./schema.ts";

export type Schema = typeof schema;

/**
 * What every query function takes as its first argument: a database or a transaction, on
 * node-postgres or PGlite alike (a transaction is a PgDatabase too).
 */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/**
 * The rows of a raw `db.execute()` result. Both drivers answer `{ rows }` (node-postgres
 * QueryResult, PGlite Results); the shared Db type cannot say so.
 */
export function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}
