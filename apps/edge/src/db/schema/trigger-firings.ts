import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Each rule fires at most once per message. A firing row is written in the same D1 batch as the
 * `opt_out` ledger event it caused, so the two exist together or not at all, and the primary key
 * makes a second firing's batch fail as a whole.
 */
export const triggerFirings = sqliteTable(
  "trigger_firings",
  {
    ruleId: text("rule_id").notNull(),
    messageId: text("message_id").notNull(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    /** The ledger event appended; or, when the entry was already active, the seq of the one in force. */
    seq: integer("seq").notNull(),
    /** false: the address was already blocked there, so nothing was appended. */
    appended: integer("appended", { mode: "boolean" }).notNull(),
    /** The opt-out's occurredAt (the event's, or the deadline). */
    occurredAt: text("occurred_at").notNull(),
    firedAt: text("fired_at").notNull(),
  },
  // Serves "has this rule fired for this message" before every firing, and enforces it.
  (t) => [primaryKey({ name: "trigger_firings_pk", columns: [t.ruleId, t.messageId] })],
);

export type TriggerFiringRow = typeof triggerFirings.$inferSelect;
