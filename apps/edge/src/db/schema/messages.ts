import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * One row per (account, message id) seen in message events: what the message was. Message ids
 * are the account's own (or its provider's), so two accounts may use the same id without
 * meeting: nothing is keyed by a message id alone. Later events of the message must agree with
 * its address, sender and channel.
 */
export const messages = sqliteTable(
  "messages",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    messageId: text("message_id").notNull(),
    /** Normalized (E.164 or lower-cased email). */
    address: text("address").notNull(),
    /** Null only for messages the edge learned of itself (a link minted without a sender). */
    sender: text("sender"),
    /** A send channel; `*` only for a link minted for every channel. */
    channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
    campaign: text("campaign"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // Serves every lookup of a message (always within its account) and the upsert's conflict target.
    primaryKey({ name: "messages_pk", columns: [t.accountId, t.messageId] }),
    // Serves the retention sweep (oldest first).
    index("messages_created_idx").on(t.createdAt),
  ],
);

export type MessageRow = typeof messages.$inferSelect;
