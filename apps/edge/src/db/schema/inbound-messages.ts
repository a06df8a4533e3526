import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Every inbound message (MO) the edge accepted, once: the dedupe record of provider retries, the
 * review queue, and the link from a message to the ledger events it caused. Written in the same
 * D1 batch as those events, so a message is either recorded with all its effects or not at all.
 */
export const inboundMessages = sqliteTable(
  "inbound_messages",
  {
    /** Row id; also the opaque cursor of GET /v1/review. */
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    provider: text("provider").notNull(),
    providerMessageId: text("provider_message_id").notNull(),
    /** The end user, normalized (E.164). */
    address: text("address").notNull(),
    /** The account's number or ID the message was sent to, as the provider reported it. */
    sender: text("sender").notNull(),
    action: text("action", { enum: ["opt_out", "opt_in", "help", "none"] }).notNull(),
    ruleId: text("rule_id"),
    keyword: text("keyword"),
    language: text("language"),
    /** 1: a longer message merely contains an opt-out keyword; a person should decide. */
    review: integer("review", { mode: "boolean" }).notNull(),
    /** The message text, kept only when `review` (it is read by a person); else null. */
    text: text("text"),
    /** JSON array of the ledger seqs this message appended (`[]` when it changed nothing). */
    seqs: text("seqs").notNull(),
    receivedAt: text("received_at").notNull(),
    recordedAt: text("recorded_at").notNull(),
    /**
     * Always 1. A second delivery's insert turns into `SET deliveries = 2` (ON CONFLICT) and
     * fails this CHECK, which fails its whole batch — ledger events included — with an error the
     * webhook recognises as "already recorded". A UNIQUE violation would not do: the ledger append
     * takes those for lost races and retries them.
     */
    deliveries: integer("deliveries").notNull().default(1),
    /** A review item's decision (`POST /v1/review/{id}`), once: null while undecided (migration 0009). */
    decision: text("decision", { enum: ["opt_out", "dismiss"] }),
    decidedAt: text("decided_at"),
  },
  (t) => [
    // Serves dedupe of provider retries: one row per provider message id and account.
    uniqueIndex("inbound_messages_account_provider_message_uq").on(
      t.accountId,
      t.provider,
      t.providerMessageId,
    ),
    // Serves GET /v1/review: an account's flagged messages in id (cursor) order.
    index("inbound_messages_account_review_id_idx").on(t.accountId, t.review, t.id),
    // Serves GET /v1/review?state=pending and its overdue count: the account's undecided items.
    index("inbound_messages_account_pending_review_idx")
      .on(t.accountId, t.id)
      .where(sql`${t.review} = 1 AND ${t.decision} IS NULL`),
    check("inbound_messages_recorded_once", sql`${t.deliveries} = 1`),
  ],
);

export type InboundMessageRow = typeof inboundMessages.$inferSelect;
