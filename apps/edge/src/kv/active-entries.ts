import type { ActiveEntry } from "@optout/core";
import type { Db, Stored } from "../db/client.ts";
import { activeEntryFromRow, ENTRY_COLUMNS } from "../db/rows.ts";
import type { BlocklistEntryRow } from "../db/schema/index.ts";
import { sql } from "../db/sql.ts";
import { errorName, log } from "../lib/log.ts";

/**
 * KV is a materialized view of D1 for the hot check path: per (account, address), the JSON array
 * of the address's ACTIVE entries (`[]` = nothing blocks, cached like any other answer).
 * D1 is the truth; KV is written after D1 commits and is always repairable from it.
 */
export const kvKey = (accountId: string, address: string) => `e:${accountId}:${address}`;

/**
 * How long a value the account's writer put stays: the writer writes every change in commit
 * order and retries until KV takes it (kv_outbox), so its values are the truth as of their commit.
 */
export const WRITER_KV_TTL_SECONDS = 24 * 3600;

/**
 * How long a value the check path filled on a miss stays: it read D1 at some moment, and a change
 * may have committed (and the writer put its value) before this put landed. KV's minimum TTL, so
 * such a stale value lasts no longer than KV's own propagation.
 */
export const CHECK_FILL_TTL_SECONDS = 60;

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
  const rows = await db.all<Stored<BlocklistEntryRow>>(sql`
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
 * Fills KV on a check's miss, with the short TTL of a value that may already be stale; failures
 * are logged and swallowed (D1 holds the truth). One put per address, at most 500 per request.
 */
export async function fillKvFromCheck(
  kv: KVNamespace,
  accountId: string,
  entries: ReadonlyMap<string, ActiveEntry[]>,
): Promise<void> {
  const puts = [...entries].map(async ([address, active]) => {
    try {
      await kv.put(kvKey(accountId, address), JSON.stringify(active), {
        expirationTtl: CHECK_FILL_TTL_SECONDS,
      });
    } catch (err) {
      log.warn("kv_write_failed", { accountId, error: errorName(err) });
    }
  });
  await Promise.all(puts);
}
