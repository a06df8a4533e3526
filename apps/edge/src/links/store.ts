/**
 * Links in D1 (the truth) and KV (the cache of link resolution for `GET /u/{code}`).
 * A link's KV view holds what the page needs to render — the link, the brand and the page
 * settings — keyed by the code's hash, so neither store ever holds a usable code.
 */
import {
  type Channel,
  DEFAULT_LINK_SETTINGS,
  type LinkSettings,
  type PageLocale,
  parseScopeKey,
  type Scope,
} from "@optout/core";
import type { Db, Stored } from "../db/client.ts";
import type { LinkRow, LinkSettingsRow } from "../db/schema/index.ts";
import { type Query, sql } from "../db/sql.ts";
import { errorName, log } from "../lib/log.ts";

export interface LinkView {
  codeHash: string;
  accountId: string;
  address: string;
  channel: Channel;
  scope: Scope;
  sender: string | null;
  campaign: string | null;
  messageId: string | null;
  expiresAt: string | null;
  /** The account's brand name (its name unless a setting overrides it). */
  brand: string;
  offerBothScopes: boolean;
  defaultLocale: PageLocale;
  optedOutAt: string | null;
  optOutSeq: number | null;
  optOutScope: Scope | null;
  undoneAt: string | null;
}

/**
 * A brand rename or a settings change reaches cached links within this bound; a link's own
 * state is rewritten in KV after every change it makes, and every POST reads D1.
 */
export const LINK_KV_TTL_SECONDS = 3600;
export const kvLinkKey = (codeHash: string) => `l:${codeHash}`;

/** The link straight from D1 (strongly consistent); null if no link has this code. */
export async function readLinkFromD1(db: Db, codeHash: string): Promise<LinkView | null> {
  // The settings columns are null when the account has no link_settings row (the LEFT JOIN).
  const row = await db.get<
    LinkRow & {
      accountName: string;
      brandName: string | null;
      offerBothScopes: number | null;
      defaultLocale: LinkSettingsRow["defaultLocale"] | null;
    }
  >(sql`
    SELECT l.code_hash AS codeHash, l.account_id AS accountId, l.address AS address, l.channel AS channel,
      l.scope_key AS scopeKey, l.sender AS sender, l.campaign AS campaign, l.message_id AS messageId,
      l.expires_at AS expiresAt, l.created_at AS createdAt, l.opted_out_at AS optedOutAt,
      l.opt_out_seq AS optOutSeq, l.opt_out_scope_key AS optOutScopeKey, l.undone_at AS undoneAt,
      a.name AS accountName, s.brand_name AS brandName, s.offer_both_scopes AS offerBothScopes,
      s.default_locale AS defaultLocale
    FROM links l
    INNER JOIN accounts a ON a.id = l.account_id
    LEFT JOIN link_settings s ON s.account_id = l.account_id
    WHERE l.code_hash = ${codeHash}
    LIMIT 1`);
  if (!row) return null;
  return {
    codeHash: row.codeHash,
    accountId: row.accountId,
    address: row.address,
    channel: row.channel,
    scope: parseScopeKey(row.scopeKey),
    sender: row.sender,
    campaign: row.campaign,
    messageId: row.messageId,
    expiresAt: row.expiresAt,
    brand: row.brandName ?? row.accountName,
    offerBothScopes:
      row.offerBothScopes === null ? DEFAULT_LINK_SETTINGS.offerBothScopes : Boolean(row.offerBothScopes),
    defaultLocale: row.defaultLocale ?? DEFAULT_LINK_SETTINGS.defaultLocale,
    optedOutAt: row.optedOutAt,
    optOutSeq: row.optOutSeq,
    optOutScope: row.optOutScopeKey ? parseScopeKey(row.optOutScopeKey) : null,
    undoneAt: row.undoneAt,
  };
}

/**
 * KV first, D1 on a miss (then cached). Unknown codes are not cached: a guesser would only fill
 * KV with misses, and the rate limit already bounds how often they reach D1.
 */
export async function resolveLink(db: Db, kv: KVNamespace, codeHash: string): Promise<LinkView | null> {
  try {
    const cached = await kv.get<LinkView>(kvLinkKey(codeHash), "json");
    if (cached?.codeHash === codeHash) return cached;
  } catch (err) {
    log.warn("kv_read_failed", { keys: 1, error: errorName(err) });
  }
  const link = await readLinkFromD1(db, codeHash);
  if (link) await cacheLink(kv, link);
  return link;
}

/** Writes the link's view to KV; failures are logged and swallowed (D1 holds the truth). */
export async function cacheLink(kv: KVNamespace, link: LinkView): Promise<void> {
  try {
    await kv.put(kvLinkKey(link.codeHash), JSON.stringify(link), { expirationTtl: LINK_KV_TTL_SECONDS });
  } catch (err) {
    log.warn("kv_write_failed", { accountId: link.accountId, error: errorName(err) });
  }
}

export type NewLinkRow = Omit<LinkRow, "optedOutAt" | "optOutSeq" | "optOutScopeKey" | "undoneAt">;

// D1 allows 100 bound parameters per statement: rows travel as JSON chunks through json_each,
// ~250 rows (≤ 350 KB) per chunk, all chunks in one batch so a batch of links is all-or-nothing.
const INSERT_CHUNK = 250;

export async function insertLinks(db: Db, rows: readonly NewLinkRow[]): Promise<void> {
  const column = (name: keyof NewLinkRow) => `json_extract(value, '$.${name}')`;
  const insert = sql.raw(`
    INSERT INTO links (code_hash, account_id, address, channel, scope_key, sender, campaign, message_id,
      expires_at, created_at)
    SELECT ${column("codeHash")}, ${column("accountId")}, ${column("address")}, ${column("channel")},
      ${column("scopeKey")}, ${column("sender")}, ${column("campaign")}, ${column("messageId")},
      ${column("expiresAt")}, ${column("createdAt")}`);
  const inserts: Query[] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    inserts.push(sql`${insert} FROM json_each(${JSON.stringify(rows.slice(i, i + INSERT_CHUNK))})`);
  }
  if (inserts.length > 0) await db.batch(inserts);
}

export async function readLinkSettings(db: Db, accountId: string): Promise<LinkSettings> {
  const row = await db.get<Stored<Omit<LinkSettingsRow, "accountId" | "updatedAt">>>(sql`
    SELECT brand_name AS brandName, offer_both_scopes AS offerBothScopes, default_locale AS defaultLocale,
      code_length AS codeLength
    FROM link_settings WHERE account_id = ${accountId}
    LIMIT 1`);
  if (!row) return DEFAULT_LINK_SETTINGS;
  return {
    brandName: row.brandName,
    offerBothScopes: Boolean(row.offerBothScopes),
    defaultLocale: row.defaultLocale,
    codeLength: row.codeLength,
  };
}

export async function writeLinkSettings(db: Db, accountId: string, settings: LinkSettings, at: string) {
  const { brandName, offerBothScopes, defaultLocale, codeLength } = settings;
  await db.run(sql`
    INSERT INTO link_settings (account_id, brand_name, offer_both_scopes, default_locale, code_length, updated_at)
    VALUES (${accountId}, ${brandName}, ${offerBothScopes}, ${defaultLocale}, ${codeLength}, ${at})
    ON CONFLICT (account_id) DO UPDATE SET brand_name = excluded.brand_name,
      offer_both_scopes = excluded.offer_both_scopes, default_locale = excluded.default_locale,
      code_length = excluded.code_length, updated_at = excluded.updated_at`);
}
