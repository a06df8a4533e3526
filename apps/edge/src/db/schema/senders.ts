import { primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * The account's registered senders (long codes, short codes, alphanumeric IDs, email addresses,
 * WhatsApp numbers), exactly as they appear in its events and checks. A rule may only name a
 * registered sender, so a typo in a sender-scoped rule is an error instead of a rule that never fires.
 */
export const senders = sqliteTable(
  "senders",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    sender: text("sender").notNull(),
    createdAt: text("created_at").notNull(),
  },
  // Serves "is this sender registered" (rule creation) and listing an account's senders in order.
  (t) => [primaryKey({ name: "senders_pk", columns: [t.accountId, t.sender] })],
);

export type SenderRow = typeof senders.$inferSelect;
