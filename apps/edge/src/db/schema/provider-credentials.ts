import { primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { accounts } from "./accounts.ts";

/**
 * The credential that verifies one provider's webhooks (SMS inbound and status, email events) for one account (`PUT
 * /v1/providers/{provider}`). The secret is stored as given — a webhook must be checked with it,
 * so it cannot be hashed — and is never returned by any route or written to any log.
 */
export const providerCredentials = sqliteTable(
  "provider_credentials",
  {
    accountId: text("account_id")
      .notNull()
      .references(() => accounts.id),
    provider: text("provider", {
      enum: [
        "twilio",
        "vonage",
        "plivo",
        "telnyx",
        "infobip",
        "sinch",
        "bandwidth",
        "messagebird",
        "whatsapp",
        "generic",
        // Email providers' event webhooks (`POST /events/{provider}/{accountId}`).
        "sendgrid",
        "ses",
        "mailgun",
        "postmark",
        "resend",
      ],
    }).notNull(),
    secret: text("secret").notNull(),
    /** JSON object: core `ProviderCredentialsInput["options"]` (e.g. Vonage's `algorithm`). */
    options: text("options").notNull(),
    /**
     * JSON object: core `SendCredentials`, what the provider's send API takes to send confirmations
     * (migration 0009); null when none were given. A secret like `secret`: never returned, never logged.
     */
    sendSecret: text("send_secret"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  // Serves each webhook's lookup of (account, provider) and the account's listing (its prefix).
  (t) => [primaryKey({ name: "provider_credentials_pk", columns: [t.accountId, t.provider] })],
);

export type ProviderCredentialsRow = typeof providerCredentials.$inferSelect;
