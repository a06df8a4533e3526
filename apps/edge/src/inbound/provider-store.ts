/**
 * Provider credentials in D1, and the one read an inbound webhook makes before it can verify:
 * the account, its credential for the provider and its keyword settings, in one query.
 */
import type { InboundProvider, ProviderCredentialsInput } from "@optout/core";
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { providerCredentials } from "../db/schema/index.ts";
import { type KeywordState, type KeywordStateColumns, keywordStateFrom } from "./keyword-store.ts";

export type ProviderOptions = ProviderCredentialsInput["options"];

/** A configured provider as the API shows it: never the secret. */
export interface ProviderView {
  provider: InboundProvider;
  options: ProviderOptions;
  createdAt: string;
  updatedAt: string;
}

export async function writeProviderCredentials(
  db: Db,
  accountId: string,
  provider: InboundProvider,
  input: ProviderCredentialsInput,
): Promise<ProviderView> {
  const now = new Date().toISOString();
  const options = JSON.stringify(input.options);
  const [row] = await db
    .insert(providerCredentials)
    .values({ accountId, provider, secret: input.secret, options, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [providerCredentials.accountId, providerCredentials.provider],
      set: { secret: input.secret, options, updatedAt: now },
    })
    .returning({ createdAt: providerCredentials.createdAt });
  return { provider, options: input.options, createdAt: row?.createdAt ?? now, updatedAt: now };
}

export async function listProviders(db: Db, accountId: string): Promise<ProviderView[]> {
  const rows = await db
    .select({
      provider: providerCredentials.provider,
      options: providerCredentials.options,
      createdAt: providerCredentials.createdAt,
      updatedAt: providerCredentials.updatedAt,
    })
    .from(providerCredentials)
    .where(eq(providerCredentials.accountId, accountId))
    .orderBy(asc(providerCredentials.provider));
  return rows.map((r) => ({ ...r, options: JSON.parse(r.options) as ProviderOptions }));
}

/** False if the provider was not configured. */
export async function deleteProviderCredentials(
  db: Db,
  accountId: string,
  provider: InboundProvider,
): Promise<boolean> {
  const deleted = await db
    .delete(providerCredentials)
    .where(and(eq(providerCredentials.accountId, accountId), eq(providerCredentials.provider, provider)))
    .returning({ provider: providerCredentials.provider });
  return deleted.length > 0;
}

export interface WebhookTarget {
  account: { id: string; name: string; defaultRegion: string | null };
  /** Null when the account has not configured this provider. */
  credentials: { secret: string; options: ProviderOptions } | null;
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
        p.secret AS secret, p.options AS options,
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
      } & KeywordStateColumns
    >();
  if (!row) return null;
  return {
    account: { id: row.id, name: row.name, defaultRegion: row.defaultRegion },
    credentials:
      row.secret === null
        ? null
        : { secret: row.secret, options: JSON.parse(row.options ?? "{}") as ProviderOptions },
    keywords: keywordStateFrom(row),
  };
}
