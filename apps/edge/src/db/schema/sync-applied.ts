import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Change ids from the primary database already applied by POST /v1/sync/apply, written in the
 * same batch as their ledger event. A replayed id answers with what it got the first time.
 */
export const syncApplied = sqliteTable("sync_applied", {
  changeId: text("change_id").primaryKey(),
  /** The ledger seq the change was recorded at. */
  seq: integer("seq").notNull(),
  /** Whether the change became the entry's state (false: older than the state it met). */
  applied: integer("applied", { mode: "boolean" }).notNull(),
  recordedAt: text("recorded_at").notNull(),
});

export type SyncAppliedRow = typeof syncApplied.$inferSelect;
