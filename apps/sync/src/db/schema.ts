import type { ConsentAction, ConsentEvent, ConsentSource, Evidence, Scope } from "@optout/core";
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

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
    /** The event's position in its account's chain, for events sealed with one; null for older events. */
    accountSeq: seq(),
    /**
     * The event exactly as the edge sealed it, set only when the columns above cannot hold it:
     * text with U+0000 or an unpaired UTF-16 surrogate, which `text` and `jsonb` refuse (those
     * columns then hold U+FFFD in its place), or a field they have no place for (see
     * db/storable.ts). `json`, unlike `jsonb`, keeps any `\uXXXX` escape verbatim. Read it as
     * text: PostgreSQL's json operators that turn a string into text fail on `\u0000`.
     */
    exactEvent: json().$type<ConsentEvent>(),
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

/**
 * The outbox: blocklist changes made in the primary database, waiting to be pushed to the edge.
 * The operator's systems INSERT rows (or run `optout-sync block|unblock`); the daemon sends
 * unsent rows in `id` order to `POST /v1/sync/apply` with `changeId` as the change id, and sets
 * `sent_at`/`edge_seq` only after the edge acknowledged them. The edge records each as a
 * `primary` ledger event whose evidence carries the change id, so when it comes back through the
 * feed the daemon recognizes its own change (`applied_seq`) and applies it like any other event —
 * `blocklist_entries` changes then, from the feed, so both stores follow one ordering rule.
 * Rows are never deleted by the daemon; prune sent ones as you see fit.
 */
export const outbox = optout.table(
  "outbox",
  {
    /** Insertion order; rows are pushed in this order. */
    id: bigserial({ mode: "number" }).primaryKey(),
    /** The change id the edge is idempotent by: a resend after a crash is recorded once. */
    changeId: uuid().notNull().default(sql`gen_random_uuid()`),
    accountId: text().notNull(),
    /** As given; the edge normalizes it (E.164 with the account's default region, lower-cased email). */
    address: text().notNull(),
    channel: text().notNull().default("*"),
    scope: jsonb().$type<Scope>().notNull().default(sql`'{"type":"account"}'::jsonb`),
    action: text().$type<ConsentAction>().notNull(),
    occurredAt: instant().notNull().defaultNow(),
    reason: text(),
    createdAt: instant().notNull().defaultNow(),
    /** When the edge acknowledged the change (null: not yet). */
    sentAt: instant(),
    /** The seq the edge recorded it at. */
    edgeSeq: seq(),
    /** Set when the change came back through the feed and was applied here. */
    appliedSeq: seq(),
    /** Push attempts that reached the edge or failed on this row. */
    attempts: integer().notNull().default(0),
    lastError: text(),
    /** Set when the edge (or the daemon's own validation) refused the row for good; it is skipped. */
    rejectedAt: instant(),
  },
  (t) => [
    uniqueIndex("outbox_change_id_idx").on(t.changeId),
    // The push loop's query: the oldest unsent, unrejected rows.
    index("outbox_pending_idx").on(t.id).where(sql`sent_at is null and rejected_at is null`),
    check("outbox_action_check", sql`action in ('opt_out', 'opt_in')`),
  ],
);

export type LedgerEventRow = typeof ledgerEvents.$inferSelect;
export type NewLedgerEventRow = typeof ledgerEvents.$inferInsert;
export type BlocklistEntryRow = typeof blocklistEntries.$inferSelect;
export type NewBlocklistEntryRow = typeof blocklistEntries.$inferInsert;
export type SyncCursorRow = typeof syncCursors.$inferSelect;
export type ChainHeadRow = typeof chainHeads.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type NewOutboxRow = typeof outbox.$inferInsert;
