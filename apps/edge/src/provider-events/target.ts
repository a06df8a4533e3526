/** The one read an events webhook makes before it can verify: the account and its credential. */
import type { EventsUrlProvider } from "@optout/core";
import type { ProviderOptions } from "../inbound/provider-store.ts";

export interface EventsTarget {
  account: { id: string; defaultRegion: string | null };
  /** Null when the account has not configured this provider. */
  credentials: { secret: string; options: ProviderOptions } | null;
}

/** Null when no account has this id. */
export async function readEventsTarget(
  d1: D1Database,
  accountId: string,
  provider: EventsUrlProvider,
): Promise<EventsTarget | null> {
  const row = await d1
    .prepare(
      `SELECT a.id AS id, a.default_region AS defaultRegion, p.secret AS secret, p.options AS options
      FROM accounts a LEFT JOIN provider_credentials p ON p.account_id = a.id AND p.provider = ?2
      WHERE a.id = ?1`,
    )
    .bind(accountId, provider)
    .first<{ id: string; defaultRegion: string | null; secret: string | null; options: string | null }>();
  if (!row) return null;
  return {
    account: { id: row.id, defaultRegion: row.defaultRegion },
    credentials:
      row.secret === null
        ? null
        : { secret: row.secret, options: JSON.parse(row.options ?? "{}") as ProviderOptions },
  };
}
