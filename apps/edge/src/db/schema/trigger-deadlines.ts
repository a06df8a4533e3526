import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * `not_opened` deadlines (docs/adr/0006). A row is `pending` until due, then settled for good by
 * its account's writer, in the commit that records what settling it did: `fired`, `cancelled`
 * (an open or click before the deadline) or `skipped` (the rule was deleted or disabled
 * meanwhile). Settled rows are swept after the retention period. (`claimed`, `claim_id` and
 * `claimed_until` belong to the cron's claims before writers settled deadlines; unused now.)
 */
export const triggerDeadlines = sqliteTable(
  "trigger_deadlines",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    ruleId: text("rule_id").notNull(),
    messageId: text("message_id").notNull(),
    /** Canonical instant: the `sent`/`delivered` event's occurredAt + withinSeconds. */
    dueAt: text("due_at").notNull(),
    status: text("status", { enum: ["pending", "claimed", "fired", "cancelled", "skipped"] }).notNull(),
    claimId: text("claim_id"),
    claimedUntil: text("claimed_until"),
    /** Why it was settled this way: opened, clicked, rule_deleted, rule_disabled, already_fired. */
    settledReason: text("settled_reason"),
    settledAt: text("settled_at"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // Serves scheduling: one deadline per (rule, message), upserted when its event is (re)reported.
    uniqueIndex("trigger_deadlines_rule_message_uq").on(t.ruleId, t.messageId),
    // Serves the cron's fair claim: which accounts have pending deadlines (a skip scan over
    // account_id), each one's earliest due, and each one's due deadlines in due order. Partial,
    // so settled rows (the vast majority over time) cost it nothing; no request path reads it.
    index("trigger_deadlines_pending_account_due_idx")
      .on(t.accountId, t.dueAt)
      .where(sql`status = 'pending'`),
    // Serves the retention sweep of settled deadlines (oldest first); pending ones are never in it.
    index("trigger_deadlines_settled_idx").on(t.settledAt).where(sql`settled_at IS NOT NULL`),
  ],
);

export type TriggerDeadlineRow = typeof triggerDeadlines.$inferSelect;
