import { index, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/** API keys are stored only as SHA-256 hex; the plaintext is shown once, at creation. */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    keyHash: text("key_hash").notNull(),
    /** First characters of the key (`sk_live_AbCd`), so an operator can tell keys apart. */
    keyPrefix: text("key_prefix").notNull(),
    /** Optional label the account gives the key (`POST /v1/keys`); null for older keys. */
    name: text("name"),
    /** Last four characters of the key, for display; null for keys created before it was stored. */
    lastFour: text("last_four"),
    createdAt: text("created_at").notNull(),
    /** Set when revoked; a revoked key never authenticates again. */
    revokedAt: text("revoked_at"),
  },
  (t) => [
    // Serves authentication: every account request looks its key up by hash.
    uniqueIndex("api_keys_key_hash_uq").on(t.keyHash),
    // Serves listing and revoking an account's keys.
    index("api_keys_account_idx").on(t.accountId),
  ],
);

export type ApiKeyRow = typeof apiKeys.$inferSelect;
