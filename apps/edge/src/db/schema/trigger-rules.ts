import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** Trigger rules (core `TriggerRule`). Deleting one sets `deleted_at`: ledger evidence keeps naming it. */
export const triggerRules = sqliteTable(
  "trigger_rules",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    /** core `TriggerOn` as JSON. */
    on: text("trigger_on").notNull(),
    channel: text("channel", { enum: ["sms", "whatsapp", "email", "voice", "*"] }).notNull(),
    /** core `scopeKey`: `account` or `sender:<sender>`. */
    scopeKey: text("scope_key").notNull(),
    campaign: text("campaign"),
    enabled: integer("enabled", { mode: "boolean" }).notNull(),
    createdAt: text("created_at").notNull(),
    deletedAt: text("deleted_at"),
  },
  (t) => [
    // Serves loading an account's live rules on every POST /v1/events, and GET /v1/triggers.
    index("trigger_rules_account_idx").on(t.accountId, t.deletedAt),
  ],
);

export type TriggerRuleRow = typeof triggerRules.$inferSelect;
