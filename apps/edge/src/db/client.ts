import type { Query } from "./sql.ts";

/**
 * D1, spoken to in SQL (`src/db/sql.ts`): the routes and the writer write the statements they run,
 * and read rows under the names their `SELECT` gives them (`account_id AS accountId`). SQLite has
 * no booleans: a flag column reads as 0 or 1, and the row mappers say `Boolean(...)`.
 *
 * The tables are declared with drizzle in `schema/` for drizzle-kit, which generates the
 * migrations; the Worker imports only their types, so drizzle-orm is not in its bundle.
 */
/** A row as D1 returns it: drizzle's row type with its boolean columns read as 0 or 1. */
export type Stored<Row> = { [K in keyof Row]: Row[K] extends boolean ? number : Row[K] };

export class Db {
  constructor(readonly d1: D1Database) {}

  /** A prepared statement, for `batch` or for the writer's own batches. */
  statement(query: Query): D1PreparedStatement {
    return this.d1.prepare(query.text).bind(...query.params);
  }

  async all<T>(query: Query): Promise<T[]> {
    return (await this.statement(query).all<T>()).results;
  }

  async get<T>(query: Query): Promise<T | undefined> {
    return (await this.statement(query).first<T>()) ?? undefined;
  }

  /** A write; `meta.changes` says how many rows it changed. */
  run(query: Query): Promise<D1Result> {
    return this.statement(query).run();
  }

  /** Several statements in one transaction (D1's batch): all commit, or none. */
  batch<T = Record<string, unknown>>(queries: readonly Query[]): Promise<D1Result<T>[]> {
    return this.d1.batch<T>(queries.map((q) => this.statement(q)));
  }
}

// One per binding, for the isolate's life: it holds nothing but the binding.
const clients = new WeakMap<D1Database, Db>();

export function createDb(d1: D1Database): Db {
  let db = clients.get(d1);
  if (!db) {
    db = new Db(d1);
    clients.set(d1, db);
  }
  return db;
}
