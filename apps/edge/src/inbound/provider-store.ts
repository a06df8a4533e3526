/**
 * Provider credentials in D1, and the one read an inbound webhook makes before it can verify:
 * the account, its credential for the provider and its keyword settings, in one query.
 */
import type { ConfiguredProvider, InboundProvider, ProviderConfigInput, SendCredentials } from "@optout/core";
import type { Db } from "../db/client.ts";
import type { ProviderCredentialsRow } from "../db/schema/index.ts";
import { sql } from "../db/sql.ts";
import { type KeywordState, type KeywordStateColumns, keywordStateFrom } from "./keyword-store.ts";

export type ProviderOptions = ProviderConfigInput["options"];

/** A configured provider as the API shows it: never the secret, the verify token or send credentials. */
export interface ProviderView {
  provider: ConfiguredProvider;
  options: ProviderOptions;
  /** Send credentials are stored: confirmations go out through the provider's send API. */
  sendConfigured: boolean;
  createdAt: string;
  updatedAt: string;
}

export async function writeProviderCredentials(
  db: Db,
  accountId: string,
  provider: ConfiguredProvider,
  input: ProviderConfigInput,
): Promise<ProviderView> {
  // Amazon SES has no shared secret (SNS messages are checked against Amazon's certificate).
  const secret = input.secret ?? "";
  const now = new Date().toISOString();
  const options = JSON.stringify(input.options);
  // Replaced whole, like the secret: a PUT without `send` stops confirmations through the send API.
  const sendSecret = input.send ? JSON.stringify(input.send) : null;
  // A replaced credential keeps its created_at: RETURNING reads the stored one.
  const row = await db.get<{ createdAt: string }>(sql`
    INSERT INTO provider_credentials (account_id, provider, secret, options, send_secret, created_at, updated_at)
    VALUES (${accountId}, ${provider}, ${secret}, ${options}, ${sendSecret}, ${now}, ${now})
    ON CONFLICT (account_id, provider) DO UPDATE SET secret = excluded.secret, options = excluded.options,
      send_secret = excluded.send_secret, updated_at = excluded.updated_at
    RETURNING created_at AS createdAt`);
  return {
    provider,
    options: publicOptions(input.options),
    sendConfigured: sendSecret !== null,
    createdAt: row?.createdAt ?? now,
    updatedAt: now,
  };
}

export async function listProviders(db: Db, accountId: string): Promise<ProviderView[]> {
  const rows = await db.all<
    Pick<ProviderCredentialsRow, "provider" | "options" | "sendSecret" | "createdAt" | "updatedAt">
  >(sql`
    SELECT provider, options, send_secret AS sendSecret, created_at AS createdAt, updated_at AS updatedAt
    FROM provider_credentials WHERE account_id = ${accountId}
    ORDER BY provider ASC`);
  return rows.map(({ sendSecret, ...r }) => ({
    ...r,
    options: publicOptions(JSON.parse(r.options) as ProviderOptions),
    sendConfigured: sendSecret !== null,
  }));
}

/** False if the provider was not configured. */
export async function deleteProviderCredentials(
  db: Db,
  accountId: string,
  provider: ConfiguredProvider,
): Promise<boolean> {
  const deleted = await db.all(sql`
    DELETE FROM provider_credentials WHERE account_id = ${accountId} AND provider = ${provider}
    RETURNING provider`);
  return deleted.length > 0;
}

/** The options as the API shows them: WhatsApp's verify token is a credential, never returned. */
function publicOptions(options: ProviderOptions): ProviderOptions {
  const { verifyToken: _, ...shown } = options;
  return shown;
}

export interface WebhookTarget {
  account: { id: string; name: string; defaultRegion: string | null };
  /** Null when the account has not configured this provider. */
  credentials: { secret: string; options: ProviderOptions; sendConfigured: boolean } | null;
  keywords: KeywordState;
}

/** Null when no account has this id. */
export async function readWebhookTarget(
  d1: D1Database,
  accountId: string,
  provider: InboundProvider,
): Promise<WebhookTarget | null> {
  const row = await d1
    .prepare(
      `SELECT a.id AS id, a.name AS name, a.default_region AS defaultRegion,
        p.secret AS secret, p.options AS options, p.send_secret IS NOT NULL AS sendConfigured,
        s.default_level AS defaultLevel, s.languages AS languages, s.support_contact AS supportContact,
        s.disabled_defaults AS disabledDefaults, s.rules_version AS rulesVersion
      FROM accounts a
      LEFT JOIN provider_credentials p ON p.account_id = a.id AND p.provider = ?2
      LEFT JOIN keyword_settings s ON s.account_id = a.id
      WHERE a.id = ?1`,
    )
    .bind(accountId, provider)
    .first<
      {
        id: string;
        name: string;
        defaultRegion: string | null;
        secret: string | null;
        options: string | null;
        sendConfigured: number | null;
      } & KeywordStateColumns
    >();
  if (!row) return null;
  return {
    account: { id: row.id, name: row.name, defaultRegion: row.defaultRegion },
    credentials:
      row.secret === null
        ? null
        : {
            secret: row.secret,
            options: JSON.parse(row.options ?? "{}") as ProviderOptions,
            sendConfigured: Boolean(row.sendConfigured),
          },
    keywords: keywordStateFrom(row),
  };
}

/** The send credentials stored for (account, provider), read when a confirmation is sent; null if none. */
export async function readSendCredentials(
  d1: D1Database,
  accountId: string,
  provider: string,
): Promise<SendCredentials | null> {
  const row = await d1
    .prepare(
      "SELECT send_secret AS sendSecret FROM provider_credentials WHERE account_id = ?1 AND provider = ?2",
    )
    .bind(accountId, provider)
    .first<{ sendSecret: string | null }>();
  return row?.sendSecret ? (JSON.parse(row.sendSecret) as SendCredentials) : null;
}
