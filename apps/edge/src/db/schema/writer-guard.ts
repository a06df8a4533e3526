import { sql } from "drizzle-orm";
import { check, integer, sqliteTable } from "drizzle-orm/sqlite-core";

/**
 * Never holds a row. An account's writer plans a commit from what it knows of the account (its
 * cache, or "absent" for what it has never seen) and puts, first in the commit's batch, inserts
 * of `ok = 0` selected only where that knowledge is wrong (someone else wrote). The CHECK then
 * fails the whole batch, and the writer re-reads and plans again (docs/adr/0010).
 */
export const writerGuard = sqliteTable("writer_guard", { ok: integer("ok").notNull() }, () => [
  check("writer_assumption_failed", sql`ok = 1`),
]);
