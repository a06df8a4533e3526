import type { ActiveEntry } from "@optout/core";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { activeEntryFromRow, ENTRY_COLUMNS } from "../db/rows.ts";
import type { BlocklistEntryRow } from "../db/schema/index.ts";
import { errorName, log } from "../lib/log.ts";

/**
 * KV is a materialized view of D1 for the hot check path: per (account, address), the JSON array
 * of the address's ACTIVE entries (`[]` = nothing blocks, cached like any other answer).
 * D1 is the truth; KV is written after D1 commits and is always repairable from it.
 */
export const kvKey = (accountId: string, address: string) => `e:${accountId}:${address}`;

/**
 * Values expire so that a lost write (a failed put, or two writers racing on one address and the
 * older read landing last) heals by itself within this bound; the next miss re-reads D1.
 */
export const KV_TTL_SECONDS = 3600;

// KV's bulk get takes at most 100 keys.
const KV_BULK = 100;

/** The active entries of several addresses of one account, straight from D1 (strongly consistent). */
export async function readActiveFromD1(
  db: Db,
  accountId: string,
  addresses: readonly string[],
): Promise<Map<string, ActiveEntry[]>> {
  const out = new Map<string, ActiveEntry[]>(addresses.map((a) => [a, []]));
  if (addresses.length === 0) return out;
  // json_each keeps this one query with two bound parameters, whatever the number of addresses
  // (D1 allows 100 bound parameters per statement).
  const rows = await db.all<BlocklistEntryRow>(sql`
    SELECT ${sql.raw(ENTRY_COLUMNS)} FROM blocklist_entries e
    WHERE e.account_id = ${accountId} AND e.active = 1
      AND e.address IN (SELECT value FROM json_each(${JSON.stringify([...new Set(addresses)])}))
    ORDER BY e.seq`);
  for (const row of rows) out.get(row.address)?.push(activeEntryFromRow(row));
  return out;
}

/** KV's view: entries per address, or `undefined` where KV has no value (miss or unreadable). */
export async function readActiveFromKv(
  kv: KVNamespace,
  accountId: string,
  addresses: readonly string[],
): Promise<Map<string, ActiveEntry[] | undefined>> {
  const out = new Map<string, ActiveEntry[] | undefined>();
  const unique = [...new Set(addresses)];
  const chunks: string[][] = [];
  for (let i = 0; i < unique.length; i += KV_BULK) chunks.push(unique.slice(i, i + KV_BULK));
  await Promise.all(
    chunks.map(async (chunk) => {
      try {
        const values = await kv.get(
          chunk.map((a) => kvKey(accountId, a)),
          "json",
        );
        for (const address of chunk) {
          const value = values.get(kvKey(accountId, address));
          out.set(address, Array.isArray(value) ? (value as ActiveEntry[]) : undefined);
        }
      } catch (err) {
        // KV trouble degrades to D1 reads, never to a wrong answer.
        log.warn("kv_read_failed", { keys: chunk.length, error: errorName(err) });
      }
    }),
  );
  return out;
}

/**
 * Writes KV values; failures are logged and swallowed (D1 already holds the truth). One put per
 * address: a write request touches at most 1000 addresses (the largest batch), within the 1000 KV
 * operations a Worker invocation may do.
 */
export async function writeActiveToKv(
  kv: KVNamespace,
  accountId: string,
  entries: ReadonlyMap<string, ActiveEntry[]>,
): Promise<void> {
  const puts = [...entries].map(async ([address, active]) => {
    try {
      await kv.put(kvKey(accountId, address), JSON.stringify(active), { expirationTtl: KV_TTL_SECONDS });
    } catch (err) {
      log.warn("kv_write_failed", { accountId, error: errorName(err) });
    }
  });
  await Promise.all(puts);
}
