import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * An account's own keyword rules (`POST /v1/keyword-rules`). They are tried before the default
 * packs, in creation order. Deleting removes the row; the ledger events a rule caused keep its id
 * in their evidence.
 */
export const keywordRules = sqliteTable(
  "keyword_rules",
  {
    /** `kwr_...`, assigned by the edge; never `default-...` (the default rules' ids). */
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    /** JSON: the parsed core `KeywordRule` without its id (defaults filled in). */
    definition: text("definition").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    // Serves loading an account's rules in the order they are tried (creation, then id).
    index("keyword_rules_account_created_idx").on(t.accountId, t.createdAt, t.id),
  ],
);

export type KeywordRuleRow = typeof keywordRules.$inferSelect;
