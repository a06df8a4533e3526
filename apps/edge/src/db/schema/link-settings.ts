import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** Per-account settings of links and the unsubscribe page; no row = core DEFAULT_LINK_SETTINGS. */
export const linkSettings = sqliteTable("link_settings", {
  /** Serves reading one account's settings when minting and when resolving a link. */
  accountId: text("account_id")
    .primaryKey()
    .references(() => accounts.id),
  /** Shown on the page instead of the account's name. */
  brandName: text("brand_name"),
  offerBothScopes: integer("offer_both_scopes", { mode: "boolean" }).notNull(),
  defaultLocale: text("default_locale", { enum: ["en", "es", "fr", "de", "pt", "it"] }).notNull(),
  codeLength: integer("code_length").notNull(),
  updatedAt: text("updated_at").notNull(),
});

export type LinkSettingsRow = typeof linkSettings.$inferSelect;
