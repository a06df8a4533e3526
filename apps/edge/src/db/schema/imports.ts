import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * Blocklist imports (`POST /v1/blocklist/import`), one per (account, file digest): how far the
 * file has been read and what became of its rows. `rows_done` moves only in the batch that
 * commits those rows' ledger events (the account's writer guards it), so a re-post or a resume
 * skips exactly the rows already recorded: no row is applied twice (docs/adr/0011).
 */
export const imports = sqliteTable(
  "imports",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    /** SHA-256 (hex) of the file's bytes, as the client declared it (X-Import-Digest). */
    digest: text("digest").notNull(),
    format: text("format", { enum: ["csv", "ndjson"] }).notNull(),
    status: text("status", { enum: ["in_progress", "complete"] }).notNull(),
    /** Data rows (1-based, the header not counted) read and committed or refused, from the first. */
    rowsDone: integer("rows_done").notNull().default(0),
    /**
     * What rows 1…rows_done were (a hash chain over blocks of rows): a resume checks that its body
     * starts with the same rows before it skips them. Empty before any row.
     */
    prefixDigest: text("prefix_digest").notNull().default(""),
    imported: integer("imported").notNull().default(0),
    unchanged: integer("unchanged").notNull().default(0),
    superseded: integer("superseded").notNull().default(0),
    refused: integer("refused").notNull().default(0),
    /** JSON `[{ row, reason }]`, the first refusals only (see MAX_LISTED_REFUSALS). */
    refusals: text("refusals").notNull().default("[]"),
    /** JSON array of header cells that name no field. */
    ignoredColumns: text("ignored_columns").notNull().default("[]"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    completedAt: text("completed_at"),
  },
  // The primary key serves every read and the writer's guard: one import by (account, digest).
  (t) => [primaryKey({ columns: [t.accountId, t.digest] })],
);

export type BlocklistImportRow = typeof imports.$inferSelect;
