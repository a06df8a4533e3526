import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Confirmations owed through a provider's send API (Vonage, Telnyx, Infobip, Sinch, Bandwidth,
 * Bird), recorded in the same D1 batch as the change they confirm, then delivered by the account's
 * writer after the commit (its alarm and the cron retry). At most once per change: a row is
 * inserted only with the inbound message (or review decision) that caused it, which is itself
 * recorded once, and `subject` is unique; a row is claimed (`sending`) in D1 before each attempt,
 * and one found still `sending` after a crash is never tried again (`unknown`): a second
 * confirmation is the worse failure (docs/adr/0007).
 */
export const outboundConfirmations = sqliteTable(
  "outbound_confirmations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    provider: text("provider").notNull(),
    /** What it confirms: `inbound:<provider>:<provider message id>` or `review:<inbound id>`. */
    subject: text("subject").notNull(),
    /** The end user (E.164). */
    address: text("address").notNull(),
    /** The account's number the message was sent to: the confirmation's sender. */
    sender: text("sender").notNull(),
    text: text("text").notNull(),
    /**
     * `pending` (to try at `next_attempt_at`), `sending` (an attempt is in flight), `sent`,
     * `failed` (refused, or out of attempts) or `unknown` (an attempt's outcome was lost).
     */
    state: text("state", { enum: ["pending", "sending", "sent", "failed", "unknown"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: text("next_attempt_at").notNull(),
    /** Why the last attempt did not send: an HTTP status or a provider code, never a secret. */
    lastError: text("last_error"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // Serves at-most-once: one confirmation per confirmed thing.
    uniqueIndex("outbound_confirmations_account_subject_uq").on(t.accountId, t.subject),
    // Serves a writer's "what is due" (pending by time) and its alarm's "what was left sending".
    index("outbound_confirmations_open_idx")
      .on(t.accountId, t.nextAttemptAt)
      .where(sql`${t.state} IN ('pending', 'sending')`),
    // Serves the cron's backstop across accounts (rows left open too long), and the retention sweep.
    index("outbound_confirmations_updated_idx").on(t.updatedAt),
  ],
);

export type OutboundConfirmationRow = typeof outboundConfirmations.$inferSelect;
