import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** Per-account keyword settings; no row = core DEFAULT_KEYWORD_SETTINGS, version 0. */
export const keywordSettings = sqliteTable("keyword_settings", {
  /** Serves reading one account's settings on every inbound webhook and rule change. */
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id),
  defaultLevel: text("default_level", { enum: ["account", "sender"] }).notNull(),
  /** JSON array of pack languages in order of preference; null = every pack. */
  languages: text("languages"),
  /** Named in HELP replies. */
  supportContact: text("support_contact"),
  /** JSON array of the ids of default rules the account disabled. */
  disabledDefaults: text("disabled_defaults").notNull(),
  /**
   * Bumped (in the same batch) by every change to the settings or the account's rules: isolates
   * cache the decoded effective rules per (account, version).
   */
  rulesVersion: integer("rules_version").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export type KeywordSettingsRow = typeof keywordSettings.$inferSelect;
