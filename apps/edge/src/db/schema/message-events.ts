import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Message events, idempotent by (account, message id, type): a repeat changes nothing, except
 * that the earlier occurredAt of two reports is kept (core `keepsEarlier`), so the order in which
 * reports arrive never changes the outcome.
 */
export const messageEvents = sqliteTable(
  "message_events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    messageId: text("message_id").notNull(),
    type: text("type", {
      enum: ["sent", "delivered", "opened", "clicked", "replied", "bounced", "complained"],
    }).notNull(),
    /** Canonical instant (core `canonicalInstant`): text order is time order. */
    occurredAt: text("occurred_at").notNull(),
    /** When the edge first recorded it. */
    recordedAt: text("recorded_at").notNull(),
    origin: text("origin", { enum: ["api", "keyword", "link", "provider"] }).notNull(),
    /** The keyword an inbound reply matched, when it came from an SMS provider. */
    keyword: text("keyword"),
  },
  (t) => [
    // Serves idempotency (the upsert's conflict target), the duplicate lookup of POST /v1/events,
    // and the cron's "earliest open/click of this message" and "the sent event" reads.
    uniqueIndex("message_events_account_message_type_uq").on(t.accountId, t.messageId, t.type),
    // Serves the retention sweep (oldest first). Rows arrive in time order, so it only grows at
    // its right edge.
    index("message_events_recorded_idx").on(t.recordedAt),
  ],
);

export type MessageEventRow = typeof messageEvents.$inferSelect;
