import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * KV writes owed by a commit, written in the same D1 batch as the change: KV (the check and link
 * caches) is brought up to date from here, in commit order, by the account's writer right after
 * it commits, and by its alarm or the cron if it could not (a crash, a failed put). A row is
 * deleted once its key was written. So no failure leaves KV stale for longer than the retry.
 */
export const kvOutbox = sqliteTable(
  "kv_outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: text("account_id").notNull(),
    /** `entries`: an address's active entries; `link`: a link's page view. */
    kind: text("kind", { enum: ["entries", "link"] }).notNull(),
    /** The address, or the link's code hash. */
    subject: text("subject").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [
    // Serves a writer's (or its alarm's) "what do I still owe KV" for its account, oldest first.
    index("kv_outbox_account_id_idx").on(t.accountId, t.id),
    // Serves the cron's backstop: rows a writer has left for too long, across accounts.
    index("kv_outbox_created_idx").on(t.createdAt),
  ],
);
