import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Minted opt-out links. The code itself is never stored: only its SHA-256 (core `hashLinkCode`),
 * so a copy of this table cannot opt anyone out. The blocklist entry and its ledger event are the
 * truth about the address; the opt-out columns here are the link's own bookkeeping (which event it
 * caused, for the 24-hour undo), written in the same D1 batch as that event.
 */
export const links = sqliteTable("links", {
  /** Serves resolving `/u/{code}`: the only way a link is ever read. */
  codeHash: text("code_hash").primaryKey(),
  accountId: text("account_id")
    .notNull()
    .references(() => accounts.id),
  /** Normalized (E.164 or lower-cased email). */
  address: text("address").notNull(),
  channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
  /** core `scopeKey` of the link's scope: what a one-click POST opts out of. */
  scopeKey: text("scope_key").notNull(),
  /** The sender the message went out from, when known. */
  sender: text("sender"),
  campaign: text("campaign"),
  messageId: text("message_id"),
  /** After this instant the link answers 410; null = never expires. */
  expiresAt: text("expires_at"),
  createdAt: text("created_at").notNull(),
  /** When this link last opted the address out, and the seq and scope of that ledger event. */
  optedOutAt: text("opted_out_at"),
  optOutSeq: integer("opt_out_seq"),
  optOutScopeKey: text("opt_out_scope_key"),
  /** Set when that opt-out was undone from the page; cleared by the next opt-out. */
  undoneAt: text("undone_at"),
});

export type LinkRow = typeof links.$inferSelect;
