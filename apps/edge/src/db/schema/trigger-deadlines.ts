import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * `not_opened` deadlines waiting for the Cron Trigger (docs/adr/0006). A row is `pending` until
 * due, `claimed` by one cron run while it is being settled (until `claimed_until`, after which
 * another run may take it over), then settled for good: `fired`, `cancelled` (an open or click
 * before the deadline) or `skipped` (the rule was deleted or disabled meanwhile).
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
    // Serves the cron's takeover of claims whose run died (lease expired).
    index("trigger_deadlines_claimed_lease_idx").on(t.claimedUntil).where(sql`status = 'claimed'`),
  ],
);

export type TriggerDeadlineRow = typeof triggerDeadlines.$inferSelect;
