import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const accounts = sqliteTable("accounts", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** ISO 3166-1 alpha-2 region used to read national-format phone numbers; null = E.164 only. */
  defaultRegion: text("default_region"),
  /** Which kind of API keys the account gets: `sk_live_` or `sk_test_`. */
  keyMode: text("key_mode", { enum: ["live", "test"] }).notNull(),
  /**
   * Hash of the account's last ledger event (GENESIS_HASH before the first). Written in the
   * same batch as every event, so it always equals the chain head; the chain itself is the truth.
   */
  ledgerHeadHash: text("ledger_head_hash").notNull(),
  /**
   * Bumped by every change to the account's trigger rules, in the same statement: the account's
   * writer caches the rules and checks, inside each commit, that this has not moved.
   */
  triggerRulesVersion: integer("trigger_rules_version").notNull().default(0),
  createdAt: text("created_at").notNull(),
});

export type AccountRow = typeof accounts.$inferSelect;
