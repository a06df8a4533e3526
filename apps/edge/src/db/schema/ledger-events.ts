import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * The ledger: append-only consent events, hash-chained per account. Rows are never updated
 * or deleted. `seq` is global and gap-free (the change feed's cursor), assigned by SQLite inside
 * the committing transaction; `account_seq` is the event's position in its account's chain,
 * assigned by the account's single writer (docs/adr/0010). Events from before writers have none.
 */
export const ledgerEvents = sqliteTable(
  "ledger_events",
  {
    /**
     * The rowid: an insert without it gets max(seq) + 1 inside the committing transaction, so feed
     * positions follow commit order with no gap and no race between writers.
     */
    seq: integer("seq").primaryKey(),
    /** 1, 2, 3... per account; null for events sealed before accounts had a single writer. */
    accountSeq: integer("account_seq"),
    id: text("id").notNull(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    address: text("address").notNull(),
    channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
    scopeKey: text("scope_key").notNull(),
    action: text("action", { enum: ["opt_out", "opt_in"] }).notNull(),
    source: text("source", {
      enum: ["keyword", "link", "trigger", "api", "import", "primary", "provider"],
    }).notNull(),
    occurredAt: text("occurred_at").notNull(),
    recordedAt: text("recorded_at").notNull(),
    /** JSON object: provider message id, link code, rule id, API request id, reason, ... */
    evidence: text("evidence").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [
    // Serves lookups of one event by id and keeps ids unique across the feed.
    uniqueIndex("ledger_events_id_uq").on(t.id),
    // Keeps an account's chain positions unique: a second writer (an old deployment's, say)
    // appending at the same position fails its whole batch instead of forking the chain.
    uniqueIndex("ledger_events_account_account_seq_uq").on(t.accountId, t.accountSeq),
    // Serves safe concurrent appends: two writers that read the same chain head both try to
    // link to it, and only one batch can commit (the other fails whole and retries).
    uniqueIndex("ledger_events_account_prev_hash_uq").on(t.accountId, t.prevHash),
    // Serves reading an account's chain head (last seq) and its whole chain for verification.
    index("ledger_events_account_seq_idx").on(t.accountId, t.seq),
    // Serves GET /v1/evidence: one address's events in seq order.
    index("ledger_events_account_address_seq_idx").on(t.accountId, t.address, t.seq),
  ],
);

export type LedgerEventRow = typeof ledgerEvents.$inferSelect;
