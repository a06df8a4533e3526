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
import { eq, getTableColumns } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { accounts, type LinkRow, linkSettings, links } from "../db/schema/index.ts";
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
  const [row] = await db
    .select({
      ...getTableColumns(links),
      accountName: accounts.name,
      brandName: linkSettings.brandName,
      offerBothScopes: linkSettings.offerBothScopes,
      defaultLocale: linkSettings.defaultLocale,
    })
    .from(links)
    .innerJoin(accounts, eq(accounts.id, links.accountId))
    .leftJoin(linkSettings, eq(linkSettings.accountId, links.accountId))
    .where(eq(links.codeHash, codeHash))
    .limit(1);
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
    offerBothScopes: row.offerBothScopes ?? DEFAULT_LINK_SETTINGS.offerBothScopes,
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
  const d1 = db.$client;
  const column = (name: keyof NewLinkRow) => `json_extract(value, '$.${name}')`;
  const insert = d1.prepare(`
    INSERT INTO links (code_hash, account_id, address, channel, scope_key, sender, campaign, message_id,
      expires_at, created_at)
    SELECT ${column("codeHash")}, ${column("accountId")}, ${column("address")}, ${column("channel")},
      ${column("scopeKey")}, ${column("sender")}, ${column("campaign")}, ${column("messageId")},
      ${column("expiresAt")}, ${column("createdAt")}
    FROM json_each(?1)`);
  const statements: D1PreparedStatement[] = [];
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    statements.push(insert.bind(JSON.stringify(rows.slice(i, i + INSERT_CHUNK))));
  }
  // drizzle's batch() cannot run raw SQL statements with parameters; D1's own batch can.
  if (statements.length > 0) await d1.batch(statements);
}

/**
 * Records that this link's opt-out is the ledger event `seq` (and clears an earlier undo). As a
 * statement, so the opt-out can pass it to the ledger append's own batch (`alsoWrite`).
 */
export function linkOptOutStatement(
  d1: D1Database,
  codeHash: string,
  optOut: { at: string; seq: number; scopeKey: string },
): D1PreparedStatement {
  return d1
    .prepare(
      "UPDATE links SET opted_out_at = ?1, opt_out_seq = ?2, opt_out_scope_key = ?3, undone_at = NULL WHERE code_hash = ?4",
    )
    .bind(optOut.at, optOut.seq, optOut.scopeKey, codeHash);
}

export function linkUndoStatement(d1: D1Database, codeHash: string, at: string): D1PreparedStatement {
  return d1.prepare("UPDATE links SET undone_at = ?1 WHERE code_hash = ?2").bind(at, codeHash);
}

export async function readLinkSettings(db: Db, accountId: string): Promise<LinkSettings> {
  const [row] = await db.select().from(linkSettings).where(eq(linkSettings.accountId, accountId)).limit(1);
  if (!row) return DEFAULT_LINK_SETTINGS;
  return {
    brandName: row.brandName,
    offerBothScopes: row.offerBothScopes,
    defaultLocale: row.defaultLocale,
    codeLength: row.codeLength,
  };
}

export async function writeLinkSettings(db: Db, accountId: string, settings: LinkSettings, at: string) {
  const values = { accountId, ...settings, updatedAt: at };
  await db
    .insert(linkSettings)
    .values(values)
    .onConflictDoUpdate({ target: linkSettings.accountId, set: values });
}
