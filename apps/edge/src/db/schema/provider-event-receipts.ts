import { index, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * What a provider's event webhook (`POST /events/{provider}/{accountId}`) already did, so that a
 * redelivery has no second effect. Two kinds of row, both written by the account's writer in the
 * batch that holds their effects:
 *  - an opt-out's receipt (`receipt_id` = the provider's event id, `fingerprint` null): the
 *    opt-out is applied once, even if the address was opted back in since;
 *  - a Mailgun signature token (`receipt_id` = `token:<token>`, `fingerprint` = hex SHA-256 of the
 *    body it came with): Mailgun's HMAC covers only timestamp and token, so the same token with
 *    another body is a replay and is refused.
 * Rows outlive every provider's retries (SNS 1 h, Mailgun 8 h, SendGrid 72 h) and are swept with
 * the message events after RETENTION_DAYS.
 */
export const providerEventReceipts = sqliteTable(
  "provider_event_receipts",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    provider: text("provider").notNull(),
    receiptId: text("receipt_id").notNull(),
    fingerprint: text("fingerprint"),
    recordedAt: text("recorded_at").notNull(),
  },
  (t) => [
    // Serves the writer's dedupe lookups and makes a second insert of a receipt fail its batch.
    primaryKey({ name: "provider_event_receipts_pk", columns: [t.accountId, t.provider, t.receiptId] }),
    // Serves the cron's retention sweep (oldest first).
    index("provider_event_receipts_recorded_idx").on(t.recordedAt),
  ],
);

export type ProviderEventReceiptRow = typeof providerEventReceipts.$inferSelect;
