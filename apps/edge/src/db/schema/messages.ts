import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * One row per message id seen in message events: who owns it and what it was. The first event
 * of a message id claims it for its account; another account's events for it are refused. Later
 * events of the message must agree with its address, sender and channel.
 */
export const messages = sqliteTable("messages", {
  /** Serves the ownership check of POST /v1/events and every lookup of a message by id. */
  messageId: text("message_id").primaryKey(),
  accountId: text("account_id")
    .notNull()
    .references(() => accounts.id),
  /** Normalized (E.164 or lower-cased email). */
  address: text("address").notNull(),
  /** Null only for messages the edge learned of itself (a link minted without a sender). */
  sender: text("sender"),
  /** A send channel; `*` only for a link minted for every channel. */
  channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
  campaign: text("campaign"),
  createdAt: text("created_at").notNull(),
});

export type MessageRow = typeof messages.$inferSelect;
