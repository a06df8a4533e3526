import type { ConsentAction, ConsentSource, Evidence, Scope } from "@optout/core";
import { bigint, boolean, index, jsonb, pgSchema, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

/**
 * Everything the daemon owns lives in one PostgreSQL schema, so it never collides with the
 * operator's own tables and can be dropped as a unit. Column names are written in camelCase
 * here and become snake_case in SQL (`casing: "snake_case"`, set in db/casing.ts).
 */
export const optout = pgSchema("optout");

const instant = () => timestamp({ withTimezone: true, mode: "string" });
// Ledger positions stay far below 2^53, so JavaScript numbers are exact.
const seq = () => bigint({ mode: "number" });

/**
 * The edge's ledger, copied verbatim: one row per consent event, keyed by the feed position.
 * With `prevHash`/`hash` stored, any account's chain can be re-verified from this table alone.
 */
export const ledgerEvents = optout.table(
  "ledger_events",
  {
    seq: seq().primaryKey(),
    id: text().notNull(),
    accountId: text().notNull(),
    address: text().notNull(),
    channel: text().notNull(),
    /** The scope exactly as hashed; `scopeKey` is its indexable string form (`account`, `sender:<s>`). */
    scope: jsonb().$type<Scope>().notNull(),
    scopeKey: text().notNull(),
    action: text().$type<ConsentAction>().notNull(),
    source: text().$type<ConsentSource>().notNull(),
    occurredAt: instant().notNull(),
    recordedAt: instant().notNull(),
    evidence: jsonb().$type<Evidence>().notNull(),
    prevHash: text().notNull(),
    hash: text().notNull(),
  },
  (t) => [
    // Evidence and audit: one address's history within an account, in ledger order.
    index("ledger_events_account_address_idx").on(t.accountId, t.address, t.seq),
    // Re-verifying one account's chain walks its events in seq order.
    index("ledger_events_account_seq_idx").on(t.accountId, t.seq),
    // Recognizing a change by its id (e.g. one this daemon pushed to the edge).
    index("ledger_events_id_idx").on(t.id),
  ],
);

/**
 * The blocklist as the edge sees it: per entry identity, the state set by the winning event
 * (latest `occurredAt`, ties by higher `seq`). Inactive rows are kept: they record an opt-in.
 */
export const blocklistEntries = optout.table(
  "blocklist_entries",
  {
    accountId: text().notNull(),
    address: text().notNull(),
    channel: text().notNull(),
    scopeKey: text().notNull(),
    active: boolean().notNull(),
    source: text().$type<ConsentSource>().notNull(),
    reason: text(),
    /** occurredAt and seq of the winning event: the pair every later event is compared with. */
    occurredAt: instant().notNull(),
    seq: seq().notNull(),
    updatedAt: instant().notNull().defaultNow(),
  },
  (t) => [
    primaryKey({
      name: "blocklist_entries_pkey",
      columns: [t.accountId, t.address, t.channel, t.scopeKey],
    }),
  ],
);

/**
 * Where each feed consumer stands. `lastSeq` moves only in the transaction that applied the
 * events up to it, so the cursor and the rows can never disagree.
 */
export const syncCursors = optout.table("sync_cursor", {
  name: text().primaryKey(),
  lastSeq: seq().notNull().default(0),
  updatedAt: instant().notNull().defaultNow(),
});

/**
 * The last event applied per account, so a new batch's hash chain is verified from where the
 * previous one ended instead of re-reading the account's whole ledger.
 */
export const chainHeads = optout.table("chain_heads", {
  accountId: text().primaryKey(),
  lastSeq: seq().notNull(),
  hash: text().notNull(),
  updatedAt: instant().notNull().defaultNow(),
});

export type LedgerEventRow = typeof ledgerEvents.$inferSelect;
export type NewLedgerEventRow = typeof ledgerEvents.$inferInsert;
export type BlocklistEntryRow = typeof blocklistEntries.$inferSelect;
export type NewBlocklistEntryRow = typeof blocklistEntries.$inferInsert;
export type SyncCursorRow = typeof syncCursors.$inferSelect;
export type ChainHeadRow = typeof chainHeads.$inferSelect;
