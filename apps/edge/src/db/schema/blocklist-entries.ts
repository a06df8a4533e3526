import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * The current state of each blocklist entry: a materialized view of the ledger. Invariant: a
 * row equals the winning ledger event (core `supersedes`) of its (account, address, channel,
 * scope), and is written in the same D1 batch as that event.
 */
export const blocklistEntries = sqliteTable(
  "blocklist_entries",
  {
    /** Row id; also the opaque pagination cursor of GET /v1/blocklist. */
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    address: text("address").notNull(),
    channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
    /** core `scopeKey`: `account` or `sender:<sender>`. */
    scopeKey: text("scope_key").notNull(),
    /** 1 while the winning event is an opt_out; 0 after an opt_in (kept as history). */
    active: integer("active", { mode: "boolean" }).notNull(),
    source: text("source", {
      enum: ["keyword", "link", "trigger", "api", "import", "primary", "provider"],
    }).notNull(),
    reason: text("reason"),
    /** occurredAt and seq of the winning event. */
    occurredAt: text("occurred_at").notNull(),
    seq: integer("seq").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // Serves the upsert's conflict target, the append's state read, and per-address checks
    // (its (account_id, address) prefix).
    uniqueIndex("blocklist_entries_identity_uq").on(t.accountId, t.address, t.channel, t.scopeKey),
    // Serves GET /v1/blocklist: an account's active entries in id (cursor) order.
    index("blocklist_entries_account_active_id_idx").on(t.accountId, t.active, t.id),
  ],
);

export type BlocklistEntryRow = typeof blocklistEntries.$inferSelect;
